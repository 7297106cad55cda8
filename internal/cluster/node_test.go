package cluster

import (
	"errors"
	"slices"
	"testing"
)

// A data pxc_node continues the numbering, may have its own flavor, joins
// like a grown node and is in the pools; the servers record it as an extra
// that node_count does not count, and a later read (import) finds it.
func TestCreateNodeDataContinuesNumberingAndFillsThePools(t *testing.T) {
	r, c, p := membershipRig(t)
	ctx := testContext(t)
	access := testSpec()
	access.SSH.PrivateKey = c.GeneratedPrivateKey
	spec := ClusterSpecFor(c, access)
	n, err := r.m.CreateNode(ctx, c, NodeSpec{ClusterID: c.ID, Flavor: "m1.large", Kind: KindData}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "db-4" || n.Index != 4 || n.VolumeID == "" || !n.Extra {
		t.Fatalf("node = %+v", n)
	}
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2", "db-3", "db-4"}) {
		t.Errorf("pool members = %v", got)
	}
	info, err := r.m.LookupNode(ctx, n.ServerID)
	if err != nil || info.ClusterID != c.ID || info.Name != "db-4" || info.Kind != KindData || info.Flavor != "m1.large" {
		t.Errorf("LookupNode = %+v, %v", info, err)
	}
	if _, err := r.m.LookupNode(ctx, c.Nodes[0].ServerID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a node_count member is not a pxc_node: %v", err)
	}
	read, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if read.OwnNodes() != 3 || len(read.Nodes) != 4 || read.Requested.Flavor != "m1.small" {
		t.Errorf("read: %d own of %d nodes, requested flavor %q", read.OwnNodes(), len(read.Nodes), read.Requested.Flavor)
	}
	// node_count stays 3: a resize to 3 removes nothing.
	before := len(r.log.all())
	if err := r.m.Resize(ctx, read, spec); err != nil {
		t.Fatal(err)
	}
	if got := count(r.log.all()[before:], "DeleteServer"); got != 0 {
		t.Errorf("a resize to node_count removed %d servers", got)
	}
	// Delete is the graceful leave.
	before = len(r.log.all())
	if err := r.m.DeleteNode(ctx, read, spec, "db-4"); err != nil {
		t.Fatal(err)
	}
	inOrder(t, r.log.all()[before:], "SetPoolMembers", "Leave db-4", "DeleteServer")
	if objs := r.cloud.objects(); objs["servers"] != 3 || objs["volumes"] != 3 {
		t.Errorf("objects after the delete: %v", objs)
	}
}

// An arbitrator has a server and a port but no volume, starts garbd,
// stays out of the pools, and leaves by stopping garbd first.
func TestArbitratorNodeHasNoVolumeAndNoPoolMember(t *testing.T) {
	r, c, p := membershipRig(t)
	ctx := testContext(t)
	access := testSpec()
	access.SSH.PrivateKey = c.GeneratedPrivateKey
	spec := ClusterSpecFor(c, access)
	before := len(r.log.all())
	n, err := r.m.CreateNode(ctx, c, NodeSpec{ClusterID: c.ID, Name: "witness", Kind: KindArbitrator}, spec)
	if err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	inOrder(t, calls, "CreatePort witness", "CreateServer witness", "HostKey", "StartArbitrator witness")
	for _, forbidden := range []string{"CreateVolume", "AttachVolume", "JoinMember", "SetPoolMembers"} {
		if count(calls, forbidden) != 0 {
			t.Errorf("an arbitrator's create called %s", forbidden)
		}
	}
	if n.VolumeID != "" || n.Kind != KindArbitrator {
		t.Errorf("node = %+v", n)
	}
	last := r.guests.specs[len(r.guests.specs)-1]
	if len(last.Nodes) != 3 || len(last.Arbitrators) != 1 || last.Arbitrators[0].Address != n.IP {
		t.Errorf("guest spec: %d data nodes, arbitrators %+v", len(last.Nodes), last.Arbitrators)
	}
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2", "db-3"}) {
		t.Errorf("pool members = %v", got)
	}
	if c.Status != StatusActive {
		t.Errorf("status with an arbitrator that answers no SQL: %s", c.Status)
	}
	read, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if i := read.nodeIndex("witness"); i < 0 || read.Nodes[i].Kind != KindArbitrator || !read.Nodes[i].Extra {
		t.Fatalf("read nodes: %+v", read.Nodes)
	}
	before = len(r.log.all())
	if err := r.m.DeleteNode(ctx, read, spec, "witness"); err != nil {
		t.Fatal(err)
	}
	calls = r.log.all()[before:]
	inOrder(t, calls, "StopArbitrator witness", "DeleteServer", "DeletePort")
	if count(calls, "MoveWriter") != 0 || count(calls, "Leave") != 0 {
		t.Errorf("an arbitrator's leave moved the writer or ran a data leave: %v", calls)
	}
	if objs := r.cloud.objects(); objs["servers"] != 3 || objs["ports"] != 3 {
		t.Errorf("objects after the delete: %v", objs)
	}
}

// A given name that a member already has is refused before anything is made.
func TestCreateNodeRefusesATakenName(t *testing.T) {
	r, c, _ := membershipRig(t)
	access := testSpec()
	access.SSH.PrivateKey = c.GeneratedPrivateKey
	n, err := r.m.CreateNode(testContext(t), c, NodeSpec{ClusterID: c.ID, Name: "db-2", Kind: KindData}, ClusterSpecFor(c, access))
	var pe *PhaseError
	if n != nil || !errors.As(err, &pe) || pe.Phase != PhaseValidate {
		t.Fatalf("got %+v, %v", n, err)
	}
}

// A pxc_node starts without the cluster's host keys: it verifies every
// member's key (console fingerprints, then SSH) before joining.
func TestCreateNodeLearnsTheMembersHostKeys(t *testing.T) {
	r, c, _ := membershipRig(t)
	ctx := testContext(t)
	access := testSpec()
	access.SSH.PrivateKey = c.GeneratedPrivateKey
	read, err := r.m.Read(ctx, c.ID, &access, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := ClusterSpecFor(read, access)
	before := len(r.log.all())
	n, err := r.m.CreateNode(ctx, read, NodeSpec{ClusterID: c.ID, Kind: KindData}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(r.log.all()[before:], "HostKey"); got != 4 {
		t.Errorf("%d host key checks, want 4 (three members and the new node)", got)
	}
	for _, m := range read.Nodes {
		if read.HostKeys[m.ServerID] == "" {
			t.Errorf("no host key recorded for %s", m.Name)
		}
	}
	if n.Name != "db-4" {
		t.Errorf("node %s", n.Name)
	}
}

// node_count cannot grow onto the name of a pxc_node member: refused
// before anything is made, not taken as a repair of that member.
func TestResizeRefusesToGrowOntoAPxcNodeName(t *testing.T) {
	r, c, _ := membershipRig(t)
	ctx := testContext(t)
	access := testSpec()
	access.SSH.PrivateKey = c.GeneratedPrivateKey
	spec := ClusterSpecFor(c, access)
	if _, err := r.m.CreateNode(ctx, c, NodeSpec{ClusterID: c.ID, Kind: KindArbitrator}, spec); err != nil {
		t.Fatal(err)
	}
	spec.NodeCount = 4
	before := len(r.log.all())
	err := r.m.Resize(ctx, c, spec)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseValidate || pe.Node != "db-4" {
		t.Fatalf("got %v", err)
	}
	if got := count(r.log.all()[before:], "CreateServer"); got != 0 {
		t.Errorf("%d servers created", got)
	}
}
