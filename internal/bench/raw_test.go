package bench

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// rawBound is the raw lower bound of a cluster create: what Galera needs on
// the local cloud's hosts, driven by hand over SSH, not by the guest
// library's sequence. Its parts:
//
//   - hosts: the three hosts booted side by side with their data disks
//     attached (what the local cloud's Nova does for a server), of the
//     cloud's kind (rawHostKind): on a systemd cloud the quickstart's image
//     booted with systemd and cloud-init up to sshd answering with the host
//     key cloud-init made, as Nova's servers boot until ACTIVE;
//   - prepare: every host at once: mkfs and mount of the data disk, one
//     option file (and, for the quickstart's encryption, the node's
//     certificate, key and CA, made beforehand), the datadir initialised;
//   - bootstrap: node 1 started with --wsrep-new-cluster (mariadbd itself,
//     no wrapper) until Synced;
//   - each join: the next node started, with rsync (the fastest SST for an
//     empty datadir), until Synced, one at a time.
//
// The server is mariadbd itself on both kinds. On systemd the image's
// mariadb.service would first run galera_recovery (ExecStartPre: a whole
// --wsrep-recover start and stop of the server, to find a crashed node's
// position), and galera_new_cluster is that unit with --wsrep-new-cluster
// in its environment: an empty datadir has no position to recover, so
// Galera needs neither, and a unit is the provider's choice (a rebooted
// server rejoins by itself), not Galera's need.
//
// Encrypted (rawTLS), the bound is of the quickstart's configuration:
// the quickstart leaves tls at its default, so its replication runs over
// TLS (socket.ssl_*) and every SST over stunnel, which Galera then needs on
// these hosts as much as the data itself. Plain, it is Galera without
// encryption, printed beside for comparison.
//
// Every wait polls on the host itself every 100 ms. Nothing else is done:
// no accounts, no health responder, no gate, no restart.
type rawBound struct {
	hosts, prepare, bootstrap time.Duration
	joins                     []time.Duration
	total                     time.Duration
}

func (r rawBound) String() string {
	var joins []string
	for _, j := range r.joins {
		joins = append(joins, j.Round(100*time.Millisecond).String())
	}
	return fmt.Sprintf("hosts %s, prepare %s, bootstrap %s, joins %s",
		r.hosts.Round(100*time.Millisecond), r.prepare.Round(100*time.Millisecond),
		r.bootstrap.Round(100*time.Millisecond), strings.Join(joins, " + "))
}

// rawNodeConfig is the least a MariaDB Galera node needs, with the
// quickstart's settings (buffer pool, failure detection, durability). The
// failure detection is the provider's whole setting: with evs.suspect_timeout
// come the 100 ms membership periods (guest.providerOptions), which also
// pace a join's view change; without them a join here took 4-5 s longer
// than the provider's, and the bound was no bound.
//
// With tls, the node encrypts as the quickstart's nodes do (the settings
// guest.renderTLS and guest.renderSSTTLS write for MariaDB with rsync).
func rawNodeConfig(name, addr string, members []string, tls bool) string {
	providerTLS, mysqldTLS, sstTLS := "", "", ""
	if tls {
		providerTLS = ";socket.ssl_ca=" + guest.TLSCAFile + ";socket.ssl_cert=" + guest.TLSCertFile + ";socket.ssl_key=" + guest.TLSKeyFile
		mysqldTLS = fmt.Sprintf("ssl_ca = %s\nssl_cert = %s\nssl_key = %s\n", guest.TLSCAFile, guest.TLSCertFile, guest.TLSKeyFile)
		sstTLS = fmt.Sprintf("[sst]\nssl-mode = VERIFY_CA\ntca = %s\ntcert = %s\ntkey = %s\n", guest.TLSCAFile, guest.TLSCertFile, guest.TLSKeyFile)
	}
	return fmt.Sprintf(`[mysqld]
datadir = /var/lib/mysql
log_error = /var/log/mysql/error.log
bind-address = 0.0.0.0
skip_name_resolve = ON
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_flush_log_at_trx_commit = 1
sync_binlog = 1
innodb_buffer_pool_size = 64M
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_provider_options = "evs.suspect_timeout=PT3S;evs.inactive_check_period=PT0.1S;evs.join_retrans_period=PT0.1S;evs.keepalive_period=PT0.1S%s"
wsrep_cluster_name = raw
wsrep_cluster_address = gcomm://%s
wsrep_node_name = %s
wsrep_node_address = %s
wsrep_sst_method = rsync
%s%s`, providerTLS, strings.Join(members, ","), name, addr, mysqldTLS, sstTLS)
}

// rawTLSFiles are one host's certificate, key and CA, made for the raw
// bound before its clock starts (the provider makes them in Go as well).
type rawTLSFiles struct{ ca, cert, key string }

// newRawTLSFiles issues a certificate per address from a new CA.
func newRawTLSFiles(t *testing.T, addrs []string) []rawTLSFiles {
	t.Helper()
	caPEM, caKey, err := cluster.NewCA("raw", 0)
	must(t, err)
	ca, err := cluster.ParseCA(caPEM, caKey)
	must(t, err)
	files := make([]rawTLSFiles, len(addrs))
	for i, a := range addrs {
		cert, key, err := ca.IssueServer(fmt.Sprintf("raw-%d", i+1), cluster.ServerNames{IPs: []net.IP{net.ParseIP(a)}}, 0)
		must(t, err)
		files[i] = rawTLSFiles{ca: caPEM, cert: cert, key: key}
	}
	return files
}

// script installs the files as the guest library does (root's directory,
// the files the server's, 0600).
func (f rawTLSFiles) script() string {
	var b strings.Builder
	fmt.Fprintf(&b, "install -d -o root -g root -m 0755 %s\n", guest.TLSDir)
	for _, file := range []struct{ path, content string }{{guest.TLSCAFile, f.ca}, {guest.TLSCertFile, f.cert}, {guest.TLSKeyFile, f.key}} {
		fmt.Fprintf(&b, "install -o mysql -m 0600 /dev/null %[1]s\ncat > %[1]s <<'EOF'\n%[2]sEOF\n", file.path, file.content)
	}
	return b.String()
}

// rawLowerBound measures rawBound on hosts of its own, of the given kind,
// encrypted as the quickstart when tls is set.
func rawLowerBound(ctx context.Context, t *testing.T, kind rawHostKind, tls bool) rawBound {
	t.Helper()
	network, err := host.NewNetwork(ctx, host.NetworkOptions{Prefix: "pxcb", StateDir: t.TempDir()})
	must(t, err)
	defer network.Close()
	signer, pub := newKey(t)
	const n = 3
	hosts := make([]*host.Host, n)
	disks := make([]*host.Disk, n)
	errs := make([]error, n)
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	defer func() {
		for _, d := range disks {
			if d != nil {
				d.Close()
			}
		}
	}()

	opts := make([]host.Options, n)
	for i := range opts {
		opts[i] = kind.options(t, fmt.Sprintf("raw-%d", i+1), pub)
	}
	var r rawBound
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := network.StartHost(ctx, opts[i])
			if err != nil {
				errs[i] = err
				return
			}
			hosts[i] = h
			if disks[i], err = host.NewDisk(ctx, dirs[i], 1<<30); err != nil {
				errs[i] = err
				return
			}
			errs[i] = h.AttachDisk(ctx, disks[i], fmt.Sprintf("rawvolume%d", i+1))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	r.hosts = time.Since(start)

	var members []string
	for _, h := range hosts {
		members = append(members, h.Addr().String())
	}
	tlsFiles := make([]rawTLSFiles, n)
	tlsSetup := func(int) string { return "" }
	if tls {
		tlsFiles = newRawTLSFiles(t, members)
		tlsSetup = func(i int) string { return tlsFiles[i].script() }
	}
	clients := make([]*guest.SSHClient, n)
	t0 := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hosts[i]
			cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: h.Addr().String(), Signer: signer, HostKeys: []ssh.PublicKey{h.HostKey()}}, nil)
			if err != nil {
				errs[i] = err
				return
			}
			clients[i] = cl
			script := fmt.Sprintf(`set -e
dev=$(readlink -f /dev/disk/by-id/virtio-rawvolume%d)
mkfs.ext4 -q "$dev"
mount -t ext4 "$dev" /var/lib/mysql
rmdir /var/lib/mysql/lost+found
chown mysql:mysql /var/lib/mysql
install -d -o mysql -g adm -m 2750 /var/log/mysql
install -d -o mysql -g root -m 755 /run/mysqld
%scat > /etc/mysql/mariadb.conf.d/99-raw.cnf <<'EOF'
%sEOF
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null 2>&1`, i+1, tlsSetup(i), rawNodeConfig(h.Name(), h.Addr().String(), members, tls))
			_, errs[i] = cl.Run(ctx, script, nil)
		}()
	}
	wg.Wait()
	defer func() {
		for _, cl := range clients {
			if cl != nil {
				cl.Close()
			}
		}
	}()
	for _, err := range errs {
		must(t, err)
	}
	r.prepare = time.Since(t0)

	for i, cl := range clients {
		t0 := time.Now()
		flag := ""
		if i == 0 {
			flag = " --wsrep-new-cluster"
		}
		_, err := cl.Run(ctx, "setsid /usr/sbin/mariadbd --user=mysql"+flag+" </dev/null >/dev/null 2>&1 &", nil)
		must(t, err)
		_, err = cl.Run(ctx, `for i in $(seq 1 3000); do
  [ "$(mariadb -N -B -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2)" = Synced ] && exit 0
  sleep 0.1
done
echo "not Synced within 300s" >&2; tail -n 20 /var/log/mysql/error.log >&2; exit 1`, nil)
		must(t, err)
		if i == 0 {
			r.bootstrap = time.Since(t0)
		} else {
			r.joins = append(r.joins, time.Since(t0))
		}
	}
	r.total = time.Since(start)
	return r
}
