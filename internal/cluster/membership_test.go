package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// membershipRig is a 3-node cluster behind a single-writer pool whose
// writer is db-1; moving the writer flips the fake load balancer's
// verdicts as the health checks would.
func membershipRig(t *testing.T) (*rig, *Cluster, *Pool) {
	t.Helper()
	return poolRig(t, ModeSingleWriter)
}

// poolRig is membershipRig with a pool in the given mode.
func poolRig(t *testing.T, mode string) (*rig, *Cluster, *Pool) {
	t.Helper()
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.m.CreatePool(ctx, PoolSpec{
		ClusterID: c.ID, Port: 3306, LBMethod: "ROUND_ROBIN", Mode: mode, HealthCheck: HealthGalera,
		ClientTimeoutMs: DefaultClientTimeoutMs, MemberTimeoutMs: DefaultMemberTimeoutMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.guests.writer = "db-1"
	r.guests.onMoveWriter = func(_, to string) { r.cloud.passesWriterCheck(p.PoolID, to) }
	return r, c, p
}

// passesWriterCheck gives the pool's members the verdicts of a "/writer"
// health check with writer as the writer.
func (f *fakeCloud) passesWriterCheck(poolID, writer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pool := f.pools[poolID]
	for i := range pool.Members {
		pool.Members[i].OperatingStatus = "ERROR"
		if pool.Members[i].Name == writer {
			pool.Members[i].OperatingStatus = "ONLINE"
		}
	}
	f.pools[poolID] = pool
}

func memberNames(t *testing.T, r *rig, p *Pool) []string {
	t.Helper()
	st, err := r.cloud.GetLoadBalancerStatus(testContext(t), p.LoadBalancerID)
	if err != nil {
		t.Fatal(err)
	}
	_, pool := st.FirstPool()
	var names []string
	for _, m := range pool.Members {
		names = append(names, m.Name)
	}
	return names
}

// inOrder fails unless each call (a prefix) occurs after the previous one.
func inOrder(t *testing.T, calls []string, want ...string) {
	t.Helper()
	pos := -1
	for _, w := range want {
		i := slices.IndexFunc(calls[pos+1:], func(c string) bool { return strings.HasPrefix(c, w) })
		if i < 0 {
			t.Fatalf("%q does not follow %q in:\n%s", w, calls[max(pos, 0)], strings.Join(calls, "\n"))
		}
		pos += i + 1
	}
}

func count(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// A multi-writer pool takes a new member in one batch (a single-writer
// pool stages it as a backup first: pool_members_test.go).
func TestAddNodeJoinsThenFillsThePoolsInOneBatch(t *testing.T) {
	r, c, p := poolRig(t, ModeMultiWriter)
	ctx := testContext(t)
	spec := testSpec()
	spec.NodeCount = 4
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	before := len(r.log.all())
	n := &Node{Index: 4, Name: "db-4"}
	if err := r.m.AddNode(ctx, c, spec, n); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	inOrder(t, calls, "CreatePort db-4", "CreateServer db-4", "AttachVolume", "HostKey", "JoinMember db-4", "SetPoolMembers")
	if got := count(calls, "SetPoolMembers"); got != 1 {
		t.Errorf("%d member batches, want one", got)
	}
	if got := count(calls, "JoinMember"); got != 1 {
		t.Errorf("%d joins, want one", got)
	}
	if len(c.Nodes) != 4 || c.Nodes[3].Name != "db-4" || c.Nodes[3].ServerID == "" || c.Nodes[3].VolumeID == "" || c.Nodes[3].IP == "" {
		t.Fatalf("nodes after the add: %+v", c.Nodes)
	}
	if c.HostKeys[n.ServerID] == "" {
		t.Errorf("no verified host key recorded for the new server")
	}
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2", "db-3", "db-4"}) {
		t.Errorf("pool members = %v", got)
	}
	if got := r.cloud.objects()["servers"]; got != 4 {
		t.Errorf("%d servers, want 4", got)
	}
	// The guests saw the new member in the spec they were opened with.
	last := r.guests.specs[len(r.guests.specs)-1]
	if len(last.Nodes) != 4 || last.Nodes[3].Address != n.IP {
		t.Errorf("guest spec members = %+v", last.Nodes)
	}
}

func TestAddNodeReplacesAMemberOfTheSameName(t *testing.T) {
	r, c, p := membershipRig(t)
	ctx := testContext(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	old := c.Nodes[1]
	if err := r.cloud.DeleteServer(ctx, old.ServerID); err != nil {
		t.Fatal(err)
	}
	before := len(r.log.all())
	n := c.Nodes[1]
	n.ServerID, n.VolumeID = "", ""
	if err := r.m.AddNode(ctx, c, spec, &n); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	if count(calls, "CreatePort") != 0 {
		t.Errorf("the member's port was replaced: %v", calls)
	}
	inOrder(t, calls, "CreateServer db-2", "JoinMember db-2", "SetPoolMembers")
	if len(c.Nodes) != 3 || c.Nodes[1].Name != "db-2" || c.Nodes[1].ServerID == old.ServerID || c.Nodes[1].PortID != old.PortID {
		t.Fatalf("nodes after the replacement: %+v", c.Nodes)
	}
	if _, ok := c.HostKeys[old.ServerID]; ok {
		t.Errorf("the old server's host key is still trusted")
	}
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2", "db-3"}) {
		t.Errorf("pool members = %v", got)
	}
}

func TestAddNodeThatCannotJoinStaysRecorded(t *testing.T) {
	r, c, _ := membershipRig(t)
	r.guests.joinErr = errors.New("SST failed")
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	err := r.m.AddNode(testContext(t), c, spec, &Node{Index: 4, Name: "db-4"})
	if err == nil {
		t.Fatal("AddNode succeeded although the join failed")
	}
	// Recorded with its ids: the next apply finishes it or RemoveNode deletes it.
	if len(c.Nodes) != 4 || c.Nodes[3].ServerID == "" || c.Nodes[3].VolumeID == "" || c.Nodes[3].PortID == "" {
		t.Fatalf("nodes after the failed add: %+v", c.Nodes)
	}
	if err := r.m.RemoveNode(testContext(t), c, spec, "db-4"); err != nil {
		t.Fatal(err)
	}
	if objs := r.cloud.objects(); objs["servers"] != 3 || objs["volumes"] != 3 || objs["ports"] != 3 {
		t.Errorf("objects after removing the failed node: %v", objs)
	}
}

func TestRemoveNodeMovesTheWriterFirst(t *testing.T) {
	r, c, p := membershipRig(t)
	ctx := testContext(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	// db-3 is the writer: the pool says so.
	r.guests.writer = "db-3"
	r.cloud.passesWriterCheck(p.PoolID, "db-3")
	victim := c.Nodes[2]
	before := len(r.log.all())
	if err := r.m.RemoveNode(ctx, c, spec, "db-3"); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	// The pool keeps a writer throughout: the writer moves and the check
	// switches before db-3 leaves the pool, stops and is deleted.
	inOrder(t, calls, "MoveWriter db-3", "GetLoadBalancerStatus", "DrainClients db-3", "SetPoolMembers", "DrainClients db-3",
		"Leave db-3", "DeleteServer db-3", "DeleteVolume db-3-data", "DeletePort db-3")
	if got := count(calls, "SetPoolMembers"); got != 1 {
		t.Errorf("%d member batches, want one", got)
	}
	if c.Writer != "db-1" {
		t.Errorf("writer = %q, want db-1", c.Writer)
	}
	if len(c.Nodes) != 2 || slices.ContainsFunc(c.Nodes, func(n Node) bool { return n.Name == "db-3" }) {
		t.Errorf("nodes after the removal: %+v", c.Nodes)
	}
	if _, ok := c.HostKeys[victim.ServerID]; ok {
		t.Errorf("the removed server's host key is still recorded")
	}
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2"}) {
		t.Errorf("pool members = %v", got)
	}
	if objs := r.cloud.objects(); objs["servers"] != 2 || objs["volumes"] != 2 || objs["ports"] != 2 {
		t.Errorf("objects after the removal: %v", objs)
	}
}

func TestRemoveNodeThatIsNotTheWriterKeepsIt(t *testing.T) {
	r, c, _ := membershipRig(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	before := len(r.log.all())
	if err := r.m.RemoveNode(testContext(t), c, spec, "db-3"); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	if r.guests.writer != "db-1" {
		t.Errorf("writer moved to %q", r.guests.writer)
	}
	inOrder(t, calls, "SetPoolMembers", "DrainClients db-3", "Leave db-3", "DeleteServer db-3")
	if count(calls, "DrainClients") != 1 {
		t.Errorf("drained without a writer move: %v", calls)
	}
}

func TestMoveWriterWaitsForThePoolToSwitch(t *testing.T) {
	r, c, _ := membershipRig(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	var order []string
	hook := r.guests.onMoveWriter
	r.guests.onMoveWriter = func(from, to string) {
		order = append(order, from+"->"+to)
		hook(from, to)
	}
	if err := r.m.MoveWriter(testContext(t), c, spec, "db-2"); err != nil {
		t.Fatal(err)
	}
	if len(order) != 0 {
		t.Errorf("moved a writer that was not db-2: %v", order)
	}
	if err := r.m.MoveWriter(testContext(t), c, spec, "db-1"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"db-1->db-2"}) || c.Writer != "db-2" {
		t.Errorf("moves %v, writer %q", order, c.Writer)
	}
}

func TestPlanResize(t *testing.T) {
	for _, tc := range []struct {
		have                 []string
		want                 int
		add, remove, missing []string
	}{
		{[]string{"db-1", "db-2", "db-3"}, 5, []string{"db-4", "db-5"}, nil, nil},
		{[]string{"db-1", "db-2", "db-3", "db-4", "db-5"}, 3, nil, []string{"db-5", "db-4"}, nil},
		{[]string{"db-1", "db-3"}, 3, nil, nil, []string{"db-2"}},
		{[]string{"db-1", "db-2", "db-3"}, 3, nil, nil, nil},
		{[]string{"db-1", "db-2", "db-3", "db-10"}, 4, []string{"db-4"}, []string{"db-10"}, nil},
	} {
		got := PlanResize("db", tc.have, tc.want)
		if !slices.Equal(got.Add, tc.add) || !slices.Equal(got.Remove, tc.remove) || !slices.Equal(got.Missing, tc.missing) {
			t.Errorf("PlanResize(%v, %d) = %+v, want add %v remove %v missing %v", tc.have, tc.want, got, tc.add, tc.remove, tc.missing)
		}
	}
}

func TestResizeGrowsOneAtATimeThenShrinksHighestFirst(t *testing.T) {
	r, c, p := membershipRig(t)
	ctx := testContext(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.NodeCount = 5
	before := len(r.log.all())
	if err := r.m.Resize(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	// Each node is Synced and in the pools before the next one's server exists.
	inOrder(t, calls, "CreateServer db-4", "JoinMember db-4", "SetPoolMembers", "CreateServer db-5", "JoinMember db-5", "SetPoolMembers")
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2", "db-3", "db-4", "db-5"}) {
		t.Errorf("pool members after the grow = %v", got)
	}
	if c.Status != StatusActive || len(c.Nodes) != 5 {
		t.Errorf("after the grow: status %s, %d nodes", c.Status, len(c.Nodes))
	}
	// The writer is among the nodes to remove: it moves before db-5 goes.
	r.guests.writer = "db-5"
	spec.NodeCount = 3
	before = len(r.log.all())
	if err := r.m.Resize(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	calls = r.log.all()[before:]
	inOrder(t, calls, "MoveWriter db-5", "Leave db-5", "DeleteServer db-5", "MoveWriter db-4", "Leave db-4", "DeleteServer db-4")
	if r.guests.writer != "db-1" {
		t.Errorf("writer is %q after the shrink", r.guests.writer)
	}
	if got := memberNames(t, r, p); !slices.Equal(got, []string{"db-1", "db-2", "db-3"}) {
		t.Errorf("pool members after the shrink = %v", got)
	}
	if objs := r.cloud.objects(); objs["servers"] != 3 || objs["volumes"] != 3 || objs["ports"] != 3 {
		t.Errorf("objects after the shrink: %v", objs)
	}
}

func TestResizeRefusesWhenAMemberIsMissing(t *testing.T) {
	r, c, _ := membershipRig(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	c.Nodes = append(c.Nodes[:1], c.Nodes[2:]...)
	spec.NodeCount = 4
	before := len(r.log.all())
	err := r.m.Resize(testContext(t), c, spec)
	if err == nil || !strings.Contains(err.Error(), "db-2") {
		t.Fatalf("err = %v", err)
	}
	if calls := r.log.all()[before:]; count(calls, "Create") != 0 {
		t.Errorf("created something: %v", calls)
	}
}

// As in a create, the new node is verified and joins while its volume
// attaches: the guest waits for the disk itself.
func TestAddNodeJoinsWhileTheVolumeAttaches(t *testing.T) {
	r, c, _ := membershipRig(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	joining := make(chan struct{})
	r.guests.onJoin = func(context.Context, string) error { close(joining); return nil }
	r.cloud.attachWait = func(ctx context.Context) error {
		select {
		case <-joining:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the join did not start while the volume attached")
		}
	}
	if err := r.m.AddNode(testContext(t), c, spec, &Node{Index: 4, Name: "db-4"}); err != nil {
		t.Fatal(err)
	}
	if got := r.log.all(); count(got, "VolumeAttached db-4") != 1 {
		t.Errorf("the attach was not waited for: %v", got)
	}
}

// A volume that does not attach ends the join (which waits for its disk)
// and undoes the provisioning, as a server that cannot be placed does.
func TestAddNodeWhoseVolumeDoesNotAttachLeavesNothing(t *testing.T) {
	r, c, _ := membershipRig(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	r.guests.onJoin = func(ctx context.Context, _ string) error {
		<-ctx.Done() // the disk never comes
		return context.Cause(ctx)
	}
	r.cloud.attachWait = func(context.Context) error {
		return &PhaseError{Phase: PhaseVolumes, Node: "db-4", Err: errors.New("volume went to status error_attaching")}
	}
	err := r.m.AddNode(testContext(t), c, spec, &Node{Index: 4, Name: "db-4"})
	if err == nil || !strings.Contains(err.Error(), "error_attaching") {
		t.Fatalf("err = %v, want the attach's", err)
	}
	if len(c.Nodes) != 3 {
		t.Errorf("the node without its volume is recorded: %+v", c.Nodes)
	}
	if len(c.HostKeys) != 3 {
		t.Errorf("host keys after the failed add: %v", c.HostKeys)
	}
	if objs := r.cloud.objects(); objs["servers"] != 3 || objs["volumes"] != 3 || objs["ports"] != 3 {
		t.Errorf("objects after the failed add: %v", objs)
	}
}

func TestAddNodeThatCannotBePlacedLeavesNothing(t *testing.T) {
	r, c, _ := membershipRig(t)
	spec := testSpec()
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	r.cloud.failOn["WaitServerActive"] = errors.New("server went to status ERROR: No valid host was found")
	err := r.m.AddNode(testContext(t), c, spec, &Node{Index: 4, Name: "db-4"})
	if err == nil || !strings.Contains(err.Error(), "No valid host") {
		t.Fatalf("err = %v", err)
	}
	if len(c.Nodes) != 3 {
		t.Errorf("the unplaced node is recorded: %+v", c.Nodes)
	}
	if objs := r.cloud.objects(); objs["servers"] != 3 || objs["volumes"] != 3 || objs["ports"] != 3 {
		t.Errorf("objects after the failed add: %v", objs)
	}
}
