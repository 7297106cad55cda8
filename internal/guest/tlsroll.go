package guest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Turning TLS on in a running plain MariaDB Galera cluster takes two
// rolling restarts and a rewrite of the option files, proven on real hosts
// (tls_roll_integration_test.go):
//
//  1. Each node in turn gets its certificates and restarts with the
//     transition settings (TLSTransition): socket.ssl_* with
//     socket.dynamic=YES, so it speaks TLS to the rolled nodes and still
//     accepts the plain ones (a node with socket.ssl alone cannot rejoin
//     the plain rest, and the cluster would lose quorum half-way); client
//     TLS offered, not required.
//  2. Each node in turn restarts without socket.dynamic (a plain peer is
//     refused) and, in required mode, with require_secure_transport=ON.
//  3. Every option file gets the [sst] encryption, no restart: the SST
//     scripts read it at each transfer. Until then transfers stay plain
//     (PlainSST): even an IST runs the script on both sides, and a joiner
//     expecting TLS from a donor that sends plain fails and aborts.
//
// Turning it off is the reverse: plain transfers first, then the
// transition roll, then the plain roll. Percona XtraDB Cluster has no
// socket.dynamic: it cannot roll.

// PhaseTLS names TLS work on a running cluster in events and NodeError.
const PhaseTLS = "tls"

// CanRollTLS says whether the flavour can turn TLS on by rolling restarts.
func CanRollTLS(f Flavour) bool { return f == MariaDB }

// transitionProviderOptions are the provider options the first roll adds.
func transitionProviderOptions(s ClusterSpec) string {
	if s.TLS.Transition {
		return ";socket.dynamic=YES"
	}
	return ""
}

// renderTransitionSST writes the [sst] settings of plain transfers and
// reports whether it did (rsync's script would otherwise take the
// server's ssl_* for its own and want TLS from every donor).
func renderTransitionSST(s ClusterSpec, kv func(k, v string)) bool {
	if !s.TLS.PlainSST {
		return false
	}
	kv("ssl-mode", "DISABLED")
	return true
}

// EnsureTLSFiles issues and writes one member's CA bundle, certificate
// and key from the spec's TLS (a new certificate every call): the running
// server reads them at its next start or ReloadTLS.
func (c *Cluster) EnsureTLSFiles(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.ensureTLSFiles(ctx, n, "mysql"); err != nil {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: err}
	}
	return nil
}

// WriteCABundle replaces only one member's ca.pem: the first step of a CA
// rotation puts the old and the new CA there on every node, before any
// node presents a certificate of the new one.
func (c *Cluster) WriteCABundle(ctx context.Context, name, bundle string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if _, err := certPool(bundle); err != nil {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: fmt.Errorf("ca bundle: %w", err)}
	}
	staging := TLSDir + "/.ca.pem.new"
	if err := n.upload(ctx, staging, []byte(bundle), 0o600); err != nil {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: fmt.Errorf("ca bundle: %w", err)}
	}
	if _, err := n.run(ctx, "chown mysql "+staging+" && mv -f "+staging+" "+TLSCAFile, nil); err != nil {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: fmt.Errorf("ca bundle: %w", err)}
	}
	return nil
}

// ReloadTLS makes one running member use the TLS files now in TLSDir
// without a restart: FLUSH SSL for client connections and
// socket.ssl_reload for Galera's (new connections use them; open ones
// keep their session). The member must be Synced before and after.
func (c *Cluster) ReloadTLS(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if !CanRollTLS(c.spec.Flavour) {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: errors.New("reloading certificates without a restart needs MariaDB (FLUSH SSL, socket.ssl_reload)")}
	}
	start := time.Now()
	stmts := []string{"FLUSH SSL", "SET GLOBAL wsrep_provider_options = 'socket.ssl_reload=1'"}
	if _, err := n.run(ctx, c.layout.Client+" --batch", []byte(sqlScript(stmts))); err != nil {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: c.mask.err(fmt.Errorf("reload certificates: %w", err))}
	}
	n.resetDB() // the library's own connection verifies against the new bundle
	if _, err := c.waitSynced(ctx, n, time.Minute, "Synced after reloading certificates"); err != nil {
		return &NodeError{Phase: PhaseTLS, Node: name, Err: err}
	}
	c.emitDone("tls", name, start, "certificates reloaded (FLUSH SSL, socket.ssl_reload), Synced")
	return nil
}

// TLSTransition returns spec with its TLS in the form of the first roll:
// plain and TLS peers accepted, plain transfers.
func TLSTransition(spec ClusterSpec) ClusterSpec {
	return withTLS(spec, func(t *TLS) { t.Transition, t.PlainSST = true, true })
}

// TLSPlainSST returns spec with its TLS but plain state transfers: the
// second roll.
func TLSPlainSST(spec ClusterSpec) ClusterSpec {
	return withTLS(spec, func(t *TLS) { t.PlainSST = true })
}

func withTLS(spec ClusterSpec, f func(*TLS)) ClusterSpec {
	if spec.TLS == nil {
		return spec
	}
	t := *spec.TLS
	f(&t)
	spec.TLS = &t
	return spec
}

// tlsTransitionErrors refuses a transition the flavour cannot roll.
func tlsTransitionErrors(s ClusterSpec) []error {
	if s.TLS == nil || !s.TLS.Transition || CanRollTLS(s.Flavour) {
		return nil
	}
	return []error{fmt.Errorf("tls: %s has no socket.dynamic; turning tls on restarts the whole cluster", strings.ToLower(string(s.Flavour)))}
}

// CertificateExpiry returns when each reachable member's server
// certificate expires, read from TLSDir over SSH; a member whose file is
// missing or unreadable is left out (a plain node, a node that is down).
func (c *Cluster) CertificateExpiry(ctx context.Context) (map[string]time.Time, error) {
	nodes := c.nodes()
	found := make([]time.Time, len(nodes))
	_ = parallel(nodes, func(n *node) error {
		out, err := n.run(ctx, "cat "+TLSCertFile+" 2>/dev/null || true", nil)
		if err != nil {
			return nil
		}
		block, _ := pem.Decode([]byte(out))
		if block == nil {
			return nil
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			found[indexOf(nodes, n)] = cert.NotAfter
		}
		return nil
	})
	out := map[string]time.Time{}
	for i, n := range nodes {
		if !found[i].IsZero() {
			out[n.Name] = found[i]
		}
	}
	return out, ctx.Err()
}
