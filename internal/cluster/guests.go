package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// ClustercheckPort is where every node's clustercheck responder listens.
// "/" answers 200 on a node fit for traffic; "/writer" answers 200 only on
// the writer (guest.Writer), which is sticky: it stays writer while it is
// healthy, and a node that joins, donates or returns never takes it back.
const ClustercheckPort = 9200

// libraryGuests reaches real servers through the guest library.
type libraryGuests struct{}

func (libraryGuests) HostKey(ctx context.Context, t guest.SSHTarget) (ssh.PublicKey, error) {
	var seen ssh.PublicKey
	t.OnHostKey = func(k ssh.PublicKey) { seen = k }
	cl, err := guest.DialSSH(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if _, err := cl.Run(ctx, "true", nil); err != nil {
		return nil, err
	}
	return seen, nil
}

func (libraryGuests) StoredRootPassword(ctx context.Context, t guest.SSHTarget) (string, error) {
	cl, err := guest.DialSSH(ctx, t, nil)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	return guest.StoredRootPassword(ctx, cl)
}

func (libraryGuests) Open(spec guest.ClusterSpec, obs guest.Observer) (GuestCluster, error) {
	return guest.New(spec, guest.WithObserver(obs))
}

// openGuests gives the guest library's view of the cluster.
func (m *Manager) openGuests(spec Spec, c *Cluster, a guestAccess, obs guest.Observer) (GuestCluster, error) {
	gs, err := guestClusterSpec(spec, c)
	if err != nil {
		return nil, err
	}
	for _, n := range c.Nodes {
		t, err := a.target(n, nil)
		if err != nil {
			return nil, &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
		}
		gn := guest.Node{Name: n.Name, Address: n.IP, SSH: t}
		if n.Kind == KindArbitrator {
			gs.Arbitrators = append(gs.Arbitrators, gn)
			continue
		}
		if n.VolumeID != "" {
			gn.DataVolume = guest.DataVolume{IDPrefix: prefix(n.VolumeID, 20)}
		}
		gs.Nodes = append(gs.Nodes, gn)
	}
	return m.guests.Open(gs, obs)
}

// guestClusterSpec is the guest library's spec of the cluster, without
// its nodes.
func guestClusterSpec(spec Spec, c *Cluster) (guest.ClusterSpec, error) {
	gs := guest.ClusterSpec{
		Name:            galeraName(c.Name, c.ID),
		Flavour:         guest.Flavour(spec.Datastore.Type),
		Version:         spec.Datastore.Version,
		SST:             guest.SSTMethod(spec.SSTMethod),
		Parameters:      spec.Parameters,
		RootPassword:    spec.RootPassword,
		SSTPassword:     derivedSecret(spec.RootPassword, "sst"),
		InstallPackages: spec.InstallPackages,
		SuspectTimeout:  spec.FailureDetection,
		Clustercheck:    &guest.Clustercheck{Password: derivedSecret(spec.RootPassword, "clustercheck"), Port: ClustercheckPort},
	}
	gs.PackageRepository = spec.PackageRepository
	tlsSpec := spec.TLS
	tlsSpec.Mode = effectiveTLSMode(spec, c)
	var err error
	if gs.TLS, err = guestTLS(tlsSpec, c.Name); err != nil {
		return gs, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	return gs, nil
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// guestPhases names the guest library's phases as a create reports them.
var guestPhases = map[string]string{
	guest.PhasePrepare:      PhasePrepare,
	guest.PhaseBootstrap:    PhaseBootstrap,
	guest.PhaseJoin:         PhaseJoin,
	guest.PhaseRestart:      PhaseRestart,
	guest.PhaseUsers:        PhaseUsers,
	guest.PhaseGate:         PhaseGate,
	guest.PhaseClustercheck: PhaseUsers,
}

// guestPhaseError turns the guest library's typed error into the phase
// and node it names.
func guestPhaseError(err error) *PhaseError {
	var ne *guest.NodeError
	if !errors.As(err, &ne) {
		// guest.Create names its phase in every error; this is a guard.
		return &PhaseError{Phase: PhasePrepare, Err: err}
	}
	pe := &PhaseError{Phase: guestPhases[ne.Phase], Node: ne.Node, Err: ne.Err}
	switch ne.Phase {
	case guest.PhaseClustercheck:
		pe.Node = ""
		pe.Err = fmt.Errorf("clustercheck responder: %w", ne.Err)
	case guest.PhaseUsers:
		pe.Node = ""
	}
	if pe.Phase == "" {
		pe.Phase = ne.Phase
	}
	return pe
}

func (m *Manager) observer(ctx context.Context) guest.Observer {
	return func(e guest.Event) {
		if e.Level == guest.LevelWarn {
			m.log.Warn(ctx, e.String())
			return
		}
		m.log.Progress(ctx, Event{Phase: e.Phase, Node: e.Node, Message: e.Message, Duration: e.Elapsed})
	}
}

// applyStatus copies the live Galera view into the cluster.
func applyStatus(c *Cluster, st guest.Status) {
	healthy := 0
	answered := 0
	for i := range c.Nodes {
		ns, ok := st.Node(c.Nodes[i].Name)
		if !ok || ns.Err != nil {
			c.Nodes[i].Wsrep = nil
			continue
		}
		answered++
		if ns.Healthy() {
			healthy++
		}
		c.Nodes[i].Wsrep = &WsrepState{
			ClusterSize: ns.ClusterSize, ClusterStatus: ns.ClusterStatus, LocalState: ns.LocalState,
			ClusterStateUUID: ns.StateUUID, Ready: ns.Ready, Connected: ns.Connected,
		}
		if c.ClusterStateUUID == "" && ns.StateUUID != "" {
			c.ClusterStateUUID = ns.StateUUID
		}
	}
	switch {
	case answered == 0:
		c.Status = StatusUnknown
	case st.OK() && healthy == c.DataNodes(): // arbitrators answer no SQL
		c.Status = StatusActive
	default:
		c.Status = StatusDegraded
	}
	applyWriter(c, st)
}

// clientRootUsers lets root log in from each allowed network: the same
// networks the security group opens 3306 to, so the account is no wider
// than the firewall.
func clientRootUsers(spec Spec) []guest.User {
	var users []guest.User
	for _, p := range dedupe(spec.AllowedCIDRs) {
		users = append(users, guest.User{
			Name: "root", Host: mysqlHostPattern(p), Password: spec.RootPassword,
			Grants: []guest.Grant{{Privileges: []string{"ALL PRIVILEGES"}, On: "*.*", WithGrantOption: true}},
		})
	}
	return users
}

// mysqlHostPattern writes a CIDR the way MySQL account hosts take it:
// address/netmask, or a plain address for a single host.
func mysqlHostPattern(p netip.Prefix) string {
	p = p.Masked()
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	if p.Addr().Is4() {
		mask := net.CIDRMask(p.Bits(), 32)
		return fmt.Sprintf("%s/%d.%d.%d.%d", p.Addr(), mask[0], mask[1], mask[2], mask[3])
	}
	return p.String()
}

// CheckDatastore says whether the guest library supports the flavour and
// version.
func CheckDatastore(d Datastore) error {
	return guest.ValidateDatastore(guest.Flavour(d.Type), d.Version)
}

// CheckSSTMethod says whether the method works for the datastore.
func CheckSSTMethod(d Datastore, method string) error {
	return guest.ValidateSST(guest.Flavour(d.Type), d.Version, guest.SSTMethod(method))
}

// CheckParameters refuses parameters the datastore would read as a key the
// library manages, or that could break out of the option file.
func CheckParameters(d Datastore, params map[string]string) error {
	return guest.ValidateParameters(guest.Flavour(d.Type), d.Version, params)
}

// CheckRootPassword says whether the guest library accepts the root
// password as openGuests hands it over (also as the SST password).
func CheckRootPassword(pw string) error {
	return guest.ValidateRootPassword(pw)
}

// DefaultSSTMethod is the SST method a datastore uses unless told
// otherwise (the guest library decides).
func DefaultSSTMethod(datastoreType string) string {
	return string(guest.DefaultSST(guest.Flavour(datastoreType)))
}
