package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// checkTLSThroughVIP is what a client of a cluster in TLS required mode
// (the default) sees through a load balancer's VIP (issue 14): with
// certificate verification against ca_certificate and the cluster's name
// as the server name, every node that answers is trusted and the session
// is encrypted; a client trusting another CA is refused by its own check;
// a plain connection with the same password is refused by the server
// (insecureTransportRefused).
func checkTLSThroughVIP(clusterRes, poolRes string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		password, err := stateAttr(s, clusterRes, "root_password")
		if err != nil {
			return err
		}
		name, err := stateAttr(s, clusterRes, "name")
		if err != nil {
			return err
		}
		caPEM, err := stateAttr(s, clusterRes, "ca_certificate")
		if err != nil {
			return err
		}
		vip, err := stateAttr(s, poolRes, "vip_address")
		if err != nil {
			return err
		}
		addr := vip + ":3306"
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(caPEM)) {
			return fmt.Errorf("ca_certificate of %s holds no PEM certificate", clusterRes)
		}
		verified, err := galeratest.OpenTLS(addr, "root", password, &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12})
		if err != nil {
			return err
		}
		defer verified.Close()
		seen := map[string]bool{}
		for i := 0; i < 6; i++ { // new connections: the pool may route each elsewhere
			var node, cipher string
			err := verified.QueryRowContext(ctx, "SELECT @@wsrep_node_name, (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher')").Scan(&node, &cipher)
			if err != nil {
				return fmt.Errorf("verified TLS connection through %s: %w", addr, err)
			}
			if cipher == "" {
				return fmt.Errorf("connection %d through %s (node %s) is not encrypted", i+1, addr, node)
			}
			seen[node] = true
		}

		otherCA, _, err := cluster.NewCA("someone-else", 0)
		if err != nil {
			return err
		}
		otherRoots := x509.NewCertPool()
		otherRoots.AppendCertsFromPEM([]byte(otherCA))
		wrong, err := galeratest.OpenTLS(addr, "root", password, &tls.Config{RootCAs: otherRoots, ServerName: name})
		if err != nil {
			return err
		}
		defer wrong.Close()
		var unknownAuthority x509.UnknownAuthorityError
		if err := wrong.PingContext(ctx); !errors.As(err, &unknownAuthority) {
			return fmt.Errorf("a client trusting another CA got through %s: %v (want certificate signed by unknown authority)", addr, err)
		}

		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", password, "tcp", addr
		cfg.Timeout = 5 * time.Second
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			return err
		}
		plain := sql.OpenDB(connector)
		defer plain.Close()
		if err := plain.PingContext(ctx); !insecureTransportRefused(err) {
			return fmt.Errorf("a plain connection through %s: %v, want it refused for its insecure transport", addr, err)
		}
		return nil
	}
}

// insecureTransportRefused says whether a login was refused for lack of
// TLS under require_secure_transport: Percona (like MySQL) answers 3159;
// MariaDB 10.11 answers "Access denied" (1045) even to the right password
// (its implementation fails the authentication). The callers use a
// password that works over TLS, so 1045 can only mean the transport.
func insecureTransportRefused(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 3159 || me.Number == 1045)
}
