package guest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// TLSMode says how far the cluster's traffic is encrypted.
type TLSMode string

const (
	// TLSRequired encrypts replication, IST and SST, and refuses clients
	// that connect over TCP without TLS (require_secure_transport=ON).
	TLSRequired TLSMode = "required"
	// TLSPreferred encrypts replication, IST and SST and offers TLS to
	// clients, which may still connect in the clear.
	TLSPreferred TLSMode = "preferred"
	// TLSDisabled is the plain cluster: nothing is encrypted.
	TLSDisabled TLSMode = "disabled"
)

// TLS material lives in one root-owned directory on every node; the files
// belong to the server's user (mysql; garbd's user on an arbitrator), 0600.
const (
	TLSDir      = "/etc/mysql/tls"
	TLSCAFile   = TLSDir + "/ca.pem"          // the CA bundle: one CA, or old+new during a rotation
	TLSCertFile = TLSDir + "/server-cert.pem" // the node's own certificate
	TLSKeyFile  = TLSDir + "/server-key.pem"  // its private key
)

// TLS is the cluster's encryption: the mode, the CA bundle every node
// trusts and the issuer of each node's certificate.
type TLS struct {
	// Mode is required or preferred; disabled (or a nil *TLS) renders the
	// plain cluster.
	Mode TLSMode
	// CABundle is the PEM of the CA certificates the nodes and the
	// library trust (ca.pem): one CA, or the old and new one while a CA
	// rotates, so no peer breaks mid-roll. Empty: the library trusts the
	// ca.pem it reads from each node over SSH (whose host key is verified).
	CABundle string
	// Issue returns a node's server certificate and key (PEM). It is
	// called only when the node's files are written (Prepare, a join, a
	// replaced server), so a read issues nothing. The certificate must
	// name the node (DNS: Name) and its Address (IP): the SST scripts
	// check the joiner's address, the library the node's name. Nil: no
	// node's files can be written (the CA's key is not known).
	Issue func(n Node) (TLSFiles, error)
	// Transition renders the first roll of turning TLS on in a running
	// plain cluster (tlsroll.go): peers accepted plain or TLS
	// (socket.dynamic), clients not yet required to encrypt, the
	// library's SQL plain. PlainSST keeps state transfers (and the SST
	// script's part of an IST) unencrypted until every node has TLS.
	Transition, PlainSST bool
}

// TLSFiles are the three files of one node (PEM).
type TLSFiles struct {
	CA   string // the CA bundle (ca.pem)
	Cert string // server-cert.pem
	Key  string // server-key.pem: a secret
}

// enabled says whether the spec encrypts anything.
func (t *TLS) enabled() bool { return t != nil && t.Mode != "" && t.Mode != TLSDisabled }

func (t *TLS) validate() []error {
	if t == nil {
		return nil
	}
	var errs []error
	switch t.Mode {
	case TLSRequired, TLSPreferred, TLSDisabled:
	default:
		errs = append(errs, fmt.Errorf("tls mode %q: use required, preferred or disabled", t.Mode))
	}
	if !t.enabled() {
		return errs
	}
	// An empty bundle is read from each node's ca.pem when needed (an
	// imported cluster whose CA nobody gave back); a nil Issue refuses to
	// write a node's files (a CA without its key).
	if t.CABundle != "" {
		if _, err := certPool(t.CABundle); err != nil {
			errs = append(errs, fmt.Errorf("tls ca bundle: %w", err))
		}
	}
	return errs
}

// tlsErrors judges TLS against the flavour and SST method: Percona 5.7's
// rsync SST has no encryption, so such a cluster would send its datadir in
// the clear; Percona 8.0's own switch (EncryptClusterTraffic) and the TLS
// block cannot disagree.
func tlsErrors(s ClusterSpec) []error {
	errs := append(s.TLS.validate(), tlsTransitionErrors(s)...)
	if !s.TLS.enabled() {
		return errs
	}
	if s.Flavour == Percona && s.Version == "5.7" && s.SST == SSTRsync {
		errs = append(errs, errors.New("tls: percona 5.7's rsync SST cannot encrypt; use sst method xtrabackup-v2 or disable tls"))
	}
	if s.EncryptClusterTraffic != nil && !*s.EncryptClusterTraffic {
		errs = append(errs, errors.New("tls: encrypt cluster traffic is off while tls is enabled"))
	}
	return errs
}

// ValidateTLS says whether a TLS mode works with the flavour, version and
// SST method (empty: the default), before there is a cluster.
func ValidateTLS(f Flavour, version string, sst SSTMethod, mode TLSMode) error {
	if sst == "" {
		sst = DefaultSST(f)
	}
	return joinSpecErrors(tlsErrors(ClusterSpec{Flavour: f, Version: version, SST: sst, TLS: &TLS{Mode: mode}}))
}

func certPool(bundle string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(bundle)) {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

// clientTLS is how the library's own SQL connection to a node (through
// the SSH tunnel to 127.0.0.1) verifies the server: the cluster's CA and
// the node's name, which its certificate carries. Nil when the mode lets
// a plain connection in (the tunnel is SSH-encrypted already).
func (c *Cluster) clientTLS(ctx context.Context, n *node) (*tls.Config, error) {
	t := c.spec.TLS
	if !t.enabled() || t.Mode != TLSRequired || t.Transition {
		return nil, nil
	}
	bundle := t.CABundle
	if bundle == "" {
		out, err := n.run(ctx, "cat "+TLSCAFile+" 2>/dev/null || true", nil)
		if err != nil {
			return nil, fmt.Errorf("read the node's CA bundle: %w", err)
		}
		if strings.TrimSpace(out) == "" {
			// A server made before TLS: it has no certificates to offer.
			return nil, nil
		}
		bundle = out
	}
	pool, err := certPool(bundle)
	if err != nil {
		return nil, fmt.Errorf("tls ca bundle: %w", err)
	}
	return &tls.Config{RootCAs: pool, ServerName: n.Name, MinVersion: tls.VersionTLS12}, nil
}

// WriteTLSFiles installs a node's CA bundle, certificate and key in
// TLSDir: the one writer of those files, for a new node and a rotation
// alike. The running server reads them at its next start (or FLUSH SSL
// on MariaDB). Arbitrators get them too, owned by garbd's user.
func (c *Cluster) WriteTLSFiles(ctx context.Context, name string, f TLSFiles) error {
	if n, err := c.node(name); err == nil {
		return c.writeTLSFiles(ctx, n, f, "mysql")
	}
	a, err := c.arbitrator(name)
	if err != nil {
		return err
	}
	return c.writeTLSFiles(ctx, a, f, garbdRunAs)
}

// writeTLSFiles stages the files in a private directory of root's and
// moves them into place with install(1), which replaces a file instead of
// writing through it and sets owner and mode on the new one. The key is a
// secret: it is uploaded (never on a command line) and masked in output.
func (c *Cluster) writeTLSFiles(ctx context.Context, n *node, f TLSFiles, owner string) error {
	if f.CA == "" || f.Cert == "" || f.Key == "" {
		return fmt.Errorf("tls files for %s: ca, certificate and key are all needed", n.Name)
	}
	c.mask.add(f.Key)
	if _, err := n.run(ctx, "install -d -o root -g root -m 0755 "+TLSDir, nil); err != nil {
		return fmt.Errorf("tls files: %w", err)
	}
	out, err := n.run(ctx, "mktemp -d", nil)
	if err != nil {
		return fmt.Errorf("tls files: %w", err)
	}
	staging := strings.TrimSpace(out)
	if !strings.HasPrefix(staging, "/") || strings.ContainsAny(staging, " \n'") {
		return fmt.Errorf("tls files: unexpected temporary directory %q", staging)
	}
	defer n.run(context.WithoutCancel(ctx), "rm -rf "+shellQuote(staging), nil) //nolint:errcheck // best effort
	files := []struct{ path, content string }{{TLSCAFile, f.CA}, {TLSCertFile, f.Cert}, {TLSKeyFile, f.Key}}
	var install []string
	for _, file := range files {
		base := file.path[len(TLSDir)+1:]
		if err := n.upload(ctx, staging+"/"+base, []byte(file.content), 0o600); err != nil {
			return fmt.Errorf("tls files: %w", err)
		}
		install = append(install, "install -o "+owner+" -m 0600 "+shellQuote(staging+"/"+base)+" "+file.path)
	}
	if _, err := n.run(ctx, strings.Join(install, " && "), nil); err != nil {
		return fmt.Errorf("tls files: %w", err)
	}
	return nil
}

// ensureTLSFiles issues and writes a node's files when the spec encrypts.
func (c *Cluster) ensureTLSFiles(ctx context.Context, n *node, owner string) error {
	t := c.spec.TLS
	if !t.enabled() {
		return nil
	}
	if t.Issue == nil {
		return fmt.Errorf("tls: the CA's key is not known, so no certificate can be issued for %s (give the CA's certificate and key)", n.Name)
	}
	f, err := t.Issue(n.Node)
	if err != nil {
		return fmt.Errorf("issue the certificate of %s: %w", n.Name, err)
	}
	if f.CA == "" {
		f.CA = t.CABundle
	}
	return c.writeTLSFiles(ctx, n, f, owner)
}

// tlsProviderOptions are the Galera provider options that encrypt
// replication and IST on MariaDB (Galera 4 turns socket.ssl on once a key
// and certificate are set). Percona sets the same options itself from its
// ssl-* settings when pxc-encrypt-cluster-traffic is ON (renderTLS).
func tlsProviderOptions(s ClusterSpec) string {
	if !s.TLS.enabled() || s.Flavour != MariaDB {
		return ""
	}
	return ";socket.ssl_ca=" + TLSCAFile + ";socket.ssl_cert=" + TLSCertFile + ";socket.ssl_key=" + TLSKeyFile + transitionProviderOptions(s)
}

// renderTLS writes the [mysqld] settings of client TLS (and, on Percona,
// of cluster traffic) into the option file.
func renderTLS(b *strings.Builder, s ClusterSpec, kv func(k, v string)) {
	b.WriteString("\n# TLS (" + string(s.TLS.Mode) + "): " + TLSDir + " is written by the library\n")
	if s.Flavour == Percona {
		// Percona encrypts replication, IST and SST from these ssl-* files
		// (socket.ssl_* and the SST's encryption are derived from them).
		kv("pxc-encrypt-cluster-traffic", "ON")
		kv("ssl-ca", TLSCAFile)
		kv("ssl-cert", TLSCertFile)
		kv("ssl-key", TLSKeyFile)
	} else {
		kv("ssl_ca", TLSCAFile)
		kv("ssl_cert", TLSCertFile)
		kv("ssl_key", TLSKeyFile)
	}
	if s.TLS.Mode == TLSRequired && !s.TLS.Transition {
		// TCP clients without TLS are refused (MariaDB: access denied,
		// 1045, even with the right password; Percona: 3159); the unix
		// socket, which never leaves the host, stays allowed.
		kv("require_secure_transport", "ON")
	}
}

// renderSSTTLS writes the [sst] settings that encrypt a state transfer,
// for the method in use (a change of method rewrites the file):
//   - mariabackup: socat with the node's certificate and key, the peer
//     verified against the CA (encrypt=3 with tca, tcert, tkey); the donor
//     checks that the joiner's certificate names its address.
//   - rsync (MariaDB 10.11+): stunnel around rsync, each side verifying
//     the other's chain to the CA (VERIFY_CA). Not VERIFY_IDENTITY: the
//     script turns it into stunnel's verifyPeer, which accepts only a peer
//     certificate found in the CA file (pinning), so every SST failed with
//     "certificate verify failed". stunnel must be installed (the
//     flavour's packages include it); without it the script refuses to
//     send in the clear.
//   - Percona 5.7 xtrabackup-v2: encrypt=4 with ssl-ca/ssl-cert/ssl-key.
//     Percona 8.0 needs nothing here: pxc-encrypt-cluster-traffic covers
//     its SST.
func renderSSTTLS(b *strings.Builder, s ClusterSpec, kv func(k, v string)) {
	if !s.TLS.enabled() || renderTransitionSST(s, kv) {
		return
	}
	switch {
	case s.Flavour == Percona && s.Version == "5.7":
		kv("encrypt", "4")
		kv("ssl-ca", TLSCAFile)
		kv("ssl-cert", TLSCertFile)
		kv("ssl-key", TLSKeyFile)
	case s.Flavour == MariaDB:
		if s.SST == SSTMariabackup {
			kv("encrypt", "3")
		} else {
			kv("ssl-mode", "VERIFY_CA")
		}
		kv("tca", TLSCAFile)
		kv("tcert", TLSCertFile)
		kv("tkey", TLSKeyFile)
	}
}
