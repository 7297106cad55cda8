package guest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// runningCluster is a fakeCluster whose named nodes run a server.
func runningCluster(t *testing.T, spec ClusterSpec, running ...string) (*Cluster, *sharedLog) {
	t.Helper()
	c, log := fakeCluster(t, spec, "systemd")
	for _, n := range c.Spec().Nodes {
		for _, name := range running {
			if n.Name == name {
				n.Runner.(*fakeServer).running = true
			}
		}
	}
	return c, log
}

// noRestart fails when any command stops, starts or restarts a server.
func noRestart(t *testing.T, lines []string) {
	t.Helper()
	for _, l := range lines {
		for _, bad := range []string{"systemctl restart", "systemctl stop", "systemctl start", " shutdown", "setsid"} {
			if strings.Contains(l, bad) {
				t.Errorf("a server was restarted: %q", l)
			}
		}
	}
}

// ApplySettings rewrites each node's option file and sets the change with
// SET GLOBAL, node by node, restarting nothing; a stopped node only gets
// the file.
func TestApplySettingsOnlineNodeByNode(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTMariabackup)
	spec.SuspectTimeout = 4 * time.Second
	c, log := runningCluster(t, spec, "db1", "db2")
	var events []string
	c.opts.observe = func(e Event) { events = append(events, e.Node+": "+e.Message) }
	err := c.ApplySettings(context.Background(), SettingsChange{
		Set: []string{"max_connections", "innodb_buffer_pool_size"}, Reset: []string{"wait_timeout"}, ProviderOptions: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	noRestart(t, log.lines)
	var order []string
	for _, l := range log.lines {
		if strings.Contains(l, "UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf") || strings.HasSuffix(l, "mariadb --batch") {
			order = append(order, l)
		}
	}
	want := []string{
		"db1: UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf mode 0640", "db1: mariadb --batch",
		"db2: UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf mode 0640", "db2: mariadb --batch",
		"db3: UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf mode 0640",
	}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Fatalf("order:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	var sqlSent string
	for _, s := range log.stdin {
		if strings.Contains(s, "SET GLOBAL") {
			sqlSent = s
		}
	}
	for _, stmt := range []string{
		"SET GLOBAL innodb_buffer_pool_size = 67108864;", "SET GLOBAL max_connections = 500;",
		"SET GLOBAL wait_timeout = DEFAULT;", "SET GLOBAL wsrep_provider_options = 'gcache.size=128M;evs.suspect_timeout=PT4S;evs.inactive_check_period=PT0.1S;evs.join_retrans_period=PT0.1S;evs.keepalive_period=PT0.1S';",
	} {
		if !strings.Contains(sqlSent, stmt) {
			t.Errorf("SQL lacks %q:\n%s", stmt, sqlSent)
		}
	}
	wantEvents := []string{"db1: applied online; 1 of 3 done", "db2: applied online; 2 of 3 done", "db3: option file written; server not running; 3 of 3 done"}
	if strings.Join(events, "\n") != strings.Join(wantEvents, "\n") {
		t.Errorf("events:\n%s", strings.Join(events, "\n"))
	}
}

// A new SST method that needs an account creates it and sets its
// credentials on the running server.
func TestApplySettingsSSTMethod(t *testing.T) {
	c, log := runningCluster(t, testSpec(MariaDB, "10.11", SSTMariabackup), "db1", "db2", "db3")
	if err := c.ApplySettings(context.Background(), SettingsChange{SSTMethod: true}); err != nil {
		t.Fatal(err)
	}
	noRestart(t, log.lines)
	joined := strings.Join(log.stdin, "\n")
	for _, want := range []string{"SET GLOBAL wsrep_sst_method = 'mariabackup'", "CREATE USER IF NOT EXISTS 'sstuser'@'localhost'", "SET GLOBAL wsrep_sst_auth = 'sstuser:sst-secret'"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestApplySettingsRefusesUnknownParameter(t *testing.T) {
	c, _ := runningCluster(t, testSpec(MariaDB, "10.11", SSTRsync), "db1")
	if err := c.ApplySettings(context.Background(), SettingsChange{Set: []string{"not_in_spec"}}); err == nil {
		t.Fatal("a parameter missing from the spec was applied")
	}
}

func TestVariableValue(t *testing.T) {
	for in, want := range map[string]string{
		"500": "500", "0.5": "0.5", "-1": "-1", "64M": "67108864", "1k": "1024", "2G": "2147483648",
		"ON": "'ON'", "ROW": "'ROW'", "utf8mb4": "'utf8mb4'", " 7 ": "7",
	} {
		if got := variableValue(in); got != want {
			t.Errorf("variableValue(%q) = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"a;b", "max connections", "`x`", ""} {
		if _, err := variableName(bad); err == nil {
			t.Errorf("variableName(%q) accepted", bad)
		}
	}
	if got, _ := variableName("Max-Connections"); got != "max_connections" {
		t.Errorf("variableName normalises to %q", got)
	}
}

// Percona's server does not report which variables are dynamic: every one
// is treated as needing a restart, without asking.
func TestStaticVariablesPercona(t *testing.T) {
	c, log := runningCluster(t, testSpec(Percona, "8.0", SSTXtrabackupV2), "db1")
	got, err := c.StaticVariables(context.Background(), []string{"max_connections", "innodb_log_file_size"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "max_connections,innodb_log_file_size" {
		t.Errorf("static %v", got)
	}
	if len(log.lines) != 0 {
		t.Errorf("asked the server: %v", log.lines)
	}
}

// The accounts change once, through the CLI on one running member (its
// ~/.my.cnf still holds the old password); then every node gets the new
// credentials, and nothing restarts.
func TestRotateRootPassword(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTMariabackup)
	spec.RootPassword = "new-root-secret"
	spec.SSTPassword = "new-sst-secret"
	spec.Clustercheck = &Clustercheck{Password: "new-cc-secret"}
	c, log := runningCluster(t, spec, "db2", "db3")
	err := c.RotateRootPassword(context.Background(), User{Name: "root", Host: "10.0.0.0/255.0.0.0", Password: "new-root-secret",
		Grants: []Grant{{Privileges: []string{"ALL PRIVILEGES"}, On: "*.*", WithGrantOption: true}}})
	if err != nil {
		t.Fatal(err)
	}
	noRestart(t, log.lines)
	var altered []string // CLI runs; the first changes the accounts
	for _, l := range log.lines {
		if strings.HasSuffix(l, "mariadb --batch") {
			altered = append(altered, l)
		}
	}
	alters := 0
	for _, s := range log.stdin {
		if strings.Contains(s, "ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 'new-root-secret'") {
			alters++
			for _, want := range []string{"ALTER USER 'root'@'10.0.0.0/255.0.0.0' IDENTIFIED BY 'new-root-secret'",
				"ALTER USER 'sstuser'@'localhost' IDENTIFIED BY 'new-sst-secret'", "ALTER USER IF EXISTS 'clustercheck'@'localhost' IDENTIFIED BY 'new-cc-secret'"} {
				if !strings.Contains(s, want) {
					t.Errorf("account change lacks %q", want)
				}
			}
		}
	}
	if alters != 1 || len(altered) == 0 || !strings.HasPrefix(altered[0], "db2: ") {
		t.Errorf("accounts changed %d times, first on %v; want once, on db2 (db1 is stopped)", alters, altered)
	}
	for _, node := range []string{"db1", "db2", "db3"} {
		for _, file := range []string{"/root/.my.cnf", "/etc/mysql/clustercheck.cnf", "/etc/mysql/mariadb.conf.d/99-galera-guest.cnf"} {
			if !slicesContainsPrefix(log.lines, node+": UPLOAD "+file) {
				t.Errorf("%s: %s not rewritten", node, file)
			}
		}
	}
	joined := strings.Join(log.stdin, "\n")
	for _, want := range []string{"password = \"new-root-secret\"", "password = \"new-cc-secret\"", "SET GLOBAL wsrep_sst_auth = 'sstuser:new-sst-secret'"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func slicesContainsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// With no server running there is nothing to change the accounts on.
func TestRotateRootPasswordNeedsARunningMember(t *testing.T) {
	c, _ := runningCluster(t, testSpec(MariaDB, "10.11", SSTRsync))
	if err := c.RotateRootPassword(context.Background()); err == nil {
		t.Fatal("rotated with every server stopped")
	}
}

// The password comes back exactly as clientOptionFile quoted it.
func TestStoredRootPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"plain-secret", `with "quotes" and \backslash\`, "spaces and = sign"} {
		r := (&recorder{}).on("cat /root/.my.cnf", clientOptionFile(pw))
		got, err := StoredRootPassword(context.Background(), r)
		if err != nil || got != pw {
			t.Errorf("%q: got %q, %v", pw, got, err)
		}
	}
	for _, bad := range []string{"", "[client]\nuser = root\n", "[client]\npassword = unquoted\n"} {
		if _, err := StoredRootPassword(context.Background(), (&recorder{}).on("cat /root/.my.cnf", bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// The filesystem grows on the mounted device without touching the server.
func TestGrowFilesystemOnline(t *testing.T) {
	r := (&recorder{}).on("resize2fs", "2040373248\n")
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = r
		spec.Nodes[i].DataVolume = DataVolume{IDPrefix: "0d5e8f3a-volume"}
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	size, err := c.GrowFilesystem(context.Background(), "db2", 2<<30)
	if err != nil || size != 2040373248 {
		t.Fatalf("size %d, %v", size, err)
	}
	cmds := r.commands()
	if len(cmds) != 1 {
		t.Fatalf("commands %v", cmds)
	}
	for _, want := range []string{"/dev/disk/by-id/virtio-\"$prefix\"", "prefix='0d5e8f3a-volume'", "findmnt -rn -M /var/lib/mysql", "-ge 2147483648", `findmnt -no FSTYPE -S "$dev" -M /var/lib/mysql`, `xfs_growfs "$grow"`, `resize2fs "$dev"`} {
		if !strings.Contains(cmds[0], want) {
			t.Errorf("script lacks %q", want)
		}
	}
	noRestart(t, cmds)
	if _, err := c.GrowFilesystem(context.Background(), "db9", 1); err == nil {
		t.Error("grew an unknown node")
	}
}

// A member restart writes the option file first, then stops and starts
// the server normally (never bootstrapping) and waits for it.
func TestRestartMember(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.Parameters["innodb_log_file_size"] = "96M"
	c, log := fakeCluster(t, spec, "none")
	for _, n := range c.Spec().Nodes {
		n.Runner.(*fakeServer).running = true
	}
	if err := c.RestartMember(context.Background(), "db2"); err != nil {
		t.Fatal(err)
	}
	upload, stop, start := -1, -1, -1
	for i, l := range log.lines {
		switch {
		case !strings.HasPrefix(l, "db2: "):
		case strings.Contains(l, "UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf") && upload < 0:
			upload = i
		case strings.Contains(l, " shutdown"):
			stop = i
		case strings.Contains(l, "setsid"):
			start = i
			if strings.Contains(l, "wsrep-new-cluster") {
				t.Errorf("restarted as a new cluster: %s", l)
			}
		}
		if strings.HasPrefix(l, "db1: ") || strings.HasPrefix(l, "db3: ") {
			if strings.Contains(l, " shutdown") || strings.Contains(l, "setsid") {
				t.Errorf("another node was restarted: %s", l)
			}
		}
	}
	if !(upload >= 0 && upload < stop && stop < start) {
		t.Errorf("order upload %d, stop %d, start %d:\n%s", upload, stop, start, strings.Join(log.lines, "\n"))
	}
	if !strings.Contains(strings.Join(log.stdin, "\n"), "innodb_log_file_size            = 96M") {
		t.Error("the option file lacks the new parameter")
	}
}
