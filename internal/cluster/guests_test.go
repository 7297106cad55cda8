package cluster

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCheckDatastoreAndParameters(t *testing.T) {
	for _, d := range []Datastore{{"mariadb", "10.11"}, {"mariadb", "10.6"}, {"mariadb", "11.4"}, {"percona", "5.7"}, {"percona", "8.0"}} {
		if err := CheckDatastore(d); err != nil {
			t.Errorf("CheckDatastore(%v) = %v", d, err)
		}
	}
	for _, d := range []Datastore{{"mysql", "8.0"}, {"percona", "10.11"}, {"mariadb", "9"}} {
		if err := CheckDatastore(d); err == nil {
			t.Errorf("CheckDatastore(%v) accepted", d)
		}
	}
	md := Datastore{"mariadb", "10.11"}
	if err := CheckParameters(md, map[string]string{"max_connections": "500"}); err != nil {
		t.Errorf("plain parameter refused: %v", err)
	}
	if err := CheckParameters(md, map[string]string{"wsrep_cluster_address": "gcomm://"}); err == nil {
		t.Error("managed parameter accepted")
	}
	if err := CheckParameters(md, map[string]string{"max_connections": "5\n[mysqld_safe]"}); err == nil {
		t.Error("section injection accepted")
	}
	if err := CheckSSTMethod(md, "xtrabackup-v2"); err == nil {
		t.Error("xtrabackup-v2 accepted for mariadb")
	}
	if DefaultSSTMethod("percona") != "xtrabackup-v2" || DefaultSSTMethod("mariadb") != "mariabackup" {
		t.Error("default SST methods changed")
	}
}

func TestMySQLHostPattern(t *testing.T) {
	cases := map[string]string{
		"10.200.3.0/24": "10.200.3.0/255.255.255.0",
		"10.200.3.7/24": "10.200.3.0/255.255.255.0",
		"192.0.2.10/32": "192.0.2.10",
		"172.16.0.0/12": "172.16.0.0/255.240.0.0",
	}
	for in, want := range cases {
		if got := mysqlHostPattern(netip.MustParsePrefix(in)); got != want {
			t.Errorf("mysqlHostPattern(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestGaleraNameFitsTheLibrary(t *testing.T) {
	long := strings.Repeat("a", 59)
	got := galeraName(long, "0123456789abcdef")
	if len(got) > 32 || !strings.HasSuffix(got, "-01234567") {
		t.Fatalf("galeraName = %q", got)
	}
	if galeraName("demo", "x") != "demo" {
		t.Fatal("short names must stay")
	}
}

func TestGeneratePassword(t *testing.T) {
	a, err := GeneratePassword(24)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GeneratePassword(24)
	if len(a) != 24 || a == b {
		t.Fatalf("passwords %q %q", a, b)
	}
}

// The SST account has its own password: wsrep_sst_auth sits in an option
// file the mysql user reads, so it must never be the root password.
func TestGuestsGetASeparateSSTPassword(t *testing.T) {
	r := newRig()
	spec := testSpec()
	if _, err := r.m.Create(testContext(t), spec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(r.guests.specs) == 0 {
		t.Fatal("the guest library was never opened")
	}
	for _, gs := range r.guests.specs {
		if gs.SSTPassword == "" || gs.SSTPassword == gs.RootPassword || strings.Contains(gs.SSTPassword, spec.RootPassword) {
			t.Errorf("SSTPassword %q: want a secret of its own", gs.SSTPassword)
		}
		if gs.Clustercheck != nil && gs.SSTPassword == gs.Clustercheck.Password {
			t.Errorf("the SST and clustercheck accounts share a password")
		}
	}
}

// A root password the guests cannot carry is refused before anything is
// created, not after every server was built.
func TestCreateRefusesAnUncarryableRootPasswordFirst(t *testing.T) {
	r := newRig()
	spec := testSpec()
	spec.RootPassword = "line\nbreak"
	if _, err := r.m.Create(testContext(t), spec); err == nil || !strings.Contains(err.Error(), "root password") {
		t.Fatalf("Create = %v, want a root password error", err)
	}
	if calls := r.log.all(); len(calls) != 0 {
		t.Errorf("the cloud was called before the spec was refused: %v", calls)
	}
}
