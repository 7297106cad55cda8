package guest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// putFile writes content to path inside a host (mode, owner mysql).
func putFile(t *testing.T, l *lab, i int, path, content, mode string) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(content))
	console(t, l.hosts[i], fmt.Sprintf("mkdir -p $(dirname %s) && echo %s | base64 -d > %s.new && chown mysql:mysql %s.new && chmod %s %s.new && mv %s.new %s",
		path, b64, path, path, mode, path, path, path))
}

// tlsDropIn is the option file the roll writes beside the library's.
func tlsDropIn(gcache string, dynamic bool) string {
	opts := "gcache.size=" + gcache + ";socket.ssl_ca=/etc/mysql/tls/ca.pem;socket.ssl_cert=/etc/mysql/tls/server-cert.pem;socket.ssl_key=/etc/mysql/tls/server-key.pem"
	if dynamic {
		opts += ";socket.dynamic=YES"
	}
	return "[mysqld]\nssl_ca = /etc/mysql/tls/ca.pem\nssl_cert = /etc/mysql/tls/server-cert.pem\nssl_key = /etc/mysql/tls/server-key.pem\nwsrep_provider_options = \"" + opts + "\"\n" +
		// rsync's SST script takes the server's ssl_* for its own and then
		// needs stunnel, which the test hosts do not have.
		"[sst]\nssl-mode = DISABLED\n"
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

// TestEnableTLSRolling: a running plain MariaDB Galera cluster gets TLS on
// replication and client connections by two rolling restarts without ever
// losing quorum: first each node gets certificates and socket.ssl with
// socket.dynamic=YES (it then accepts both plain and TLS peers, so it
// rejoins the not yet rolled ones), then socket.dynamic goes. A packet
// capture on the bridge finds a replicated marker before, and finds the
// next one nowhere after. Certificates are then renewed without a restart.
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

	writeMarker := func(marker string) galeratest.CaptureResult {
		t.Helper()
		capt, err := galeratest.StartCapture(l.net.Bridge(), []byte(marker))
		if err != nil {
			t.Fatal(err)
		}
		db1, err := c.DB(ctx, "tr1") // a restart closes the old handle
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
	if r := writeMarker("plain-marker-5e1d"); r.Hits == 0 {
		t.Fatalf("on a plain cluster the capture must find the replicated marker: %s", r)
	}

	ca := newTestCA(t, "tlsroll CA 1")
	gcache := l.spec.GCacheSize
	roll := func(what string, dynamic bool) {
		t.Helper()
		for i, n := range l.spec.Nodes {
			putFile(t, l, i, "/etc/mysql/mariadb.conf.d/99-galera-tls.cnf", tlsDropIn(gcache, dynamic), "0640")
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
	for i, n := range l.spec.Nodes {
		cert, key := ca.issue(t, n.Name, n.Address)
		putFile(t, l, i, "/etc/mysql/tls/ca.pem", ca.pem, "0644")
		putFile(t, l, i, "/etc/mysql/tls/server-cert.pem", cert, "0644")
		putFile(t, l, i, "/etc/mysql/tls/server-key.pem", key, "0600")
	}
	roll("roll 1 (socket.ssl, socket.dynamic)", true)
	roll("roll 2 (socket.dynamic off)", false)
	for _, h := range l.hosts {
		if got := galeraPeerCert(t, h.Addr().String()); !strings.Contains(got, "CN = tr") {
			t.Errorf("%s:4567 does not answer TLS: %q", h.Name(), got)
		}
	}
	if r := writeMarker("tls-marker-9b4c"); r.Hits != 0 {
		t.Errorf("with TLS the marker crossed the bridge in clear: %s", r)
	}

	// Renewal without a restart: new certificates from a new CA, with both
	// CAs in the bundle during the roll.
	ca2 := newTestCA(t, "tlsroll CA 2")
	before := galeraPeerCert(t, l.hosts[0].Addr().String())
	clientBefore := clientPortCert(t, l, 0)
	for i, n := range l.spec.Nodes {
		cert, key := ca2.issue(t, n.Name, n.Address)
		putFile(t, l, i, "/etc/mysql/tls/ca.pem", ca.pem+ca2.pem, "0644")
		putFile(t, l, i, "/etc/mysql/tls/server-cert.pem", cert, "0644")
		putFile(t, l, i, "/etc/mysql/tls/server-key.pem", key, "0600")
		db, err := c.DB(ctx, n.Name)
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, ctx, db, "SET GLOBAL wsrep_provider_options = 'socket.ssl_reload=1'")
		exec1(t, ctx, db, "FLUSH SSL")
		if _, err := c.Gate(ctx); err != nil {
			t.Fatalf("after reloading %s: %v", n.Name, err)
		}
	}
	after := galeraPeerCert(t, l.hosts[0].Addr().String())
	t.Logf("galera cert before %q after %q", before, after)
	if after == before || after == "" {
		t.Errorf("socket.ssl_reload did not serve the new certificate: before %q after %q", before, after)
	}
	clientAfter := clientPortCert(t, l, 0)
	t.Logf("client port cert before %q after %q", clientBefore, clientAfter)
	if clientAfter == clientBefore || !strings.Contains(clientBefore, "CN=tr1") || !strings.Contains(clientAfter, "CN=tr1") {
		t.Errorf("FLUSH SSL did not serve the new certificate on 3306: before %q after %q", clientBefore, clientAfter)
	}
	if r := writeMarker("rotated-marker-33aa"); r.Hits != 0 {
		t.Errorf("after the rotation the marker crossed the bridge in clear: %s", r)
	}
	// A member restarts with the new material and rejoins.
	if err := c.RestartMember(ctx, "tr2"); err != nil {
		t.Fatal(err)
	}
}
