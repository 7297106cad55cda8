package guest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// TestTLSCluster builds a 3-node MariaDB cluster in TLS required mode on
// real hosts, the joiners by an encrypted mariabackup SST: every node
// encrypts replication (socket.ssl), the library's own connection is TLS
// verified by the node's name, a plain TCP login with the right password
// is refused (MariaDB answers access denied, 1045), and
// the health responder, on the unix socket, still answers.
func TestTLSCluster(t *testing.T) {
	for _, sst := range []guest.SSTMethod{guest.SSTMariabackup, guest.SSTRsync} {
		t.Run(string(sst), func(t *testing.T) { testTLSCluster(t, sst) })
	}
}

func testTLSCluster(t *testing.T, sst guest.SSTMethod) {
	l := newLab(t, "tl1", "tl2", "tl3")
	for i := range l.spec.Nodes {
		l.spec.Nodes[i].DataVolume = guest.DataVolume{}
	}
	l.spec.SST = sst
	caCert, caKey, err := cluster.NewCA("guesttest", 0)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cluster.ParseCA(caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	l.spec.TLS = &guest.TLS{Mode: guest.TLSRequired, CABundle: caCert, Issue: func(n guest.Node) (guest.TLSFiles, error) {
		cert, key, err := ca.IssueServer(n.Name, cluster.ServerNames{DNS: []string{n.Name}, IPs: []net.IP{net.ParseIP(n.Address)}}, time.Hour)
		return guest.TLSFiles{Cert: cert, Key: key}, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := l.cluster(t)
	t0 := time.Now()
	if _, err := c.Create(ctx); err != nil {
		for _, h := range l.hosts {
			t.Logf("%s error log:\n%s", h.Name(), console(t, h, "grep -i 'sst\\|stunnel\\|ssl\\|ERROR' /var/log/mysql/error.log | tail -n 60"))
		}
		t.Fatal(err)
	}
	t.Logf("TIMING create with TLS and an encrypted %s SST %.1fs", sst, time.Since(t0).Seconds())
	for _, h := range l.hosts[1:] {
		out := console(t, h, "grep -c 'OpenSSL-Encrypted\\|with key and crt\\|Using stunnel for SSL encryption' /var/log/mysql/error.log || true")
		if strings.TrimSpace(out) == "0" {
			t.Errorf("%s: no encrypted SST in its error log", h.Name())
		}
	}
	for _, h := range l.hosts {
		out := console(t, h, "stat -c '%U %a' /etc/mysql/tls/server-key.pem /etc/mysql/tls/ca.pem")
		if out != "mysql 600\nmysql 600\n" {
			t.Errorf("%s: tls files: %q", h.Name(), out)
		}
	}
	for _, n := range l.spec.Nodes {
		db, err := c.DB(ctx, n.Name)
		if err != nil {
			t.Fatal(err)
		}
		var name, cipher, opts string
		if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil || cipher == "" {
			t.Errorf("%s: the library's connection is not TLS: %q, %v", n.Name, cipher, err)
		}
		if err := db.QueryRowContext(ctx, "SELECT @@wsrep_provider_options").Scan(&opts); err != nil || !strings.Contains(opts, "socket.ssl = YES") {
			t.Errorf("%s: replication not encrypted (socket.ssl): %v", n.Name, err)
		}
	}
	// A plain login over TCP is refused, even as root through the tunnel.
	h := l.hosts[0]
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: h.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{h.HostKey()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = tunnelDB(t, cl, "root", rootPassword).PingContext(ctx)
	var me *mysql.MySQLError
	if err == nil || !errors.As(err, &me) || me.Number != 1045 {
		t.Errorf("plain TCP login with the right password: %v, want it refused (1045: MariaDB's answer to insecure transport)", err)
	}
	// The same password over TLS, verified by the node's name, gets in:
	// the refusal was the transport.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(caCert))
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", rootPassword, "tcp", "127.0.0.1:3306"
	cfg.DialFunc = cl.DialContext
	cfg.TLS = &tls.Config{RootCAs: roots, ServerName: "tl1"}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	secure := sql.OpenDB(conn)
	defer secure.Close()
	if err := secure.PingContext(ctx); err != nil {
		t.Errorf("TLS login with the same password: %v", err)
	}
	checkCodes(t, l, "/", 200, 200, 200)
}
