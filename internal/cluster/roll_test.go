package cluster

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func rollCalls(r *rig, from int) []string {
	var out []string
	for _, c := range r.log.all()[from:] {
		method, _, _ := strings.Cut(c, " ")
		switch method {
		case "StopNode", "ResizeServer", "ConfirmResize", "RevertResize", "RebuildServer", "RepairNode", "JoinMember", "MoveWriter":
			out = append(out, c)
		}
	}
	return out
}

func flavorsOf(c *Cluster) string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Name+"="+n.Flavor)
	}
	return strings.Join(out, ",")
}

// Non-writers first, the writer last and moved away first; a refused
// resize stops the roll at that node, which is brought back on its old
// flavor; the next roll changes only the nodes still on the old flavor.
func TestChangeFlavorWriterLastAndResumes(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	c.Writer, r.guests.writer = "db-1", "db-1"
	spec.Flavor = "m1.medium"
	r.cloud.refuseResize = map[string]bool{"db-3": true}

	mark := len(r.log.all())
	err := r.m.ChangeFlavor(ctx, c, spec)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseResize || pe.Node != "db-3" || !strings.Contains(err.Error(), "flavor") {
		t.Fatalf("err %v, want a resize error naming db-3 and flavor", err)
	}
	want := "StopNode db-2,ResizeServer db-2,ConfirmResize db-2,RepairNode db-2," +
		"StopNode db-3,ResizeServer db-3,RepairNode db-3"
	if got := strings.Join(rollCalls(r, mark), ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	if got := flavorsOf(c); got != "db-1=m1.small,db-2=m1.medium,db-3=m1.small" {
		t.Fatalf("flavors after the failure %s", got)
	}

	// The next apply: db-3, then the writer, never db-2 again.
	mark = len(r.log.all())
	if err := r.m.ChangeFlavor(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	want = "StopNode db-3,ResizeServer db-3,ConfirmResize db-3,RepairNode db-3," +
		"MoveWriter db-1,StopNode db-1,ResizeServer db-1,ConfirmResize db-1,RepairNode db-1"
	if got := strings.Join(rollCalls(r, mark), ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	if got := flavorsOf(c); got != "db-1=m1.medium,db-2=m1.medium,db-3=m1.medium" {
		t.Fatalf("flavors %s", got)
	}
	for _, n := range c.Nodes {
		if got := r.cloud.servers[n.ServerID].Metadata[metaFlavor]; got != "m1.medium" {
			t.Errorf("%s records flavor %q", n.Name, got)
		}
	}
	// Converged: nothing left to do.
	mark = len(r.log.all())
	if err := r.m.ChangeFlavor(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	if got := rollCalls(r, mark); len(got) != 0 {
		t.Fatalf("a converged roll made calls %v", got)
	}
}

// A server that does not come up on the new flavor is reverted before
// the resize is confirmed.
func TestChangeFlavorRevertsUnconfirmed(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	c.Writer, r.guests.writer = "db-3", "db-3"
	spec.Flavor = "m1.medium"
	r.guests.hostKeyErr[c.Nodes[0].IP] = errors.New("ssh: connection refused")

	mark := len(r.log.all())
	err := r.m.ChangeFlavor(ctx, c, spec)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Node != "db-1" || !strings.Contains(err.Error(), "reverted") {
		t.Fatalf("err %v, want db-1's resize reverted", err)
	}
	if got, want := strings.Join(rollCalls(r, mark), ","), "StopNode db-1,ResizeServer db-1,RevertResize db-1,RepairNode db-1"; got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	if got := r.cloud.servers[c.Nodes[0].ServerID].FlavorName; got != "m1.small" || c.Nodes[0].Flavor != "m1.small" {
		t.Fatalf("db-1 on %q (recorded %q), want m1.small", got, c.Nodes[0].Flavor)
	}
}

// Every node is rebuilt, the writer last; each rejoins (JoinMember: a new
// root disk) and its new host key is verified against the fingerprints
// the console printed after the rebuild, not the old ones.
func TestChangeImageRebuildsAndRelearnsHostKeys(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	c.Writer, r.guests.writer = "db-2", "db-2"
	spec.Image = "debian-12-updated"
	mark := len(r.log.all())
	targets := len(r.guests.targets)
	if err := r.m.ChangeImage(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	want := "StopNode db-1,RebuildServer db-1,JoinMember db-1,StopNode db-3,RebuildServer db-3,JoinMember db-3," +
		"MoveWriter db-2,StopNode db-2,RebuildServer db-2,JoinMember db-2"
	if got := strings.Join(rollCalls(r, mark), ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	checked := map[string]bool{}
	for _, tg := range r.guests.targets[targets:] {
		for _, n := range c.Nodes {
			if tg.Addr == n.IP && len(tg.HostKeyFingerprints) > 0 {
				if got, want := strings.Join(tg.HostKeyFingerprints, ","), "SHA256:fake-"+n.ServerID+"-r1"; got != want {
					t.Errorf("%s checked against %s, want %s", n.Name, got, want)
				}
				checked[n.Name] = true
			}
		}
	}
	for _, n := range c.Nodes {
		if !checked[n.Name] || c.HostKeys[n.ServerID] == "" {
			t.Errorf("%s: host key not verified again after its rebuild", n.Name)
		}
		if n.Image != "image-debian-12-updated" {
			t.Errorf("%s on image %q", n.Name, n.Image)
		}
	}
}

func TestRollEventMessage(t *testing.T) {
	e := rollEvent(PhaseResize, "ledger-3", "resized to m1.medium", 2, 3, 7234e6)
	if ok, _ := regexp.MatchString(`^ledger-3: resized to m1.medium, Synced, 7.2s; 2 of 3 done$`, e.Message); !ok {
		t.Fatalf("message %q", e.Message)
	}
}

// Behind a pool that balances over all members, each node is disabled
// there and drained before it stops, and enabled (ONLINE) again after it
// rejoined, before the next node's turn.
func TestChangeFlavorDisablesMemberInMultiWriterPool(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	if _, err := r.m.CreatePool(ctx, PoolSpec{
		ClusterID: c.ID, Port: 3306, LBMethod: "ROUND_ROBIN", Mode: ModeMultiWriter, HealthCheck: HealthGalera,
		ClientTimeoutMs: DefaultClientTimeoutMs, MemberTimeoutMs: DefaultMemberTimeoutMs,
	}); err != nil {
		t.Fatal(err)
	}
	spec.Flavor = "m1.medium"
	mark := len(r.log.all())
	if err := r.m.ChangeFlavor(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, call := range r.log.all()[mark:] {
		method, _, _ := strings.Cut(call, " ")
		switch method {
		case "MemberDisabled", "DrainClients", "StopNode", "RepairNode":
			got = append(got, call)
		case "SetPoolMembers":
			got = append(got, method)
		}
	}
	var want []string
	for _, n := range []string{"db-1", "db-2", "db-3"} {
		want = append(want, "SetPoolMembers", "MemberDisabled "+n, "DrainClients "+n, "StopNode "+n, "RepairNode "+n, "SetPoolMembers")
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("calls %s\nwant  %s", strings.Join(got, ","), strings.Join(want, ","))
	}
}
