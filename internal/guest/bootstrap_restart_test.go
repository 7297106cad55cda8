package guest

import (
	"context"
	"strings"
	"testing"
)

// Node 1 is restarted after the joins only where its bootstrap outlives
// that start: Percona (mysql@bootstrap.service is a unit of its own), not
// MariaDB (galera_new_cluster and --wsrep-new-cluster apply to one start).
// Either way node 1's option file lists every member for its next start.
func TestCreateRestartsBootstrapNodeOnlyWhereNeeded(t *testing.T) {
	for _, tc := range []struct {
		name             string
		flavour          Flavour
		version, init    string
		bootstrap        string   // node 1's one start before the joins
		restart          []string // node 1's commands after the joins; none: not restarted
		configFile, addr string
	}{
		{name: "mariadb-none", flavour: MariaDB, version: "10.11", init: "none",
			bootstrap: "install -d -o mysql -g root -m 755 /run/mysqld || exit 1; if [ -e /var/lib/mysql/grastate.dat ] || [ -e /var/lib/mysql/.pxc-restored ]; then setsid /usr/bin/mysqld_safe --wsrep-new-cluster </dev/null >/dev/null 2>&1 & else setsid /usr/sbin/mariadbd --user=mysql --wsrep-new-cluster </dev/null >/dev/null 2>&1 & fi"},
		{name: "mariadb-systemd", flavour: MariaDB, version: "10.11", init: "systemd", bootstrap: "galera_new_cluster"},
		{name: "percona-8.0-systemd", flavour: Percona, version: "8.0", init: "systemd",
			bootstrap: "systemctl start mysql@bootstrap.service",
			restart:   []string{"systemctl stop mysql@bootstrap.service && systemctl start mysql"}},
		{name: "percona-5.7-none", flavour: Percona, version: "5.7", init: "none",
			bootstrap: "install -d -o mysql -g root -m 755 /run/mysqld || exit 1; setsid /usr/sbin/mysqld --user=mysql --wsrep-new-cluster",
			restart:   []string{"mysqladmin shutdown", "install -d -o mysql -g root -m 755 /run/mysqld || exit 1; setsid /usr/sbin/mysqld --user=mysql </dev/null"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec(tc.flavour, tc.version, "")
			c, log := fakeCluster(t, spec, tc.init)
			if _, err := c.Create(context.Background()); err != nil {
				t.Fatal(err)
			}
			var starts, afterJoins []string
			joined := false
			for _, l := range log.lines {
				cmd, ok := strings.CutPrefix(l, "db1: ")
				if strings.HasPrefix(l, "db3: ") && (strings.Contains(l, "setsid") || strings.HasPrefix(l, "db3: systemctl start")) {
					joined = true
				}
				if !ok {
					continue
				}
				if isServerControl(cmd) {
					if joined {
						afterJoins = append(afterJoins, cmd)
					} else {
						starts = append(starts, cmd)
					}
				}
			}
			if len(starts) != 1 || !strings.HasPrefix(starts[0], tc.bootstrap) {
				t.Errorf("node 1 before the joins: %q, want one start %q", starts, tc.bootstrap)
			}
			if len(afterJoins) != len(tc.restart) {
				t.Fatalf("node 1 after the joins: %q, want %q", afterJoins, tc.restart)
			}
			for i, want := range tc.restart {
				if !strings.HasPrefix(afterJoins[i], want) {
					t.Errorf("node 1 after the joins, command %d: %q, want %q", i+1, afterJoins[i], want)
				}
			}
			f := c.nodes()[0].Runner.(*fakeServer)
			cnf := f.files[c.layout.ConfigFile]
			if want := "wsrep_cluster_address = gcomm://10.210.0.11,10.210.0.12,10.210.0.13"; !strings.Contains(strings.Join(strings.Fields(cnf), " "), want) {
				t.Errorf("node 1's option file lacks %q for its next start:\n%s", want, cnf)
			}
		})
	}
}

// isServerControl says whether a command starts, stops or restarts the
// database server.
func isServerControl(cmd string) bool {
	for _, p := range []string{"systemctl start mysql", "systemctl start mariadb", "systemctl stop", "systemctl restart",
		"galera_new_cluster", "mysqladmin shutdown", "mariadb-admin shutdown"} {
		if strings.HasPrefix(cmd, p) {
			return true
		}
	}
	return strings.Contains(cmd, "setsid /usr/")
}
