package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Node kinds: what a member runs.
const (
	KindData       = ""           // mysqld on a data volume
	KindArbitrator = "arbitrator" // garbd only: it votes and holds no data
)

// PhaseMembership names membership changes of a running cluster in errors
// and progress events.
const PhaseMembership = "membership"

// drainQuiet and drainTimeout bound DrainClients: a member is drained
// once no client has landed on it for drainQuiet.
const (
	drainQuiet   = time.Second
	drainTimeout = time.Minute
)

// AddNode adds member n to the running cluster c: the new server of a grow
// or pxc_node (a new name), or the fresh server that replaces a member of
// the same name (repair). It provisions n (a port unless n has one, server
// and volume), verifies its host key, joins it from a donor that is not the
// writer, waits Synced, rewrites gcomm:// in every member's configuration
// and puts it into the cluster's load balancer pools (one member batch per
// pool; a single-writer pool takes it while it joins, in two).
// spec is the cluster's, with the node's own flavor if it has one. When
// provisioning fails (the volume's attach included), what it made is
// deleted again, so the next apply starts over; otherwise n is recorded in
// c, so a failure leaves a node the next apply repairs or RemoveNode
// deletes.
func (m *Manager) AddNode(ctx context.Context, c *Cluster, spec Spec, n *Node) error {
	if n.Name == "" || n.Index < 1 {
		return &PhaseError{Phase: PhaseValidate, Err: fmt.Errorf("a node needs a name and an index, got %q and %d", n.Name, n.Index)}
	}
	refs, errs := m.Resolve(ctx, spec.Flavor, spec.Image, spec.Network)
	if len(errs) > 0 {
		return &PhaseError{Phase: PhaseValidate, Node: n.Name, Err: errors.Join(errs...)}
	}
	start := time.Now()
	hadPort := n.PortID != ""
	attach, err := m.provisionNode(ctx, placement{spec: spec, refs: refs, c: c}, n)
	if err != nil {
		return m.dropProvisioned(ctx, c, n, hadPort, explainPlacement(err, spec.AntiAffinity, len(c.Nodes)+1))
	}
	// As in a create, the volume attaches while the node is verified and
	// prepared (the guest waits for its disk by serial). A failed attach
	// ends the join and undoes the provisioning; the node had not joined.
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	attached := make(chan error, 1)
	go func() {
		err := attach.wait(jctx)
		if err != nil {
			cancel(err)
		}
		attached <- err
	}()
	joined, err := m.joinAdded(jctx, c, spec, n, start)
	if aerr := <-attached; aerr != nil && !joined {
		return m.dropProvisioned(ctx, c, n, hadPort, aerr)
	} else if aerr != nil {
		return aerr
	}
	return err
}

// dropProvisioned deletes what AddNode made for n after err, so the next
// apply starts over (a server in ERROR, e.g. no host, is of no use), and
// forgets it in c; a node that came with its port keeps it. When the
// delete fails, n stays recorded for the next apply to repair or remove.
func (m *Manager) dropProvisioned(ctx context.Context, c *Cluster, n *Node, hadPort bool, err error) error {
	made := Node{ServerID: n.ServerID, VolumeID: n.VolumeID}
	if !hadPort {
		made.PortID = n.PortID
	}
	if cerr := m.deleteNodeObjects(context.WithoutCancel(ctx), made); cerr != nil {
		m.log.Warn(ctx, fmt.Sprintf("%s: cleaning up after the failed provisioning: %v", n.Name, cerr))
		c.putNode(*n)
	} else {
		n.ServerID, n.VolumeID = "", ""
		if !hadPort {
			n.PortID, n.IP = "", ""
			c.forgetNode(n.Name)
		} else {
			c.putNode(*n)
		}
	}
	var pe *PhaseError
	if errors.As(err, &pe) {
		return err
	}
	return &PhaseError{Phase: PhaseServers, Node: n.Name, Err: err}
}

// joinAdded makes n, provisioned, a member: its host key verified and
// recorded, n recorded in c, then garbd started or the node joined and put
// into the pools. joined says whether it got as far as the join (after
// that, a failure leaves a node for the next apply to repair).
func (m *Manager) joinAdded(ctx context.Context, c *Cluster, spec Spec, n *Node, start time.Time) (joined bool, err error) {
	defer func() { c.putNode(*n) }()
	a := accessFor(spec, spec.SSH.PrivateKey, c.HostKeys)
	key, err := m.nodeHostKey(ctx, spec, a, n)
	if err != nil {
		return false, err
	}
	if c.HostKeys == nil {
		c.HostKeys = map[string]string{}
	}
	if key != "" {
		c.HostKeys[n.ServerID] = key
	}
	c.putNode(*n)
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return false, err
	}
	defer gc.Close()
	if n.Kind == KindArbitrator {
		// garbd: no state transfer, no SQL, no pool member (node.go).
		if err := gc.StartArbitrator(ctx, n.Name); err != nil {
			return false, guestPhaseError(err)
		}
		if st, err := gc.Status(ctx); err == nil {
			applyStatus(c, st)
		}
		m.progress(ctx, PhaseMembership, n.Name, fmt.Sprintf("arbitrator %s connected; %d voting members", n.Name, len(c.Nodes)), start)
		return true, nil
	}
	pools, err := m.poolsOf(ctx, c)
	if err != nil {
		return false, &PhaseError{Phase: PhaseMembership, Node: n.Name, Err: err}
	}
	// A single-writer pool takes the node while it joins: a backup until
	// HAProxy has checked it (and found it down), then a member that gets
	// connections once its check passes, which there means it was elected
	// writer, never while it joins. A multi-writer pool's check passes for
	// any Synced node, so it takes the node once it is.
	var whileJoining, once []*Pool
	for _, p := range pools {
		if p.Mode == ModeSingleWriter {
			whileJoining = append(whileJoining, p)
		} else {
			once = append(once, p)
		}
	}
	added := make(chan error, 1)
	go func() { added <- m.addToPools(ctx, whileJoining, c, n.Name) }()
	err = gc.JoinMember(ctx, n.Name)
	if aerr := <-added; err == nil && aerr != nil {
		return true, aerr
	}
	if err != nil {
		return false, guestPhaseError(err)
	}
	if err := m.addToPools(ctx, once, c, n.Name); err != nil {
		return true, err
	}
	if st, err := gc.Status(ctx); err == nil {
		applyStatus(c, st)
		n.Wsrep, n.Role = c.nodeNamed(n.Name).Wsrep, c.nodeNamed(n.Name).Role
	}
	m.progress(ctx, PhaseMembership, n.Name, fmt.Sprintf("%s joined, Synced; %d members", n.Name, len(c.Nodes)), start)
	return true, nil
}

// addToPools makes the pools' members the cluster's nodes, new member node
// among them: one batch per pool (two in single-writer mode).
func (m *Manager) addToPools(ctx context.Context, pools []*Pool, c *Cluster, node string) error {
	for _, p := range pools {
		if err := m.SyncPoolMembers(ctx, p, c); err != nil {
			return &PhaseError{Phase: PhaseMembership, Node: node, Err: fmt.Errorf("add to load balancer %s: %w", p.LoadBalancerID, err)}
		}
	}
	return nil
}

// RemoveNode takes member name out of the running cluster c for good: the
// writer moves away first if it is the writer (so every pool keeps a
// writer), then it leaves every load balancer pool (one member batch per
// pool), its client sessions are drained, it stops cleanly and the others'
// gcomm:// is rewritten without it, and its server, volume and port are
// deleted. A node already gone from the cloud is only forgotten.
func (m *Manager) RemoveNode(ctx context.Context, c *Cluster, spec Spec, name string) error {
	i := c.nodeIndex(name)
	if i < 0 {
		return nil
	}
	n := c.Nodes[i]
	start := time.Now()
	pools, err := m.poolsOf(ctx, c)
	if err != nil {
		return &PhaseError{Phase: PhaseMembership, Node: name, Err: err}
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	if n.ServerID != "" {
		if err := m.moveWriter(ctx, c, gc, pools, name); err != nil {
			return err
		}
	}
	rest := *c
	rest.Nodes = append(append([]Node(nil), c.Nodes[:i]...), c.Nodes[i+1:]...)
	for _, p := range pools {
		if err := m.SyncPoolMembers(ctx, p, &rest); err != nil {
			return &PhaseError{Phase: PhaseMembership, Node: name, Err: fmt.Errorf("remove from load balancer %s: %w", p.LoadBalancerID, err)}
		}
	}
	if n.ServerID != "" {
		if err := gc.DrainClients(ctx, name, drainQuiet, drainTimeout); err != nil {
			return guestPhaseError(err)
		}
		if err := gc.Leave(ctx, name); err != nil {
			return &PhaseError{Phase: PhaseMembership, Node: name, Err: err}
		}
	}
	if err := m.deleteNodeObjects(ctx, n); err != nil {
		return &PhaseError{Phase: PhaseMembership, Node: name, Err: err}
	}
	c.forgetNode(name)
	m.progress(ctx, PhaseMembership, name, fmt.Sprintf("%s left; server, volume and port deleted; %d members", name, len(c.Nodes)), start)
	return nil
}

// deleteNodeObjects deletes a member's server (which detaches its volume),
// then its volume and port; objects already gone count as deleted.
func (m *Manager) deleteNodeObjects(ctx context.Context, n Node) error {
	gone := func(err error) error {
		if openstack.IsNotFound(err) {
			return nil
		}
		return err
	}
	if n.ServerID != "" {
		if err := gone(m.cloud.DeleteServer(ctx, n.ServerID)); err != nil {
			return fmt.Errorf("delete server %s: %w", n.ServerID, err)
		}
	}
	if n.VolumeID != "" {
		if err := gone(m.cloud.DeleteVolume(ctx, n.VolumeID)); err != nil {
			return fmt.Errorf("delete volume %s: %w", n.VolumeID, err)
		}
	}
	if n.PortID != "" {
		if err := gone(m.cloud.DeletePort(ctx, n.PortID)); err != nil {
			return fmt.Errorf("delete port %s: %w", n.PortID, err)
		}
	}
	return nil
}

// putNode records n in c: it replaces the member of the same name (whose
// server's host key goes with it when the server changed) or joins the
// list in index order.
func (c *Cluster) putNode(n Node) {
	if i := c.nodeIndex(n.Name); i >= 0 {
		if old := c.Nodes[i].ServerID; old != "" && old != n.ServerID {
			delete(c.HostKeys, old)
		}
		c.Nodes[i] = n
		return
	}
	at := len(c.Nodes)
	for i, o := range c.Nodes {
		if o.Index > n.Index {
			at = i
			break
		}
	}
	c.Nodes = append(c.Nodes[:at], append([]Node{n}, c.Nodes[at:]...)...)
}

// forgetNode removes the node named name from c, with its host key.
func (c *Cluster) forgetNode(name string) {
	if i := c.nodeIndex(name); i >= 0 {
		delete(c.HostKeys, c.Nodes[i].ServerID)
		c.Nodes = append(c.Nodes[:i:i], c.Nodes[i+1:]...)
	}
}

func (c *Cluster) nodeIndex(name string) int {
	for i, n := range c.Nodes {
		if n.Name == name {
			return i
		}
	}
	return -1
}

func (c *Cluster) nodeNamed(name string) Node {
	if i := c.nodeIndex(name); i >= 0 {
		return c.Nodes[i]
	}
	return Node{}
}
