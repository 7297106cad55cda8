package cluster

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// TLS modes of a cluster (pxc_cluster.tls.mode).
const (
	TLSRequired  = string(guest.TLSRequired)
	TLSPreferred = string(guest.TLSPreferred)
	TLSDisabled  = string(guest.TLSDisabled)
)

// TLSSpec is how a cluster encrypts client connections, replication, IST
// and SST. The provider issues each node's server certificate from the CA
// (certificate.go) whenever a node's files are written: at create, when a
// node joins or a server is replaced.
type TLSSpec struct {
	// Mode is required, preferred or disabled. Empty: Create takes
	// required; other operations take what the servers recorded at create
	// (metadata pxc_tls), disabled for a cluster that recorded none.
	Mode string
	// CACert and CAKey (PEM) are the CA that issues the server
	// certificates: given by the user, or generated at create (the caller
	// keeps Cluster.GeneratedCAKey and passes it back). Without the key no
	// node's certificate can be issued; reads still work (they trust the
	// ca.pem on each node, reached over verified SSH).
	CACert, CAKey string
	// CABundle, when set, is what the nodes trust (ca.pem) instead of
	// CACert alone: the old and the new CA while a CA rotates.
	CABundle string
	// ServerCertValidity is each server certificate's lifetime (default
	// DefaultServerCertValidity); never beyond the CA's.
	ServerCertValidity time.Duration
	// ServerNames are extra DNS names or IP addresses every node's
	// certificate carries: a name clients use for the load balancer's
	// address, or a floating IP known in advance.
	ServerNames []string
	// Transition and PlainSST are the steps of turning TLS on or off in
	// a running cluster (tls_change.go), rendered by the guest
	// (guest.TLS.Transition, PlainSST).
	Transition, PlainSST bool
}

func (t TLSSpec) enabled() bool { return t.Mode != TLSDisabled }

// createMode is the mode a new cluster gets.
func (t TLSSpec) createMode() string {
	if t.Mode == "" {
		return TLSRequired
	}
	return t.Mode
}

// CheckTLS judges a TLS spec for a datastore and SST method before
// anything is made: the mode, the combination (Percona 5.7's rsync SST
// cannot encrypt), and a user-supplied CA (PEM, a CA, key matching).
// Errors name the attribute.
func CheckTLS(d Datastore, sstMethod string, t TLSSpec) error {
	var errs []error
	mode := t.createMode()
	switch mode {
	case TLSRequired, TLSPreferred, TLSDisabled:
	default:
		return fmt.Errorf("tls.mode %q: use required, preferred or disabled", t.Mode)
	}
	if err := guest.ValidateTLS(guest.Flavour(d.Type), d.Version, guest.SSTMethod(sstMethod), guest.TLSMode(mode)); err != nil {
		errs = append(errs, err)
	}
	switch {
	case t.CACert != "" && t.CAKey != "":
		if _, err := ParseCA(t.CACert, t.CAKey); err != nil {
			errs = append(errs, fmt.Errorf("tls: %w", err))
		}
	case t.CACert != "" || t.CAKey != "":
		errs = append(errs, errors.New("tls: ca_cert and ca_key go together (or neither: the provider generates a CA)"))
	}
	for _, n := range t.ServerNames {
		if n == "" || strings.ContainsAny(n, " \t\n,/*") {
			errs = append(errs, fmt.Errorf("tls.server_names: %q is not a DNS name or IP address", n))
		}
	}
	return errors.Join(errs...)
}

// ensureCA gives a new cluster its CA: the user's, or a generated one
// whose key the caller keeps (Cluster.GeneratedCAKey, a secret).
func ensureCA(spec *Spec, c *Cluster) error {
	spec.TLS.Mode = spec.TLS.createMode()
	if !spec.TLS.enabled() {
		return nil
	}
	if spec.TLS.CACert == "" {
		cert, key, err := NewCA(c.Name, DefaultCAValidity)
		if err != nil {
			return err
		}
		spec.TLS.CACert, spec.TLS.CAKey = cert, key
		c.GeneratedCAKey = key
	}
	c.CACertificate = spec.TLS.CACert
	return nil
}

// guestTLS is the guest library's TLS for a cluster: the mode, the bundle
// the nodes trust, and an issuer of each node's certificate when the CA's
// key is known.
func guestTLS(t TLSSpec, clusterName string) (*guest.TLS, error) {
	if t.Mode == "" || !t.enabled() {
		return &guest.TLS{Mode: guest.TLSDisabled}, nil
	}
	g := &guest.TLS{Mode: guest.TLSMode(t.Mode), CABundle: t.CABundle, Transition: t.Transition, PlainSST: t.PlainSST}
	if g.CABundle == "" {
		g.CABundle = t.CACert
	}
	if t.CACert == "" || t.CAKey == "" {
		return g, nil
	}
	ca, err := ParseCA(t.CACert, t.CAKey)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	bundle := g.CABundle
	g.Issue = func(n guest.Node) (guest.TLSFiles, error) {
		cert, key, err := ca.IssueServer(n.Name, nodeServerNames(clusterName, n.Name, n.Address, t.ServerNames), t.ServerCertValidity)
		if err != nil {
			return guest.TLSFiles{}, err
		}
		return guest.TLSFiles{CA: bundle, Cert: cert, Key: key}, nil
	}
	return g, nil
}

// effectiveTLSMode is the mode the guests of c run: what the servers
// recorded (metadata pxc_tls), disabled for servers recorded before TLS
// existed, and the spec's for a cluster being created (nothing recorded
// yet). A change of mode on a running cluster rewrites the record.
func effectiveTLSMode(spec Spec, c *Cluster) string {
	switch {
	case c.Requested.TLSMode != "":
		return c.Requested.TLSMode
	case c.Requested.NodeCount > 0:
		return TLSDisabled
	}
	return spec.TLS.createMode()
}
