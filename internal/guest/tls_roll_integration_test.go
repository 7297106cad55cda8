package guest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// testCA is a CA that issues server certificates for the lab's nodes.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue returns a server certificate and key (PEM) for a node.
func (ca testCA) issue(t *testing.T, name, ip string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.ParseIP(ip)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// tlsUserDB is userDB over TLS, verifying the node's certificate against
// caPEM and its name.
func tlsUserDB(t *testing.T, ctx context.Context, l *lab, i int, user, password, caPEM string) *sql.DB {
	t.Helper()
	h := l.hosts[i]
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: h.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{h.HostKey()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", "127.0.0.1:3306"
	cfg.DialFunc = cl.DialContext
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: h.Name(), MinVersion: tls.VersionTLS12}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

// galeraPeerCert asks a node's Galera port for its certificate subject
// and serial over TLS (empty when the port does not speak TLS).
func galeraPeerCert(t *testing.T, addr string) string {
	return peerCert(t, "-connect "+addr+":4567")
}

// clientPortCert asks node i's MariaDB port, through its SSH tunnel (root
// may log in from 127.0.0.1 only), for its certificate subject and serial.
func clientPortCert(t *testing.T, l *lab, i int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := l.hosts[i]
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: h.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{h.HostKey()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c, err := galeratest.ServerCertificate(ctx, "127.0.0.1:3306", cl.DialContext)
	if err != nil {
		t.Logf("client port of %s: %v", h.Name(), err)
		return ""
	}
	return fmt.Sprintf("serial=%X\nsubject=%s", c.SerialNumber, c.Subject)
}

func peerCert(t *testing.T, args string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "sh", "-c", "openssl s_client "+args+" </dev/null 2>/dev/null | openssl x509 -noout -serial -subject 2>/dev/null").CombinedOutput()
	return strings.TrimSpace(string(out))
}

// files issues a node's TLS files from ca with bundle as ca.pem.
func (ca testCA) files(t *testing.T, bundle string) func(n guest.Node) (guest.TLSFiles, error) {
	return func(n guest.Node) (guest.TLSFiles, error) {
		cert, key := ca.issue(t, n.Name, n.Address)
		return guest.TLSFiles{CA: bundle, Cert: cert, Key: key}, nil
	}
}

// TestEnableTLSRolling: a running plain MariaDB Galera cluster gets TLS on
// replication, state transfers and client connections by two rolling
// restarts without ever losing quorum (guest.TLSTransition, then
// guest.TLSPlainSST) and the final option files (no restart). A packet capture on the bridge finds a replicated
// marker before, and finds the next one nowhere after, nor during a forced
// SST. Then a CA rotation without a restart: the old and new CA bundled
// everywhere first, then every node's certificate from the new CA
// (ReloadTLS), and a member restarts with the new material.
func TestEnableTLSRolling(t *testing.T) {
	l := newLab(t, "tr1", "tr2", "tr3")
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	c := l.cluster(t)
	if _, err := c.Create(ctx); err != nil {
		t.Fatal(err)
	}
	db1, err := c.DB(ctx, "tr1")
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, ctx, db1, "CREATE DATABASE m")
	exec1(t, ctx, db1, "CREATE TABLE m.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB")

	// writeMarker writes marker on tr1 while capturing, and reads it on
	// the others; during, when set, runs while the capture still records.
	writeMarker := func(c *guest.Cluster, marker string, during func()) galeratest.CaptureResult {
		t.Helper()
		capt, err := galeratest.StartCapture(l.net.Bridge(), []byte(marker))
		if err != nil {
			t.Fatal(err)
		}
		db1, err := c.DB(ctx, "tr1")
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, ctx, db1, "INSERT INTO m.t (v) VALUES (?)", marker)
		for _, name := range []string{"tr2", "tr3"} {
			db, err := c.DB(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
				t.Fatal(err)
			}
			err = conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM m.t WHERE v = ?", marker).Scan(&n)
			conn.Close()
			if err != nil || n != 1 {
				t.Fatalf("%s: marker rows %d, %v", name, n, err)
			}
		}
		if during != nil {
			during()
		}
		time.Sleep(500 * time.Millisecond)
		r, err := capt.Stop()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("capture of %s: %s", marker, r)
		if r.PortBytes[4567] == 0 {
			t.Fatalf("the capture saw no replication traffic: %s", r)
		}
		return r
	}
	if r := writeMarker(c, "plain-marker-5e1d", nil); r.Hits == 0 {
		t.Fatalf("on a plain cluster the capture must find the replicated marker: %s", r)
	}

	ca := newTestCA(t, "tlsroll CA 1")
	spec := l.spec
	spec.TLS = &guest.TLS{Mode: guest.TLSRequired, CABundle: ca.pem, Issue: ca.files(t, ca.pem)}
	open := func(spec guest.ClusterSpec) *guest.Cluster {
		t.Helper()
		c, err := guest.New(spec, guest.WithObserver(l.events.observe), guest.WithPollInterval(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	roll := func(c *guest.Cluster, what string, files bool) {
		t.Helper()
		for i, n := range l.spec.Nodes {
			if files {
				if err := c.EnsureTLSFiles(ctx, n.Name); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			if err := c.RestartMember(ctx, n.Name); err != nil {
				t.Logf("%s error log:\n%s", n.Name, console(t, l.hosts[i], "grep -iE 'error|ssl|tls|handshake|dynamic' /var/log/mysql/error.log | tail -40"))
				t.Fatalf("%s: %s: %v", what, n.Name, err)
			}
			st, err := c.Gate(ctx)
			if err != nil {
				t.Fatalf("%s: after %s: %v", what, n.Name, err)
			}
			t.Logf("%s: %s rejoined, cluster size %d", what, n.Name, st.Nodes[0].ClusterSize)
		}
	}
	roll(open(guest.TLSTransition(spec)), "roll 1 (socket.ssl, socket.dynamic)", true)
	for _, h := range l.hosts {
		if out := console(t, h, "stat -c '%a %U' /etc/mysql/tls/server-key.pem; grep -c 'socket.dynamic=YES' /etc/mysql/mariadb.conf.d/99-galera-guest.cnf"); out != "600 mysql\n1\n" {
			t.Errorf("%s after roll 1: key mode and transition options: %q", h.Name(), out)
		}
	}
	c = open(guest.TLSPlainSST(spec))
	roll(c, "roll 2 (socket.dynamic off, clients required)", false)
	// The [sst] encryption everywhere, no restart: the scripts read it at
	// each transfer.
	c = open(spec)
	if err := c.ApplySettings(ctx, guest.SettingsChange{}); err != nil {
		t.Fatal(err)
	}
	for i, h := range l.hosts {
		if got := galeraPeerCert(t, h.Addr().String()); !strings.Contains(got, "CN = tr") {
			t.Errorf("%s:4567 does not answer TLS: %q", h.Name(), got)
		}
		if out := console(t, h, "grep -c 'socket.dynamic' /etc/mysql/mariadb.conf.d/99-galera-guest.cnf || true"); strings.TrimSpace(out) != "0" {
			t.Errorf("%s still accepts plain peers after roll 2", h.Name())
		}
		// The same account over the same tunnel: refused plain, let in
		// with TLS verified against the CA and the node's name.
		plain := userDB(t, ctx, l, i, "root", rootPassword)
		if err := plain.PingContext(ctx); err == nil {
			t.Errorf("%s: a plain TCP connection was let in in required mode", h.Name())
		}
		if err := tlsUserDB(t, ctx, l, i, "root", rootPassword, ca.pem).PingContext(ctx); err != nil {
			t.Errorf("%s: a TLS connection verified against the CA: %v", h.Name(), err)
		}
	}
	// A forced SST of tr3 while capturing: the datadir goes over stunnel.
	sst := func() {
		if err := c.StopNode(ctx, "tr3"); err != nil {
			t.Fatal(err)
		}
		console(t, l.hosts[2], "rm -f /var/lib/mysql/grastate.dat /var/lib/mysql/galera.cache")
		if err := c.StartNode(ctx, "tr3"); err != nil {
			for _, h := range l.hosts {
				t.Logf("%s:\n%s", h.Name(), console(t, h, "grep -E 'WSREP_SST|LOG[0-9]|State transfer' /var/log/mysql/error.log | tail -25"))
			}
			t.Fatal(err)
		}
		if _, err := c.WaitGate(ctx, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		if out := console(t, l.hosts[2], "grep -c 'Using stunnel for SSL encryption' /var/log/mysql/error.log || true"); strings.TrimSpace(out) == "0" {
			t.Errorf("tr3's SST did not go through stunnel")
		}
	}
	if r := writeMarker(c, "tls-marker-9b4c", sst); r.Hits != 0 || r.PortBytes[4444] == 0 {
		t.Errorf("with TLS, over replication and an SST: %s; want the marker nowhere and SST traffic seen", r)
	}

	// CA rotation without a restart: both CAs in every bundle first, then
	// the new certificates.
	ca2 := newTestCA(t, "tlsroll CA 2")
	bundle := ca.pem + ca2.pem
	before := galeraPeerCert(t, l.hosts[0].Addr().String())
	clientBefore := clientPortCert(t, l, 0)
	for _, n := range l.spec.Nodes {
		if err := c.WriteCABundle(ctx, n.Name, bundle); err != nil {
			t.Fatal(err)
		}
		if err := c.ReloadTLS(ctx, n.Name); err != nil {
			t.Fatal(err)
		}
	}
	spec.TLS = &guest.TLS{Mode: guest.TLSRequired, CABundle: bundle, Issue: ca2.files(t, bundle)}
	c = open(spec)
	for _, n := range l.spec.Nodes {
		if err := c.EnsureTLSFiles(ctx, n.Name); err != nil {
			t.Fatal(err)
		}
		if err := c.ReloadTLS(ctx, n.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Gate(ctx); err != nil {
			t.Fatalf("after reloading %s: %v", n.Name, err)
		}
	}
	after := galeraPeerCert(t, l.hosts[0].Addr().String())
	t.Logf("galera cert before %q after %q", before, after)
	if after == before || !strings.Contains(after, "CN = tr1") {
		t.Errorf("socket.ssl_reload did not serve the new certificate: before %q after %q", before, after)
	}
	clientAfter := clientPortCert(t, l, 0)
	t.Logf("client port cert before %q after %q", clientBefore, clientAfter)
	if clientAfter == clientBefore || !strings.Contains(clientBefore, "CN=tr1") || !strings.Contains(clientAfter, "CN=tr1") {
		t.Errorf("FLUSH SSL did not serve the new certificate on 3306: before %q after %q", clientBefore, clientAfter)
	}
	if r := writeMarker(c, "rotated-marker-33aa", nil); r.Hits != 0 {
		t.Errorf("after the rotation the marker crossed the bridge in clear: %s", r)
	}
	// A member restarts with the new material and rejoins (new connections
	// to and from it use the new certificates).
	if err := c.RestartMember(ctx, "tr2"); err != nil {
		t.Fatal(err)
	}
}
