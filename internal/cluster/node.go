package cluster

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// NodeSpec is an extra member of an existing cluster (pxc_node): a data
// node (same volume as the cluster's nodes, its own flavor allowed) or an
// arbitrator (garbd on a small server, no volume, no mysqld).
type NodeSpec struct {
	ClusterID string
	// Name empty: <cluster>-<n>, continuing the cluster's numbering.
	Name string
	// Flavor empty: the cluster's.
	Flavor           string
	AvailabilityZone string
	Kind             string // KindData or KindArbitrator
}

// NodeInfo is what a server says of the extra member it is (import).
type NodeInfo struct {
	ClusterID string
	Name      string
	Kind      string
	Flavor    string
	Zone      string
}

// ClusterSpecFor rebuilds the cluster's spec from what its servers record,
// with the access a caller brings (a pxc_node has the cluster's id and
// credentials, not its configuration). Parameters are not recorded in the
// cloud: the caller passes the cluster's, since every member's
// configuration is rewritten when membership changes.
func ClusterSpecFor(c *Cluster, access Spec) Spec {
	s := access
	s.Name = c.Name
	s.Datastore = c.Datastore
	rq := c.Requested
	s.NodeCount = rq.NodeCount
	s.Flavor, s.Image, s.Network = rq.Flavor, rq.Image, rq.Network
	s.Volume = rq.Volume
	s.AntiAffinity = rq.AntiAffinity
	s.SSTMethod = rq.SSTMethod
	s.AvailabilityZones = rq.AvailabilityZones
	s.FailureDetection = rq.FailureDetection
	s.KeyPair = ""
	if !c.KeyPairGenerated {
		s.KeyPair = c.KeyPairName
	}
	return completeSpec(s, c)
}

// nextNodeIndex continues the cluster's numbering past every member.
func nextNodeIndex(c *Cluster) int {
	next := 1
	for _, n := range c.Nodes {
		next = max(next, n.Index+1)
	}
	return next
}

// CreateNode adds the extra member ns to the running cluster c (read with
// access) through AddNode: a data node joins from a donor that is not the
// writer, gcomm:// is rewritten everywhere and the pools get it in one
// batch; an arbitrator gets a server without volume and garbd. The node is returned as soon as it has an id, with the
// error, so a failed create leaves state that a destroy removes.
func (m *Manager) CreateNode(ctx context.Context, c *Cluster, ns NodeSpec, spec Spec) (*Node, error) {
	n := &Node{Index: nextNodeIndex(c), Name: ns.Name, Kind: ns.Kind, Extra: true, AvailabilityZone: ns.AvailabilityZone}
	if n.Name == "" {
		n.Name = NodeName(c.Name, n.Index)
	}
	if c.nodeIndex(n.Name) >= 0 {
		return nil, &PhaseError{Phase: PhaseValidate, Node: n.Name, Err: fmt.Errorf("cluster %s already has a member named %s", c.ID, n.Name)}
	}
	if ns.Flavor != "" {
		spec.Flavor = ns.Flavor
	}
	m.learnHostKeys(ctx, spec, c)
	if ns.Kind != KindData && ns.Kind != KindArbitrator {
		return nil, &PhaseError{Phase: PhaseValidate, Node: n.Name, Err: fmt.Errorf("unknown node kind %q", ns.Kind)}
	}
	// An arbitrator's AddNode makes no volume and starts garbd, not mysqld.
	err := m.AddNode(ctx, c, spec, n)
	if n.ServerID == "" && n.PortID == "" {
		return nil, err
	}
	return n, err
}

// DeleteNode removes the extra member name from cluster c for good: a data
// node leaves gracefully (RemoveNode: writer moved first, pools, drain,
// leave, objects deleted), an arbitrator's garbd stops cleanly before its
// server and port are deleted.
func (m *Manager) DeleteNode(ctx context.Context, c *Cluster, spec Spec, name string) error {
	i := c.nodeIndex(name)
	if i < 0 {
		return nil
	}
	m.learnHostKeys(ctx, spec, c)
	if c.Nodes[i].Kind == KindArbitrator {
		return m.removeArbitrator(ctx, c, spec, name)
	}
	return m.RemoveNode(ctx, c, spec, name)
}

// learnHostKeyTimeout bounds verifying one member's host key for a
// pxc_node, which did not build the cluster and starts without its keys.
const learnHostKeyTimeout = 30 * time.Second

// learnHostKeys verifies and records the host key of every running member
// c.HostKeys lacks (console mode: the console's fingerprints, checked over
// SSH), so the membership steps can reach every member. A member that does
// not answer is skipped: the step that needs it says so.
func (m *Manager) learnHostKeys(ctx context.Context, spec Spec, c *Cluster) {
	if spec.SSH.HostKeyCheck != HostKeyConsole {
		return
	}
	if c.HostKeys == nil {
		c.HostKeys = map[string]string{}
	}
	bounded := spec
	bounded.SSH.HostKeyTimeout, bounded.SSH.ConnectTimeout = learnHostKeyTimeout, learnHostKeyTimeout
	a := accessFor(bounded, spec.SSH.PrivateKey, c.HostKeys)
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.ServerID == "" || c.HostKeys[n.ServerID] != "" || n.ServerStatus != "ACTIVE" {
			continue
		}
		key, err := m.nodeHostKey(ctx, bounded, a, n)
		if err != nil {
			m.log.Warn(ctx, fmt.Sprintf("cannot verify the host key of %s: %v", n.Name, err))
			continue
		}
		if key != "" {
			c.HostKeys[n.ServerID] = key
		}
	}
}

// LookupNode reads the extra member on server serverID (import by server
// id). ErrNotFound: no such server, or it is not an extra member.
func (m *Manager) LookupNode(ctx context.Context, serverID string) (NodeInfo, error) {
	servers, err := m.cloud.ListServers(ctx, "", nil)
	if err != nil {
		return NodeInfo{}, err
	}
	for _, s := range servers {
		if s.ID != serverID {
			continue
		}
		if s.Metadata[metaClusterID] == "" || s.Metadata[metaNodeExtra] != "true" {
			return NodeInfo{}, fmt.Errorf("server %s is not a pxc_node (no %s metadata): %w", serverID, metaNodeExtra, ErrNotFound)
		}
		return NodeInfo{
			ClusterID: s.Metadata[metaClusterID], Name: s.Name, Kind: s.Metadata[metaNodeKind],
			Flavor: s.Metadata[metaFlavor], Zone: s.AvailabilityZone,
		}, nil
	}
	return NodeInfo{}, fmt.Errorf("no server has id %s: %w", serverID, ErrNotFound)
}

// removeArbitrator stops garbd (a clean leave: the group shrinks at once)
// and deletes the server and port; an arbitrator has no volume.
func (m *Manager) removeArbitrator(ctx context.Context, c *Cluster, spec Spec, name string) error {
	i := c.nodeIndex(name)
	n := c.Nodes[i]
	start := time.Now()
	if n.ServerID != "" && n.ServerStatus == "ACTIVE" {
		// A data member that cannot be reached must not keep the
		// arbitrator: deleting its server stops garbd too, only less
		// gracefully (the others wait out the suspect timeout).
		gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
		if err != nil {
			m.log.Warn(ctx, fmt.Sprintf("cannot reach the cluster to stop garbd on %s cleanly (%v); deleting its server stops it", name, err))
		} else {
			defer gc.Close()
			if err := gc.StopArbitrator(ctx, name); err != nil {
				return guestPhaseError(err)
			}
		}
	}
	if err := m.deleteNodeObjects(ctx, n); err != nil {
		return &PhaseError{Phase: PhaseMembership, Node: name, Err: err}
	}
	c.forgetNode(name)
	m.progress(ctx, PhaseMembership, name, fmt.Sprintf("arbitrator %s left; server and port deleted", name), start)
	return nil
}

// DataNodes counts the members that hold data (not arbitrators).
func (c *Cluster) DataNodes() int {
	count := 0
	for _, n := range c.Nodes {
		if n.Kind != KindArbitrator {
			count++
		}
	}
	return count
}

// OwnNodes counts the members node_count makes (not pxc_node extras).
func (c *Cluster) OwnNodes() int {
	count := 0
	for _, n := range c.Nodes {
		if !n.Extra {
			count++
		}
	}
	return count
}

// extraMetadata marks a pxc_node's server: its kind, and that node_count
// does not count it (its pxc_flavor is its own flavor).
func extraMetadata(meta map[string]string, n *Node) {
	if n.Kind != KindData {
		meta[metaNodeKind] = n.Kind
	}
	if n.Extra {
		meta[metaNodeExtra] = "true"
	}
}

// kindOf reads the extra-member metadata back.
func kindOf(meta map[string]string) (kind string, extra bool) {
	extra, _ = strconv.ParseBool(meta[metaNodeExtra])
	return meta[metaNodeKind], extra
}
