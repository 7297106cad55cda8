package galeratest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ServerCertificate returns the certificate a MariaDB or MySQL server
// presents on addr ("ip:port"). The TLS handshake comes before the login
// in the protocol, so no account is needed: the login that follows fails
// and is ignored. MariaDB answers a host it does not allow with an error
// before that: dial, when not nil, reaches addr from somewhere allowed (an
// SSH tunnel). A server that offers no TLS is an error.
func ServerCertificate(ctx context.Context, addr string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*x509.Certificate, error) {
	var peer *x509.Certificate
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "galeratest-cert-probe", "x", "tcp", addr
	cfg.Timeout = 3 * time.Second
	cfg.DialFunc = dial
	cfg.TLS = &tls.Config{
		InsecureSkipVerify: true, // only reads what is presented
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no certificate presented")
			}
			c, err := x509.ParseCertificate(raw[0])
			peer = c
			return err
		},
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql config for %s: %w", addr, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	err = db.PingContext(ctx)
	if peer == nil {
		return nil, fmt.Errorf("no TLS certificate from %s: %v", addr, err)
	}
	return peer, nil
}
