package cluster

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// fakeGuests stands in for the guest library: every server presents one
// host key, and a cluster's Create and Status report every node healthy
// unless createErr or hostKeyErr say otherwise.
type fakeGuests struct {
	log        *callLog
	key        ssh.PublicKey
	hostKeyErr map[string]error // by node address, "*" for every node
	createErr  error
	// createHook, if set, runs at the start of Create; its error is Create's.
	createHook func(ctx context.Context) error
	// unreachable: HostKey retries until its context ends, as DialSSH does
	// while sshd does not answer.
	unreachable bool

	// health overrides a node's health by name (default: healthy); its
	// Status is what Status reports for the node. survey is what Survey
	// returns; repairErr fails RepairNode for a node, one error per call.
	health    map[string]guest.NodeHealth
	survey    []guest.NodeRecovery
	repairErr map[string][]error

	mu        sync.Mutex
	repaired  []string // RepairNode calls, by node
	recovered []string // Recover calls, by forced node ("" = the survey's choice)
	targets   []guest.SSHTarget
	specs     []guest.ClusterSpec
	users     [][]guest.User
	dropped   []guest.User
	// Day-2 changes: the variables the servers call static, and what
	// ApplySettings and RotateRootPassword were given.
	static    map[string]bool
	settings  []guest.SettingsChange
	rotations [][]guest.User
	// stored is the root password the nodes hold (StoredRootPassword).
	stored string
	// grown lists GrowFilesystem calls as "node minBytes"; growErr fails
	// the call for that node.
	grown   []string
	growErr map[string]error
	// restartErr fails RestartMember for that node, reloadErr ReloadTLS.
	restartErr map[string]error
	reloadErr  map[string]error
	// expiry is what CertificateExpiry reports, by node.
	expiry map[string]time.Time
	// writer names the member recorded as writer; MoveWriter moves it to
	// the first other member and calls onMoveWriter (a test flips the
	// fake load balancer's verdicts there).
	writer       string
	onMoveWriter func(from, to string)
	joinErr      error
	// onJoin, if set, runs inside JoinMember (a test looks at what runs
	// beside the join); its error is the join's.
	onJoin func(ctx context.Context, name string) error
}

func newFakeGuests(log *callLog) *fakeGuests {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return &fakeGuests{log: log, key: key, hostKeyErr: map[string]error{}}
}

func (g *fakeGuests) HostKey(ctx context.Context, t guest.SSHTarget) (ssh.PublicKey, error) {
	g.log.add("HostKey " + t.Addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.targets = append(g.targets, t)
	if g.unreachable {
		g.mu.Unlock()
		<-ctx.Done()
		g.mu.Lock()
		return nil, fmt.Errorf("ssh %s: not reachable after 9 attempts: %w", t.Addr, ctx.Err())
	}
	if err := cmp.Or(g.hostKeyErr[t.Addr], g.hostKeyErr["*"]); err != nil {
		return nil, err
	}
	return g.key, nil
}

func (g *fakeGuests) Open(spec guest.ClusterSpec, _ guest.Observer) (GuestCluster, error) {
	if err := guest.Validate(spec); err != nil {
		return nil, err
	}
	g.log.add("OpenGuests " + spec.Name)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.specs = append(g.specs, spec)
	return &fakeGuestCluster{g: g, spec: spec}, nil
}

type fakeGuestCluster struct {
	g    *fakeGuests
	spec guest.ClusterSpec
}

func (c *fakeGuestCluster) status() guest.Status {
	var st guest.Status
	for _, n := range c.spec.Nodes {
		if h, ok := c.g.health[n.Name]; ok {
			ns := h.Status
			ns.Node, ns.Address = n.Name, n.Address
			st.Nodes = append(st.Nodes, ns)
			if !h.Healthy() {
				st.Problems = append(st.Problems, n.Name+" is unhealthy")
			}
			continue
		}
		st.Nodes = append(st.Nodes, guest.NodeStatus{
			Node: n.Name, Address: n.Address, ClusterSize: len(c.spec.Nodes), StateUUID: "0d5e8f3a-state",
			LocalState: "Synced", ClusterStatus: "Primary", Ready: true, Connected: true,
			RecordedWriter: c.writerAddress(), IncomingAddresses: c.incoming(),
		})
	}
	return st
}

func (c *fakeGuestCluster) Create(ctx context.Context, users ...guest.User) (guest.Status, error) {
	c.g.log.add("GuestCreate " + c.spec.Name)
	if c.g.createHook != nil {
		if err := c.g.createHook(ctx); err != nil {
			return guest.Status{}, err
		}
	}
	// As the library does, each node is prepared once its server is up.
	err := parallel(c.spec.Nodes, func(n guest.Node) error {
		if n.Await == nil {
			return nil
		}
		if _, err := n.Await(ctx); err != nil {
			return &guest.NodeError{Phase: guest.PhasePrepare, Node: n.Name, Err: err}
		}
		c.g.log.add("GuestPrepare " + n.Name)
		return nil
	})
	if err != nil {
		return guest.Status{}, err
	}
	c.g.mu.Lock()
	c.g.users = append(c.g.users, users)
	c.g.mu.Unlock()
	if c.g.createErr != nil {
		return guest.Status{}, c.g.createErr
	}
	return c.status(), nil
}

func (c *fakeGuestCluster) Status(context.Context) (guest.Status, error) {
	c.g.log.add("GuestStatus " + c.spec.Name)
	return c.status(), nil
}

func (c *fakeGuestCluster) EnsureUsers(_ context.Context, users ...guest.User) error {
	c.g.log.add("EnsureUsers " + c.spec.Name)
	c.g.mu.Lock()
	c.g.users = append(c.g.users, users)
	c.g.mu.Unlock()
	return nil
}

func (c *fakeGuestCluster) DropUsers(_ context.Context, users ...guest.User) error {
	c.g.log.add("DropUsers " + c.spec.Name)
	c.g.mu.Lock()
	c.g.dropped = append(c.g.dropped, users...)
	c.g.mu.Unlock()
	return nil
}

func (c *fakeGuestCluster) Close() error { return nil }

func (c *fakeGuestCluster) Health(context.Context) ([]guest.NodeHealth, error) {
	c.g.log.add("GuestHealth " + c.spec.Name)
	var out []guest.NodeHealth
	for _, ns := range c.status().Nodes {
		if h, ok := c.g.health[ns.Node]; ok {
			h.Node = ns.Node
			out = append(out, h)
			continue
		}
		out = append(out, guest.NodeHealth{Node: ns.Node, MysqldRunning: true, ResponderUp: true, Status: ns})
	}
	return out, nil
}

func (c *fakeGuestCluster) StaticVariables(_ context.Context, names []string) ([]string, error) {
	c.g.log.add("StaticVariables " + c.spec.Name)
	var out []string
	for _, n := range names {
		if c.g.static[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func (c *fakeGuestCluster) RepairNode(_ context.Context, name string) error {
	c.g.log.add("RepairNode " + name)
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	c.g.repaired = append(c.g.repaired, name)
	if errs := c.g.repairErr[name]; len(errs) > 0 {
		c.g.repairErr[name] = errs[1:]
		return errs[0]
	}
	return nil
}

func (c *fakeGuestCluster) Survey(context.Context) ([]guest.NodeRecovery, error) {
	c.g.log.add("Survey " + c.spec.Name)
	// Only the nodes this handle was opened with are surveyed.
	var out []guest.NodeRecovery
	for _, r := range c.g.survey {
		if slices.ContainsFunc(c.spec.Nodes, func(n guest.Node) bool { return n.Name == r.Node }) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *fakeGuestCluster) Recover(_ context.Context, force string) (guest.Decision, error) {
	c.g.log.add("Recover " + force)
	c.g.mu.Lock()
	c.g.recovered = append(c.g.recovered, force)
	c.g.mu.Unlock()
	return guest.Decide(c.g.survey, force)
}

func (c *fakeGuestCluster) ApplySettings(_ context.Context, ch guest.SettingsChange) error {
	c.g.log.add("ApplySettings " + c.spec.Name)
	c.g.mu.Lock()
	c.g.settings = append(c.g.settings, ch)
	c.g.mu.Unlock()
	return nil
}

func (c *fakeGuestCluster) RotateRootPassword(_ context.Context, users ...guest.User) error {
	c.g.log.add("RotateRootPassword " + c.spec.Name)
	c.g.mu.Lock()
	c.g.rotations = append(c.g.rotations, users)
	c.g.mu.Unlock()
	return nil
}

func (g *fakeGuests) StoredRootPassword(_ context.Context, t guest.SSHTarget) (string, error) {
	g.log.add("StoredRootPassword " + t.Addr)
	if g.stored == "" {
		return "", errors.New("no client file")
	}
	return g.stored, nil
}

func (c *fakeGuestCluster) GrowFilesystem(_ context.Context, node string, minBytes int64) (int64, error) {
	c.g.log.add("GrowFilesystem " + node)
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if err := c.g.growErr[node]; err != nil {
		return 0, err
	}
	c.g.grown = append(c.g.grown, fmt.Sprintf("%s %d", node, minBytes))
	return minBytes, nil
}

func (c *fakeGuestCluster) writerAddress() string {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	for _, n := range c.spec.Nodes {
		if n.Name == c.g.writer {
			return n.Address
		}
	}
	return ""
}

func (c *fakeGuestCluster) incoming() []string {
	var out []string
	for _, n := range c.spec.Nodes {
		out = append(out, n.Address+":3306")
	}
	return out
}

func (c *fakeGuestCluster) JoinMember(ctx context.Context, name string) error {
	c.g.log.add("JoinMember " + name)
	if c.g.onJoin != nil {
		if err := c.g.onJoin(ctx, name); err != nil {
			return err
		}
	}
	return c.g.joinErr
}

func (c *fakeGuestCluster) Leave(_ context.Context, name string) error {
	c.g.log.add("Leave " + name)
	return nil
}

func (c *fakeGuestCluster) MoveWriter(_ context.Context, away string) (string, error) {
	c.g.log.add("MoveWriter " + away)
	c.g.mu.Lock()
	if c.g.writer != away {
		c.g.mu.Unlock()
		return "", nil
	}
	to := ""
	for _, n := range c.spec.Nodes {
		if n.Name != away {
			to = n.Name
			break
		}
	}
	c.g.writer = to
	hook := c.g.onMoveWriter
	c.g.mu.Unlock()
	if hook != nil {
		hook(away, to)
	}
	return to, nil
}

func (c *fakeGuestCluster) StartArbitrator(_ context.Context, name string) error {
	c.g.log.add("StartArbitrator " + name)
	return nil
}

func (c *fakeGuestCluster) StopArbitrator(_ context.Context, name string) error {
	c.g.log.add("StopArbitrator " + name)
	return nil
}

func (c *fakeGuestCluster) DrainClients(_ context.Context, name string, _, _ time.Duration) error {
	c.g.log.add("DrainClients " + name)
	return nil
}

func (c *fakeGuestCluster) RestartMember(_ context.Context, name string) error {
	c.g.log.add("RestartMember " + name)
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	return c.g.restartErr[name]
}

func (c *fakeGuestCluster) StopNode(_ context.Context, name string) error {
	c.g.log.add("StopNode " + name)
	return nil
}

func (c *fakeGuestCluster) EnsureTLSFiles(_ context.Context, name string) error {
	c.g.log.add("EnsureTLSFiles " + name)
	return nil
}

func (c *fakeGuestCluster) WriteCABundle(_ context.Context, name, _ string) error {
	c.g.log.add("WriteCABundle " + name)
	return nil
}

func (c *fakeGuestCluster) ReloadTLS(_ context.Context, name string) error {
	c.g.log.add("ReloadTLS " + name)
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	return c.g.reloadErr[name]
}

func (c *fakeGuestCluster) CertificateExpiry(_ context.Context) (map[string]time.Time, error) {
	c.g.log.add("CertificateExpiry")
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	return c.g.expiry, nil
}
