package guest

import (
	"context"
	"strings"
	"testing"
)

// The first roll of turning TLS on renders socket.dynamic=YES beside
// socket.ssl_*, plain state transfers and no require_secure_transport;
// the second the final settings, without socket.dynamic. The spec given is
// not changed.
func TestRenderTLSTransition(t *testing.T) {
	for _, sst := range []SSTMethod{SSTRsync, SSTMariabackup} {
		spec := testSpec(MariaDB, "10.11", sst)
		spec.TLS = testTLS(t, TLSRequired)
		first, err := RenderConfig(TLSTransition(spec), "db1")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{
			"socket.ssl_key=/etc/mysql/tls/server-key.pem;socket.dynamic=YES\"",
			"ssl_cert                        = /etc/mysql/tls/server-cert.pem",
			"[sst]\nsst-syslog                      = -1\nssl-mode                        = DISABLED\n",
		} {
			if !strings.Contains(first, w) {
				t.Errorf("%s roll 1: missing %q in\n%s", sst, w, first)
			}
		}
		for _, n := range []string{"require_secure_transport", "tca", "encrypt", "VERIFY"} {
			if strings.Contains(first, n) {
				t.Errorf("%s roll 1: unexpected %q in\n%s", sst, n, first)
			}
		}
		if spec.TLS.Transition {
			t.Fatal("TLSTransition changed the spec it was given")
		}
		second, err := RenderConfig(TLSPlainSST(spec), "db1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(second, "socket.dynamic") || !strings.Contains(second, "ssl-mode                        = DISABLED") || !strings.Contains(second, "require_secure_transport        = ON") {
			t.Errorf("%s roll 2: want no socket.dynamic, plain SST, required clients:\n%s", sst, second)
		}
		final, err := RenderConfig(spec, "db1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(final, "socket.dynamic") || strings.Contains(final, "DISABLED") || !strings.Contains(final, "require_secure_transport        = ON") {
			t.Errorf("%s roll 2 renders transition settings or no required transport:\n%s", sst, final)
		}
	}
	// The library's own SQL stays plain during the first roll: the servers
	// offer no TLS until they restart.
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.TLS = testTLS(t, TLSRequired)
	c, _ := fakeCluster(t, TLSTransition(spec), "none")
	if cfg, err := c.clientTLS(context.Background(), c.nodes()[0]); cfg != nil || err != nil {
		t.Errorf("transition: the library's SQL asks for TLS (%v)", err)
	}
	// Percona has no socket.dynamic: refused, its caller restarts all.
	p := testSpec(Percona, "8.0", "")
	p.TLS = testTLS(t, TLSRequired)
	if err := Validate(TLSTransition(p)); err == nil || !strings.Contains(err.Error(), "no socket.dynamic") {
		t.Errorf("percona transition: %v", err)
	}
	if CanRollTLS(Percona) || !CanRollTLS(MariaDB) {
		t.Error("CanRollTLS")
	}
}

// A rotation writes ca.pem alone (staged, then moved into place as
// mysql's), and reloads with FLUSH SSL and socket.ssl_reload over the
// server's socket, then waits for Synced.
func TestRotateTLSCommands(t *testing.T) {
	ctx := context.Background()
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.TLS = testTLS(t, TLSRequired)
	c, log := fakeCluster(t, spec, "none")
	if err := c.WriteCABundle(ctx, "db2", "not a pem"); err == nil {
		t.Error("a bundle without a certificate was written")
	}
	if err := c.WriteCABundle(ctx, "db2", spec.TLS.CABundle+spec.TLS.CABundle); err != nil {
		t.Fatal(err)
	}
	written := strings.Join(log.lines, "\n")
	if err := c.StartNode(ctx, "db2"); err != nil {
		t.Fatal(err)
	}
	before := len(log.lines)
	if err := c.ReloadTLS(ctx, "db2"); err != nil {
		t.Fatal(err)
	}
	text := written + "\n" + strings.Join(log.lines[before:], "\n")
	for _, w := range []string{
		"db2: UPLOAD /etc/mysql/tls/.ca.pem.new mode 0600",
		"db2: chown mysql /etc/mysql/tls/.ca.pem.new && mv -f /etc/mysql/tls/.ca.pem.new /etc/mysql/tls/ca.pem",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in\n%s", w, text)
		}
	}
	sql := strings.Join(log.stdin, "\n")
	if !strings.Contains(sql, "FLUSH SSL") || !strings.Contains(sql, "SET GLOBAL wsrep_provider_options = 'socket.ssl_reload=1'") {
		t.Errorf("reload statements: %s", sql)
	}
	if strings.Contains(text, "db1:") || strings.Contains(text, "db3:") {
		t.Errorf("other nodes touched:\n%s", text)
	}
	p := testSpec(Percona, "5.7", SSTXtrabackupV2)
	p.TLS = testTLS(t, TLSRequired)
	pc, _ := fakeCluster(t, p, "none")
	if err := pc.ReloadTLS(ctx, "db1"); err == nil {
		t.Error("percona reload without a restart accepted")
	}
}

// CertificateExpiry reads each node's certificate over SSH; a node
// without one is left out.
func TestCertificateExpiry(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, _ := fakeCluster(t, spec, "none")
	cert := testTLS(t, TLSRequired).CABundle // a real certificate (the test CA's)
	for _, n := range c.nodes()[:2] {
		n.Runner.(*fakeServer).files = map[string]string{TLSCertFile: cert}
	}
	got, err := c.CertificateExpiry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["db1"].IsZero() || got["db2"].IsZero() {
		t.Errorf("expiry %v, want db1 and db2 only", got)
	}
}
