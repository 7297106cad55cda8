package guest

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testSpec is a valid spec whose nodes use a runner that must never run.
func testSpec(flavour Flavour, version string, sst SSTMethod) ClusterSpec {
	never := &recorder{}
	return ClusterSpec{
		Name:         "prod-db",
		Flavour:      flavour,
		Version:      version,
		SST:          sst,
		RootPassword: "root-secret",
		SSTPassword:  "sst-secret",
		Nodes: []Node{
			{Name: "db1", Address: "10.210.0.11", Runner: never},
			{Name: "db2", Address: "10.210.0.12", Runner: never},
			{Name: "db3", Address: "10.210.0.13", Runner: never},
		},
		Parameters: map[string]string{"innodb_buffer_pool_size": "64M", "max_connections": "500"},
	}
}

func TestRenderConfigGolden(t *testing.T) {
	cases := []struct {
		golden  string
		flavour Flavour
		version string
		sst     SSTMethod
		tls     TLSMode
	}{
		{"percona-5.7-xtrabackup-v2", Percona, "5.7", SSTXtrabackupV2, ""},
		{"percona-5.7-rsync", Percona, "5.7", SSTRsync, ""},
		{"percona-8.0-xtrabackup-v2", Percona, "8.0", "", ""},
		{"mariadb-10.6-mariabackup", MariaDB, "10.6", "", ""},
		{"mariadb-10.11-rsync", MariaDB, "10.11", SSTRsync, ""},
		{"mariadb-11.4-mariabackup", MariaDB, "11.4", SSTMariabackup, ""},
		// Issue 14: TLS by default.
		{"percona-5.7-xtrabackup-v2-tls", Percona, "5.7", SSTXtrabackupV2, TLSRequired},
		{"percona-8.0-xtrabackup-v2-tls", Percona, "8.0", "", TLSRequired},
		{"mariadb-10.11-mariabackup-tls", MariaDB, "10.11", SSTMariabackup, TLSRequired},
		{"mariadb-10.11-rsync-tls-preferred", MariaDB, "10.11", SSTRsync, TLSPreferred},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			spec := testSpec(tc.flavour, tc.version, tc.sst)
			if tc.tls != "" {
				spec.TLS = testTLS(t, tc.tls)
			}
			got, err := RenderConfig(spec, "db2")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden+".cnf")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRenderConfigGolden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("config for %s differs from %s:\n--- got\n%s\n--- want\n%s", tc.golden, path, got, want)
			}
		})
	}
}

// The golden files are checked by eye once; these assertions keep the
// must-haves from silently disappearing on -update.
func TestRenderConfigMustHaves(t *testing.T) {
	for _, v := range []struct {
		f Flavour
		v string
	}{{Percona, "5.7"}, {Percona, "8.0"}, {MariaDB, "10.6"}, {MariaDB, "10.11"}, {MariaDB, "11.4"}} {
		cnf, err := RenderConfig(testSpec(v.f, v.v, ""), "db3")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"wsrep_on                        = ON",
			"wsrep_cluster_address           = gcomm://10.210.0.11,10.210.0.12,10.210.0.13",
			"wsrep_node_name                 = db3",
			"wsrep_node_address              = 10.210.0.13",
			"binlog_format                   = ROW",
			"innodb_autoinc_lock_mode        = 2",
			"innodb_flush_log_at_trx_commit  = 1",
			"sync_binlog                     = 1",
			"bind-address                    = 0.0.0.0",
			"default_storage_engine          = InnoDB",
			`wsrep_provider_options          = "gcache.size=128M"`,
			"innodb_buffer_pool_size         = 64M",
		} {
			if !strings.Contains(cnf, want+"\n") {
				t.Errorf("%s %s: missing %q", v.f, v.v, want)
			}
		}
		// The SST account where the default method logs in (mariabackup,
		// xtrabackup-v2 on 5.7), quoted; never the root password.
		hasAuth := strings.Contains(cnf, "wsrep_sst_auth                  = \"sstuser:sst-secret\"\n")
		if wantAuth := v.f == MariaDB || v.v == "5.7"; hasAuth != wantAuth || strings.Count(cnf, "wsrep_sst_auth") != map[bool]int{true: 1}[wantAuth] {
			t.Errorf("%s %s: quoted wsrep_sst_auth present=%v, want %v", v.f, v.v, hasAuth, wantAuth)
		}
		if strings.Contains(cnf, "root-secret") {
			t.Errorf("%s %s: the root password is in the server's option file", v.f, v.v)
		}
		if strings.Contains(cnf, "pxc-encrypt-cluster-traffic") != (v.f == Percona && v.v == "8.0") {
			t.Errorf("%s %s: pxc-encrypt-cluster-traffic only belongs to percona 8.0", v.f, v.v)
		}
	}
}

func TestRenderIPv6Gcomm(t *testing.T) {
	got := gcommAddress([]Node{{Address: "fd00::1"}, {Address: "10.0.0.2"}})
	if got != "gcomm://[fd00::1],10.0.0.2" {
		t.Errorf("gcomm = %q", got)
	}
}

func TestValidateRefusesBadInput(t *testing.T) {
	cases := map[string]struct {
		mutate func(*ClusterSpec)
		want   string
	}{
		"one node":        {func(s *ClusterSpec) { s.Nodes = s.Nodes[:1] }, "at least 2 data nodes, got 1"},
		"unknown flavour": {func(s *ClusterSpec) { s.Flavour = "mysql" }, `unknown flavour "mysql"`},
		"unknown version": {func(s *ClusterSpec) { s.Version = "10.5" }, `version "10.5" is not supported for mariadb`},
		"pxc version":     {func(s *ClusterSpec) { s.Flavour, s.Version, s.SST = Percona, "8.4", "" }, `version "8.4" is not supported for percona`},
		"sst for flavour": {func(s *ClusterSpec) { s.SST = SSTXtrabackupV2 }, `sst method "xtrabackup-v2" is not supported by mariadb`},
		"managed key":     {func(s *ClusterSpec) { s.Parameters["wsrep-cluster-address"] = "gcomm://" }, `parameter "wsrep-cluster-address" is managed`},
		"managed loose":   {func(s *ClusterSpec) { s.Parameters["loose_sync_binlog"] = "0" }, `parameter "loose_sync_binlog" is managed`},
		"newline value":   {func(s *ClusterSpec) { s.Parameters["max_connections"] = "10\nwsrep_on=OFF" }, `parameter "max_connections": value must not contain newlines`},
		"section value":   {func(s *ClusterSpec) { s.Parameters["max_connections"] = "[client]" }, "section brackets"},
		"bad key":         {func(s *ClusterSpec) { s.Parameters["!include /etc/x"] = "1" }, "keys are letters"},
		// Issue 10, defect 4: Validate resolves names as the server does.
		"abbreviated key":  {func(s *ClusterSpec) { s.Parameters["innodb_flush_log_at_trx_comm"] = "0" }, `parameter "innodb_flush_log_at_trx_comm" is managed`},
		"skip variant":     {func(s *ClusterSpec) { s.Parameters["skip-loose-sync-binlog"] = "1" }, `parameter "skip-loose-sync-binlog" is managed`},
		"comment value":    {func(s *ClusterSpec) { s.Parameters["max_connections"] = "10 # x" }, `parameter "max_connections": value must not contain '#'`},
		"duplicate name":   {func(s *ClusterSpec) { s.Nodes[1].Name = "db1" }, `name "db1" is used twice`},
		"bad address":      {func(s *ClusterSpec) { s.Nodes[2].Address = "db3.example" }, `address "db3.example" is not an IP address`},
		"injection name":   {func(s *ClusterSpec) { s.Nodes[0].Name = "db1\nwsrep_on=OFF" }, "name"},
		"cluster name":     {func(s *ClusterSpec) { s.Name = "a b" }, `cluster name "a b"`},
		"no root password": {func(s *ClusterSpec) { s.RootPassword = "" }, "root password is required"},
		"no transport":     {func(s *ClusterSpec) { s.Nodes[0].Runner = nil }, "neither SSH, Runner nor Await"},
		"gcache":           {func(s *ClusterSpec) { s.GCacheSize = "1T; rm" }, "gcache size"},
		"bind address":     {func(s *ClusterSpec) { s.BindAddress = "10.0.0.1" }, "bind address"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := testSpec(MariaDB, "10.11", SSTRsync)
			tc.mutate(&s)
			err := Validate(s)
			if err == nil {
				t.Fatalf("Validate accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "root-secret") {
				t.Errorf("error leaks the root password: %v", err)
			}
		})
	}
	if err := Validate(testSpec(MariaDB, "10.11", SSTRsync)); err != nil {
		t.Errorf("valid spec refused: %v", err)
	}
	s := testSpec(Percona, "5.7", SSTXtrabackupV2)
	s.SSTPassword = ""
	if err := Validate(s); err == nil || !strings.Contains(err.Error(), "sst password is required") {
		t.Errorf("percona 5.7 without sst password: %v", err)
	}
}

func TestQuoting(t *testing.T) {
	cases := map[string]string{
		`plain`:       `'plain'`,
		`it's`:        `'it\'s'`,
		`back\slash`:  `'back\\slash'`,
		`'; DROP --`:  `'\'; DROP --'`,
		"nul\x00nl\n": `'nul\0nl\n'`,
		"ünïcødé-密码🔑": "'ünïcødé-密码🔑'",
	}
	for in, want := range cases {
		if got := quoteString(in); got != want {
			t.Errorf("quoteString(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteIdent("we`ird"); got != "`we``ird`" {
		t.Errorf("quoteIdent = %s", got)
	}
	if got, _ := grantTarget("app.*"); got != "`app`.*" {
		t.Errorf("grantTarget(app.*) = %s", got)
	}
	for _, bad := range []string{"*", "app", "a.b.c", "*.t", ""} {
		if _, err := grantTarget(bad); err == nil {
			t.Errorf("grantTarget(%q) accepted", bad)
		}
	}
}

func TestValidateUserRefusesInjection(t *testing.T) {
	bad := []User{
		{Name: ""},
		{Name: "app", Grants: []Grant{{Privileges: []string{"ALL; DROP DATABASE x"}, On: "*.*"}}},
		{Name: "app", Grants: []Grant{{Privileges: []string{"SELECT"}, On: "x.y.z"}}},
		{Name: "app", Grants: []Grant{{On: "*.*"}}},
		{Name: "a\x00b"},
	}
	for _, u := range bad {
		if err := ValidateUser(u); err == nil {
			t.Errorf("ValidateUser(%+v) accepted", u)
		}
	}
	stmts, err := userStatements(User{Name: "o'brien\\", Host: "%", Password: "p'w\\\"ü", Grants: []Grant{{Privileges: []string{"SELECT", "INSERT"}, On: "shop.*"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`CREATE USER IF NOT EXISTS 'o\'brien\\'@'%' IDENTIFIED BY 'p\'w\\"ü'`,
		`ALTER USER 'o\'brien\\'@'%' IDENTIFIED BY 'p\'w\\"ü'`,
		"GRANT SELECT, INSERT ON `shop`.* TO 'o\\'brien\\\\'@'%'",
	}
	if strings.Join(stmts, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(stmts, "\n"), strings.Join(want, "\n"))
	}
}

func TestClientOptionFileEscapes(t *testing.T) {
	got := clientOptionFile(`a"b\c`)
	if !strings.Contains(got, `password = "a\"b\\c"`) {
		t.Errorf("option file: %s", got)
	}
}

func TestSuspectTimeoutRendersAndIsBounded(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.SuspectTimeout = 3 * time.Second
	cfg, err := RenderConfig(spec, spec.Nodes[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^wsrep_provider_options\s+= "gcache.size=128M;evs.suspect_timeout=PT3S;evs.inactive_check_period=PT0.1S;evs.join_retrans_period=PT0.1S;evs.keepalive_period=PT0.1S"$`).MatchString(cfg) {
		t.Fatalf("provider options not rendered:\n%s", cfg)
	}
	for _, d := range []time.Duration{500 * time.Millisecond, 2 * time.Minute} {
		spec.SuspectTimeout = d
		if err := Validate(spec); err == nil || !strings.Contains(err.Error(), "suspect timeout") {
			t.Errorf("suspect timeout %s accepted: %v", d, err)
		}
	}
}
