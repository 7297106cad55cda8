package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// galeraName is wsrep_cluster_name: the guest library allows 32 characters.
func galeraName(name, id string) string {
	if len(name) <= 32 {
		return name
	}
	return name[:23] + "-" + id[:8]
}

// validateGuestSpec lets the guest library judge datastore, SST method and
// parameters before anything is created, using placeholder nodes.
func validateGuestSpec(spec Spec) error {
	gs := guest.ClusterSpec{
		Name:         "validate",
		Flavour:      guest.Flavour(spec.Datastore.Type),
		Version:      spec.Datastore.Version,
		SST:          guest.SSTMethod(spec.SSTMethod),
		Parameters:   spec.Parameters,
		RootPassword: "placeholder-password",
		SSTPassword:  "placeholder-password",
	}
	for i := 1; i <= max(spec.NodeCount, MinNodes); i++ {
		gs.Nodes = append(gs.Nodes, guest.Node{
			Name: fmt.Sprintf("node-%d", i), Address: fmt.Sprintf("192.0.2.%d", i),
			Runner: nopRunner{},
		})
	}
	return guest.Validate(gs)
}

// derivedSecret derives a per-purpose secret from the root password, so
// accounts the cluster needs internally (clustercheck) survive in no state
// of their own and never equal the root password.
func derivedSecret(root, purpose string) string {
	mac := hmac.New(sha256.New, []byte(root))
	mac.Write([]byte("pxc/" + purpose))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// GeneratePassword returns a random password of n characters from an
// alphabet that needs no quoting anywhere.
func GeneratePassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var sb strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		sb.WriteByte(alphabet[i.Int64()])
	}
	return sb.String(), nil
}

// guestAccess is what reaching the guests takes.
type guestAccess struct {
	user       string
	privateKey string
	check      string
	knownHosts string
	hostKeys   map[string]string // server id -> authorized_keys line
	// fingerprints from the console, for servers with no recorded key (import).
	fingerprints map[string][]string
	bastion      *BastionSpec
}

func (a guestAccess) target(n Node, fingerprints []string) (*guest.SSHTarget, error) {
	t := &guest.SSHTarget{Addr: n.IP, User: a.user, PrivateKey: []byte(a.privateKey)}
	switch {
	case a.check == HostKeyInsecure:
		t.InsecureIgnoreHostKey = true
	case a.check == HostKeyKnownHosts:
		t.KnownHostsFile = a.knownHosts
	case len(fingerprints) > 0:
		t.HostKeyFingerprints = fingerprints
	case a.hostKeys[n.ServerID] == "" && len(a.fingerprints[n.ServerID]) > 0:
		t.HostKeyFingerprints = a.fingerprints[n.ServerID]
	default:
		line, ok := a.hostKeys[n.ServerID]
		if !ok {
			return nil, fmt.Errorf("no verified host key recorded for server %s", n.ServerID)
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("recorded host key of server %s: %w", n.ServerID, err)
		}
		t.HostKeys = []ssh.PublicKey{key}
	}
	if b := a.bastion; b != nil {
		bt := &guest.SSHTarget{Addr: fmt.Sprintf("%s:%d", b.Host, b.Port), User: b.User, PrivateKey: []byte(b.PrivateKey)}
		if b.PrivateKey == "" {
			bt.PrivateKey = []byte(a.privateKey)
		}
		switch {
		case b.HostKey != "":
			key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(b.HostKey))
			if err != nil {
				return nil, fmt.Errorf("ssh.bastion.host_key: %w", err)
			}
			bt.HostKeys = []ssh.PublicKey{key}
		case a.check == HostKeyInsecure:
			bt.InsecureIgnoreHostKey = true
		case a.check == HostKeyKnownHosts:
			bt.KnownHostsFile = a.knownHosts
		default:
			return nil, errors.New("ssh.bastion.host_key is required unless ssh.host_key_check is insecure or known_hosts")
		}
		t.Bastion = bt
	}
	return t, nil
}

func accessFor(spec Spec, privateKey string, hostKeys map[string]string) guestAccess {
	return guestAccess{
		user: spec.SSH.User, privateKey: privateKey, check: spec.SSH.HostKeyCheck,
		knownHosts: spec.SSH.KnownHostsFile, hostKeys: hostKeys, bastion: spec.SSH.Bastion,
	}
}

func (b *build) access() guestAccess { return accessFor(b.spec, b.privateKey, b.c.HostKeys) }

// verifyHostKeys reads each server's host key fingerprints from its Nova
// console (console mode), connects over SSH checking the key against them,
// and records the verified key for later connections.
func (b *build) verifyHostKeys(ctx context.Context) error {
	b.c.HostKeys = map[string]string{}
	if b.spec.SSH.HostKeyCheck == HostKeyInsecure {
		b.m.log.Warn(ctx, "ssh.host_key_check is insecure: the servers' SSH host keys are not verified")
	}
	keys := make([]string, len(b.c.Nodes))
	err := b.eachNode(ctx, PhaseHostKeys, func(ctx context.Context, n *Node) error {
		var fps []string
		if b.spec.SSH.HostKeyCheck == HostKeyConsole {
			var err error
			if fps, err = b.waitConsoleFingerprints(ctx, n); err != nil {
				return err
			}
		}
		t, err := b.access().target(*n, fps)
		if err != nil {
			return err
		}
		var seen ssh.PublicKey
		t.OnHostKey = func(k ssh.PublicKey) { seen = k }
		cl, err := guest.DialSSH(ctx, *t, nil)
		if err != nil {
			return &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
		}
		defer cl.Close()
		if _, err := cl.Run(ctx, "true", nil); err != nil {
			return &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
		}
		if seen != nil {
			keys[n.Index-1] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(seen)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, n := range b.c.Nodes {
		if keys[i] != "" {
			b.c.HostKeys[n.ServerID] = keys[i]
		}
	}
	return nil
}

func (b *build) waitConsoleFingerprints(ctx context.Context, n *Node) ([]string, error) {
	delay := time.Second
	for {
		out, err := b.m.cloud.ConsoleOutput(ctx, n.ServerID, 0)
		if err == nil {
			fps, ferr := consoleFingerprints(out)
			if ferr == nil {
				return fps, nil
			}
			err = ferr
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read host key fingerprints from the console of server %s: %w (last: %v)", n.ServerID, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// guestCluster builds the guest library's view of the cluster.
func guestCluster(spec Spec, c *Cluster, a guestAccess, obs guest.Observer) (*guest.Cluster, error) {
	gs := guest.ClusterSpec{
		Name:            galeraName(c.Name, c.ID),
		Flavour:         guest.Flavour(spec.Datastore.Type),
		Version:         spec.Datastore.Version,
		SST:             guest.SSTMethod(spec.SSTMethod),
		Parameters:      spec.Parameters,
		RootPassword:    spec.RootPassword,
		SSTPassword:     spec.RootPassword,
		InstallPackages: spec.InstallPackages,
		SuspectTimeout:  spec.FailureDetection,
		Clustercheck:    &guest.Clustercheck{Password: derivedSecret(spec.RootPassword, "clustercheck"), Port: ClustercheckPort},
	}
	for _, n := range c.Nodes {
		t, err := a.target(n, nil)
		if err != nil {
			return nil, &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
		}
		gn := guest.Node{Name: n.Name, Address: n.IP, SSH: t}
		if n.VolumeID != "" {
			gn.DataVolume = guest.DataVolume{IDPrefix: prefix(n.VolumeID, 20)}
		}
		gs.Nodes = append(gs.Nodes, gn)
	}
	return guest.New(gs, guest.WithObserver(obs))
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// configureGuests turns the servers into a verified Galera cluster.
func (b *build) configureGuests(ctx context.Context) error {
	gc, err := guestCluster(b.spec, b.c, b.access(), b.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	steps := []struct {
		phase string
		f     func(context.Context) error
	}{
		{PhasePrepare, gc.Prepare},
		{PhaseBootstrap, gc.Bootstrap},
		{PhaseJoin, gc.Join},
		{PhaseRestart, gc.RestartBootstrapNode},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.f(ctx); err != nil {
			return &PhaseError{Phase: s.phase, Node: nodeNamedIn(err, b.c.Nodes), Err: err}
		}
		b.progress(ctx, s.phase, "", s.phase+" done", t)
	}
	t := time.Now()
	if users := clientRootUsers(b.spec); len(users) > 0 {
		if err := gc.EnsureUsers(ctx, users...); err != nil {
			return &PhaseError{Phase: PhaseUsers, Err: err}
		}
		b.progress(ctx, PhaseUsers, "", fmt.Sprintf("root may log in from %d allowed networks", len(users)), t)
	}
	t = time.Now()
	st, err := gc.WaitGate(ctx, 5*time.Minute)
	if err != nil {
		return &PhaseError{Phase: PhaseGate, Node: strings.Join(st.Missing, ", "), Err: err}
	}
	// Every node answers load balancer health checks from now on; a
	// pxc_lb_pool only needs to point Octavia at it.
	if err := gc.EnsureClustercheck(ctx, *gc.Spec().Clustercheck); err != nil {
		return &PhaseError{Phase: PhaseUsers, Err: fmt.Errorf("clustercheck responder: %w", err)}
	}
	applyStatus(b.c, st)
	b.progress(ctx, PhaseGate, "", fmt.Sprintf("membership gate passed: %d nodes Synced and Primary in cluster %s", len(st.Nodes), b.c.ClusterStateUUID), t)
	b.progress(ctx, PhaseGate, "", "cluster created", b.started)
	return nil
}

// nodeNamedIn finds which node an error from the guest library is about.
func nodeNamedIn(err error, nodes []Node) string {
	msg := err.Error()
	found := ""
	for _, n := range nodes {
		// Longest match wins: "db-1" is a prefix of "db-10".
		if strings.Contains(msg, n.Name) && len(n.Name) > len(found) {
			found = n.Name
		}
	}
	return found
}

func (b *build) observer(ctx context.Context) guest.Observer {
	return func(e guest.Event) {
		if e.Level == guest.LevelWarn {
			b.m.log.Warn(ctx, e.String())
			return
		}
		b.m.log.Progress(ctx, Event{Phase: e.Phase, Node: e.Node, Message: e.Message, Duration: e.Elapsed})
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
	case st.OK() && healthy == len(c.Nodes):
		c.Status = StatusActive
	default:
		c.Status = StatusDegraded
	}
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

// nopRunner satisfies guest.Runner for validation-only specs; it refuses
// to run anything.
type nopRunner struct{}

var errValidationOnly = errors.New("validation-only node: nothing can run on it")

func (nopRunner) Run(context.Context, string, []byte) ([]byte, error) { return nil, errValidationOnly }
func (nopRunner) Upload(context.Context, string, []byte, fs.FileMode) error {
	return errValidationOnly
}
func (nopRunner) DialContext(context.Context, string, string) (net.Conn, error) {
	return nil, errValidationOnly
}

// CheckDatastore says whether the guest library supports the flavour and
// version.
func CheckDatastore(d Datastore) error {
	return validateGuestSpec(Spec{Datastore: d, NodeCount: MinNodes})
}

// CheckSSTMethod says whether the method works for the datastore.
func CheckSSTMethod(d Datastore, method string) error {
	return validateGuestSpec(Spec{Datastore: d, NodeCount: MinNodes, SSTMethod: method})
}

// CheckParameters refuses parameters the library manages or that could
// break out of the option file.
func CheckParameters(d Datastore, params map[string]string) error {
	return validateGuestSpec(Spec{Datastore: d, NodeCount: MinNodes, Parameters: params})
}

// DefaultSSTMethod is the SST method a datastore uses unless told otherwise:
// the hot-backup tool of each flavour, which keeps the donor writable.
func DefaultSSTMethod(datastoreType string) string {
	if datastoreType == string(guest.Percona) {
		return string(guest.SSTXtrabackupV2)
	}
	return string(guest.SSTMariabackup)
}
