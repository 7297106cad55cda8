package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Create builds the cluster: cloud objects, servers, guests, gate. It
// returns the cluster even on error whenever an id was assigned, so the
// caller can record it: Delete(id) then removes whatever was made.
func (m *Manager) Create(ctx context.Context, spec Spec) (*Cluster, error) {
	if err := validateSpec(spec); err != nil {
		return nil, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	refs, errs := m.Resolve(ctx, spec.Flavor, spec.Image, spec.Network)
	if len(errs) > 0 {
		return nil, &PhaseError{Phase: PhaseValidate, Err: errors.Join(errs...)}
	}
	id, err := newClusterID()
	if err != nil {
		return nil, err
	}
	if spec.RootPassword == "" {
		if spec.RootPassword, err = GeneratePassword(24); err != nil {
			return nil, err
		}
	}
	c := &Cluster{ID: id, Name: spec.Name, Datastore: spec.Datastore, Status: "BUILD", RootPassword: spec.RootPassword}
	if err := ensureCA(&spec, c); err != nil {
		return nil, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	b := &build{m: m, placement: placement{spec: spec, refs: refs, c: c}, started: time.Now()}
	if err := b.run(ctx); err != nil {
		c.Status = "ERROR"
		if restoreFailed(err) {
			return m.undoFailedRestore(ctx, c, err)
		}
		return c, err
	}
	return c, nil
}

// build is one create in progress.
type build struct {
	placement
	m       *Manager
	started time.Time

	privateKey string // PEM of the key the servers trust
}

func (b *build) run(ctx context.Context) error {
	t := time.Now()
	if err := b.keyPair(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	if err := b.securityGroup(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	if err := b.serverGroup(ctx); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	if err := b.backupSetup(ctx); err != nil {
		return err
	}
	b.c.Nodes = make([]Node, b.spec.NodeCount)
	for i := range b.c.Nodes {
		b.c.Nodes[i] = Node{Index: i + 1, Name: NodeName(b.spec.Name, i+1)}
		if len(b.spec.AvailabilityZones) > 0 {
			b.c.Nodes[i].AvailabilityZone = b.spec.AvailabilityZones[i%len(b.spec.AvailabilityZones)]
		}
	}
	if err := eachNode(ctx, b.c.Nodes, PhaseServers, func(ctx context.Context, n *Node) error {
		return b.m.provisionPort(ctx, b.placement, n)
	}); err != nil {
		return err
	}
	sources, err := b.m.sshSources(ctx, b.spec, b.refs.Subnet, b.c.Nodes[0].IP)
	if err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	if err := b.m.addRules(ctx, b.c, sshRules(sources)); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	b.m.progress(ctx, PhaseCloud, "", "keypair, security group, server group and ports ready", t)

	// Octavia refusing the load balancer ends the servers' build too: the
	// create fails with its error, not with the echo in the servers'.
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lbStarted := b.startLoadBalancer(ctx, cancel)
	err = b.serversAndGuests(sctx)
	lb := <-lbStarted
	b.c.LoadBalancer = lb.pool // recorded even on error, for the delete
	if lb.err != nil {
		return lb.err
	}
	if err != nil {
		return err
	}
	if b.spec.LoadBalancer != nil {
		if err := b.m.finishOwnLB(ctx, b.c, *b.spec.LoadBalancer, true); err != nil {
			return err
		}
	}
	b.m.progress(ctx, PhaseGate, "", "cluster created", b.started)
	return nil
}

// startedLB is what asking Octavia for the cluster's own load balancer gave.
type startedLB struct {
	pool *Pool
	err  error
}

// startLoadBalancer asks Octavia for the cluster's own load balancer, if
// the spec has one, while the servers build: its ports give the members'
// addresses. The answer comes on the channel (a zero one without a load
// balancer); a failure also calls fail.
func (b *build) startLoadBalancer(ctx context.Context, fail context.CancelCauseFunc) <-chan startedLB {
	done := make(chan startedLB, 1)
	if b.spec.LoadBalancer == nil {
		done <- startedLB{}
		return done
	}
	// A copy: the servers' build fills in the nodes meanwhile.
	c := *b.c
	c.Nodes = slices.Clone(b.c.Nodes)
	existing := clientRules(b.spec.AllowedCIDRs)
	go func() {
		rules := make([]openstack.SecurityGroupRule, len(existing))
		for i, r := range existing {
			rules[i] = r.neutron(&c)
		}
		err := b.m.startOwnLB(ctx, &c, *b.spec.LoadBalancer, b.refs.Subnet, rules)
		if err != nil {
			fail(err)
		}
		done <- startedLB{pool: c.LoadBalancer, err: err}
	}()
	return done
}

// serversAndGuests builds the servers and turns them into a verified
// Galera cluster at the same time: the guest library's create sequence
// starts once every data volume exists and prepares each node as soon as
// its own server is ACTIVE with its host key verified (arrivals), so the
// first one up and prepared bootstraps while slower servers still boot
// and the volumes attach. The cluster is done once both are.
func (b *build) serversAndGuests(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	arrived := newArrivals(b.c.Nodes)
	servers := make(chan error, 1)
	go func() {
		err := b.provisionServers(ctx, arrived)
		arrived.end(err)
		if err != nil {
			cancel(err) // the guests would wait for a server or disk that never comes
		}
		servers <- err
	}()
	t := time.Now()
	st, err := b.configureGuests(ctx, arrived)
	// The guests' failure is the create's only when it came first: after
	// the servers' failure, or the create's timeout, it is an echo, and the
	// servers' error names the phase and node that were still going.
	guestsFirst := err != nil && ctx.Err() == nil
	if err != nil {
		cancel(err)
	}
	if serr := <-servers; serr != nil && !guestsFirst {
		return serr
	}
	if err != nil {
		return err
	}
	applyStatus(b.c, st)
	b.m.progress(ctx, PhaseGate, "", fmt.Sprintf("membership gate passed: %d nodes Synced and Primary in cluster %s", len(st.Nodes), b.c.ClusterStateUUID), t)
	return nil
}

// provisionServers gives every node its server and volume. Each node's
// volume is handed to the guests once it exists, and its server once it
// is ACTIVE and its host key verified; then the keys are recorded and the
// volumes' attach waited for.
func (b *build) provisionServers(ctx context.Context, arrived *arrivals) error {
	t := time.Now()
	hostKeys := b.m.newHostKeyVerifier(ctx, b.spec, b.c, b.access())
	p := b.placement
	p.onVolume = arrived.volumeMade
	p.onActive = func(ctx context.Context, n *Node) error {
		if err := hostKeys.verify(ctx, n); err != nil {
			return err
		}
		target, err := hostKeys.target(n)
		if err != nil {
			return &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
		}
		arrived.arrive(n, target)
		return nil
	}
	attaches := make([]volumeAttach, len(b.c.Nodes))
	if err := eachNode(ctx, b.c.Nodes, PhaseServers, func(ctx context.Context, n *Node) error {
		a, err := b.m.provisionNode(ctx, p, n)
		attaches[n.Index-1] = a
		return explainPlacement(err, b.spec.AntiAffinity, b.spec.NodeCount)
	}); err != nil {
		return err
	}
	hostKeys.record(b.c)
	b.m.progress(ctx, PhaseServers, "", fmt.Sprintf("%d servers ACTIVE with data volumes attaching, SSH host keys verified", len(b.c.Nodes)), t)
	return waitAttached(ctx, attaches)
}

func (b *build) access() guestAccess { return accessFor(b.spec, b.privateKey, b.c.HostKeys) }

func (b *build) keyPair(ctx context.Context) error {
	if b.spec.KeyPair != "" {
		if _, err := b.m.cloud.GetKeyPair(ctx, b.spec.KeyPair); err != nil {
			return fmt.Errorf("key_pair %s: %w", b.spec.KeyPair, err)
		}
		b.c.KeyPairName = b.spec.KeyPair
		b.privateKey = b.spec.SSH.PrivateKey
		return nil
	}
	// Generate locally so the private key never crosses the API.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "pxc cluster "+b.c.Name)
	if err != nil {
		return fmt.Errorf("encode SSH key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode SSH public key: %w", err)
	}
	name := ObjectName(b.c.Name, b.c.ID)
	if _, err := b.m.cloud.ImportKeyPair(ctx, name, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))); err != nil {
		return err
	}
	b.c.KeyPairName = name
	b.c.KeyPairGenerated = true
	b.privateKey = string(pem.EncodeToMemory(block))
	b.c.GeneratedPrivateKey = b.privateKey
	return nil
}

// securityGroup makes the cluster's group with the member and client
// rules; the SSH rules follow once the ports say where the nodes are.
func (b *build) securityGroup(ctx context.Context) error {
	sg, err := b.m.cloud.CreateSecurityGroup(ctx, ObjectName(b.c.Name, b.c.ID), ownerDescription(b.c.ID), nil)
	if err != nil {
		return err
	}
	b.c.SecurityGroupID = sg.ID
	return b.m.addRules(ctx, b.c, append(memberRules(), clientRules(b.spec.AllowedCIDRs)...))
}

func (b *build) serverGroup(ctx context.Context) error {
	if b.spec.AntiAffinity == "" {
		return nil
	}
	g, err := b.m.cloud.CreateServerGroup(ctx, ObjectName(b.c.Name, b.c.ID), b.spec.AntiAffinity)
	if err != nil {
		return err
	}
	b.c.ServerGroupID = g.ID
	return nil
}

// configureGuests runs the guest library's one create sequence over the
// nodes as they arrive, then schedules the backups the spec asks for.
func (b *build) configureGuests(ctx context.Context, arrived *arrivals) (guest.Status, error) {
	nodes, err := arrived.guestNodes(ctx)
	if err != nil {
		return guest.Status{}, err
	}
	gs, err := guestClusterSpec(b.spec, b.c)
	if err != nil {
		return guest.Status{}, err
	}
	gs.Nodes = nodes
	gc, err := b.m.guests.Open(gs, b.m.observer(ctx))
	if err != nil {
		return guest.Status{}, err
	}
	defer gc.Close()
	st, err := b.createGuests(ctx, gc)
	if err != nil {
		return st, err
	}
	if b.spec.Backup != nil {
		if err := scheduleBackups(ctx, gc, b.spec.Backup); err != nil {
			return st, &PhaseError{Phase: PhaseBackup, Err: err}
		}
	}
	return st, nil
}

// createGuests seeds the first node from a backup when the spec restores
// one, then runs the guest library's create sequence.
func (b *build) createGuests(ctx context.Context, gc GuestCluster) (guest.Status, error) {
	if err := b.seedFromBackup(ctx, gc); err != nil {
		return guest.Status{}, err
	}
	st, err := gc.Create(ctx, clientRootUsers(b.spec)...)
	if err != nil {
		return st, guestPhaseError(err)
	}
	return st, nil
}
