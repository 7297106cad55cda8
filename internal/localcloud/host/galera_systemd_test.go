package host

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSystemdHostsFormGaleraCluster proves the galera image has what a
// cluster needs, driven the way an operator (and the guest library's
// systemd path) does it: Galera configured, galera_new_cluster on the
// first node, `systemctl start mariadb` on the others, which join by
// mariabackup SST; then the bootstrap node is rebooted through a clean
// shutdown and rejoins through its enabled unit.
func TestSystemdHostsFormGaleraCluster(t *testing.T) {
	img := galeraImage(t)
	n := newTestNetwork(t)
	key := newTestKey(t)
	ctx := t.Context()
	t0 := time.Now()
	hosts := make([]*Host, 3)
	errs := make(chan error, 3)
	for i := range hosts {
		go func() {
			var err error
			hosts[i], err = n.StartHost(ctx, Options{Name: fmt.Sprintf("gal-%d", i), AuthorizedKeys: []string{key.line}, Image: img.Root})
			errs <- err
		}()
	}
	for range hosts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("3 hosts booted: %v", time.Since(t0).Round(time.Millisecond))
	var members []string
	for _, h := range hosts {
		members = append(members, h.Addr().String())
	}
	for _, h := range hosts {
		cnf := fmt.Sprintf(`[galera]
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = systemd-test
wsrep_cluster_address = gcomm://%s
wsrep_node_address = %s
wsrep_sst_method = mariabackup
wsrep_sst_auth = sst:sst-secret
binlog_format = row
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
bind_address = 0.0.0.0
`, strings.Join(members, ","), h.Addr())
		mustSSH(t, h, key, "cat > /etc/mysql/mariadb.conf.d/99-galera.cnf <<'EOF'\n"+cnf+"EOF\nsystemctl enable mariadb")
	}
	t1 := time.Now()
	mustSSH(t, hosts[0], key, "galera_new_cluster && mariadb -e \"CREATE USER sst@localhost IDENTIFIED BY 'sst-secret'; GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO sst@localhost; CREATE DATABASE probe\"")
	t.Logf("galera_new_cluster: %v", time.Since(t1).Round(time.Millisecond))
	for _, h := range hosts[1:] {
		t2 := time.Now()
		mustSSH(t, h, key, "systemctl start mariadb")
		t.Logf("%s joined by SST: %v", h.Name(), time.Since(t2).Round(time.Millisecond))
	}
	status := func(h *Host) string {
		return strings.Join(strings.Fields(mustSSH(t, h, key, "mariadb -N -e \"SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('wsrep_cluster_size','wsrep_local_state_comment') ORDER BY VARIABLE_NAME\"")), " ")
	}
	for _, h := range hosts {
		if got := status(h); got != "3 Synced" {
			t.Fatalf("%s: cluster size and state %q, want 3 Synced", h.Name(), got)
		}
	}
	if got := strings.TrimSpace(mustSSH(t, hosts[2], key, "mariadb -N -e \"SHOW DATABASES LIKE 'probe'\"")); got != "probe" {
		t.Errorf("a database made before the join is missing on %s: %q", hosts[2].Name(), got)
	}

	// A clean reboot of the bootstrap node: its enabled unit starts
	// mariadb at boot and it rejoins the two others.
	t3 := time.Now()
	if err := hosts[0].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := hosts[0].PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	mustSSH(t, hosts[0], key, "timeout 120 systemctl is-system-running --wait >/dev/null; systemctl is-active mariadb")
	if got := status(hosts[0]); got != "3 Synced" {
		t.Fatalf("%s after reboot: %q, want 3 Synced", hosts[0].Name(), got)
	}
	t.Logf("reboot and rejoin: %v", time.Since(t3).Round(time.Millisecond))
}
