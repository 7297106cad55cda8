package guest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testTLS is a TLS block with a real CA certificate (the library parses
// the bundle) and an issuer that returns marked placeholder files.
func testTLS(t *testing.T, mode TLSMode) *TLS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return &TLS{Mode: mode, CABundle: ca, Issue: func(n Node) (TLSFiles, error) {
		return TLSFiles{Cert: "CERT of " + n.Name, Key: "KEY-SECRET of " + n.Name}, nil
	}}
}

func TestRenderTLSMustHaves(t *testing.T) {
	for _, tc := range []struct {
		f    Flavour
		v    string
		sst  SSTMethod
		mode TLSMode
		want []string
		not  []string
	}{
		{MariaDB, "10.11", SSTMariabackup, TLSRequired, []string{
			`wsrep_provider_options          = "gcache.size=128M;socket.ssl_ca=/etc/mysql/tls/ca.pem;socket.ssl_cert=/etc/mysql/tls/server-cert.pem;socket.ssl_key=/etc/mysql/tls/server-key.pem"`,
			"ssl_ca                          = /etc/mysql/tls/ca.pem",
			"ssl_cert                        = /etc/mysql/tls/server-cert.pem",
			"ssl_key                         = /etc/mysql/tls/server-key.pem",
			"require_secure_transport        = ON",
			"[sst]\nsst-syslog                      = -1\nencrypt                         = 3\ntca                             = /etc/mysql/tls/ca.pem\ntcert                           = /etc/mysql/tls/server-cert.pem\ntkey                            = /etc/mysql/tls/server-key.pem\n",
		}, []string{"ssl-mode"}},
		{MariaDB, "10.11", SSTRsync, TLSPreferred, []string{
			"socket.ssl_cert=/etc/mysql/tls/server-cert.pem",
			"ssl_cert                        = /etc/mysql/tls/server-cert.pem",
			"ssl-mode                        = VERIFY_CA\ntca                             = /etc/mysql/tls/ca.pem\n",
		}, []string{"require_secure_transport", "encrypt "}},
		{Percona, "8.0", "", TLSRequired, []string{
			"pxc-encrypt-cluster-traffic     = ON",
			"ssl-ca                          = /etc/mysql/tls/ca.pem",
			"ssl-key                         = /etc/mysql/tls/server-key.pem",
			"require_secure_transport        = ON",
		}, []string{"/var/lib/mysql/ca.pem", "socket.ssl", "[sst]"}},
		{Percona, "5.7", SSTXtrabackupV2, TLSRequired, []string{
			"pxc-encrypt-cluster-traffic     = ON",
			"ssl-cert                        = /etc/mysql/tls/server-cert.pem",
			"[sst]\nencrypt                         = 4\nssl-ca                          = /etc/mysql/tls/ca.pem\n",
		}, []string{"socket.ssl"}},
		{MariaDB, "10.11", SSTRsync, TLSDisabled, nil, []string{"ssl", "tca", "encrypt", "/etc/mysql/tls"}},
	} {
		spec := testSpec(tc.f, tc.v, tc.sst)
		spec.TLS = testTLS(t, tc.mode)
		cnf, err := RenderConfig(spec, "db1")
		if err != nil {
			t.Fatalf("%s %s %s: %v", tc.f, tc.v, tc.mode, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(cnf, w) {
				t.Errorf("%s %s %s %s: missing %q in\n%s", tc.f, tc.v, tc.sst, tc.mode, w, cnf)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(cnf, n) {
				t.Errorf("%s %s %s %s: unexpected %q in\n%s", tc.f, tc.v, tc.sst, tc.mode, n, cnf)
			}
		}
	}
}

func TestValidateTLS(t *testing.T) {
	spec := testSpec(Percona, "5.7", SSTRsync)
	spec.TLS = testTLS(t, TLSRequired)
	if err := Validate(spec); err == nil || !strings.Contains(err.Error(), "percona 5.7's rsync SST cannot encrypt") {
		t.Errorf("percona 5.7 rsync with tls: %v", err)
	}
	spec = testSpec(MariaDB, "10.11", SSTRsync)
	spec.TLS = testTLS(t, "optional")
	if err := Validate(spec); err == nil || !strings.Contains(err.Error(), `tls mode "optional"`) {
		t.Errorf("bad mode: %v", err)
	}
	spec.TLS = testTLS(t, TLSRequired)
	spec.TLS.CABundle = "not a pem"
	spec.Nodes[0].Runner = &recorder{}
	if err := Validate(spec); err == nil || !strings.Contains(err.Error(), "tls ca bundle") {
		t.Errorf("bad bundle: %v", err)
	}
	if err := ValidateTLS(Percona, "5.7", SSTRsync, TLSRequired); err == nil {
		t.Error("ValidateTLS accepted percona 5.7 rsync")
	}
	if err := ValidateTLS(Percona, "5.7", SSTRsync, TLSDisabled); err != nil {
		t.Errorf("plain percona 5.7 rsync refused: %v", err)
	}
	if err := ValidateTLS(MariaDB, "10.11", SSTRsync, TLSRequired); err != nil {
		t.Errorf("mariadb rsync with tls refused: %v", err)
	}
}

// Prepare writes each node's files into /etc/mysql/tls before the option
// file that names them: staged in a private directory, put in place by
// install(1) as mysql's 0600 files, the key never on a command line.
func TestPrepareWritesTLSFiles(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTMariabackup)
	spec.TLS = testTLS(t, TLSRequired)
	c, log := fakeCluster(t, spec, "none")
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	var db2 []string
	for _, l := range log.lines {
		if strings.HasPrefix(l, "db2: ") {
			db2 = append(db2, strings.TrimPrefix(l, "db2: "))
		}
	}
	seq := strings.Join(db2, "\n")
	want := regexp.MustCompile(`(?s)install -d -o root -g root -m 0755 /etc/mysql/tls
mktemp -d
UPLOAD /tmp/tmp.guest1/ca.pem mode 0600
UPLOAD /tmp/tmp.guest1/server-cert.pem mode 0600
UPLOAD /tmp/tmp.guest1/server-key.pem mode 0600
install -o mysql -m 0600 '/tmp/tmp.guest1/ca.pem' /etc/mysql/tls/ca.pem && install -o mysql -m 0600 '/tmp/tmp.guest1/server-cert.pem' /etc/mysql/tls/server-cert.pem && install -o mysql -m 0600 '/tmp/tmp.guest1/server-key.pem' /etc/mysql/tls/server-key.pem
rm -rf '/tmp/tmp.guest1'
UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf mode 0640`)
	if !want.MatchString(seq) {
		t.Errorf("db2's TLS files are not written before its option file:\n%s", seq)
	}
	f := c.nodes()[1].Runner.(*fakeServer)
	if got := f.files["/tmp/tmp.guest1/server-key.pem"]; got != "KEY-SECRET of db2" {
		t.Errorf("db2 got key %q", got)
	}
	if got := f.files["/tmp/tmp.guest1/ca.pem"]; got != spec.TLS.CABundle {
		t.Errorf("db2's ca.pem is not the bundle: %q", got)
	}
	for _, l := range log.lines {
		if strings.Contains(l, "KEY-SECRET") {
			t.Errorf("a key is on a command line: %s", l)
		}
	}
}

// In required mode the library's own connection verifies the node by the
// cluster's CA and its name; otherwise the SSH tunnel is enough. Without
// a bundle it trusts the node's own ca.pem, read over SSH.
func TestClientTLS(t *testing.T) {
	ctx := context.Background()
	spec := testSpec(MariaDB, "10.11", SSTMariabackup)
	mode := func(m TLSMode, bundle string) *Cluster {
		spec.TLS = testTLS(t, m)
		if bundle != "-" {
			spec.TLS.CABundle = bundle
		}
		c, _ := fakeCluster(t, spec, "none")
		return c
	}
	for _, m := range []TLSMode{TLSPreferred, TLSDisabled} {
		c := mode(m, "-")
		if cfg, err := c.clientTLS(ctx, c.nodes()[0]); cfg != nil || err != nil {
			t.Errorf("%s mode got a TLS client config (%v)", m, err)
		}
	}
	c := mode(TLSRequired, "-")
	cfg, err := c.clientTLS(ctx, c.nodes()[1])
	if err != nil || cfg == nil || cfg.ServerName != "db2" || cfg.RootCAs == nil || cfg.InsecureSkipVerify {
		t.Fatalf("required mode client config: %+v, %v", cfg, err)
	}
	// Without a bundle: the node's own ca.pem, refused when it is not PEM,
	// and a plain connection to a server made before TLS (no ca.pem).
	withNodeCA := func(answer string) *Cluster {
		s := testSpec(MariaDB, "10.11", SSTMariabackup)
		s.TLS = testTLS(t, TLSRequired)
		s.TLS.CABundle = ""
		r := &recorder{}
		r.on("cat /etc/mysql/tls/ca.pem", answer)
		for i := range s.Nodes {
			s.Nodes[i].Runner = r
		}
		c, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c = withNodeCA("garbage\n")
	if _, err := c.clientTLS(ctx, c.nodes()[1]); err == nil || !strings.Contains(err.Error(), "tls ca bundle") {
		t.Errorf("a node's bad ca.pem was accepted: %v", err)
	}
	c = withNodeCA(testTLS(t, TLSRequired).CABundle)
	if cfg, err := c.clientTLS(ctx, c.nodes()[1]); err != nil || cfg == nil || cfg.ServerName != "db2" {
		t.Errorf("the node's ca.pem was not used: %+v, %v", cfg, err)
	}
	c = withNodeCA("")
	if cfg, err := c.clientTLS(ctx, c.nodes()[1]); err != nil || cfg != nil {
		t.Errorf("a node without ca.pem: %+v, %v", cfg, err)
	}
	c.spec.TLS.Issue = nil
	if err := c.ensureTLSFiles(ctx, c.nodes()[1], "mysql"); err == nil || !strings.Contains(err.Error(), "CA's key is not known") {
		t.Errorf("files written without an issuer: %v", err)
	}
}

func TestGarbdSpeaksTLS(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTMariabackup)
	spec.TLS = testTLS(t, TLSRequired)
	cfg := renderGarbdConfig(spec, Node{Name: "arb", Address: "10.210.0.20"})
	if !strings.Contains(cfg, ";socket.ssl_ca=/etc/mysql/tls/ca.pem;socket.ssl_cert=/etc/mysql/tls/server-cert.pem;socket.ssl_key=/etc/mysql/tls/server-key.pem\n") {
		t.Errorf("garbd options lack TLS:\n%s", cfg)
	}
}
