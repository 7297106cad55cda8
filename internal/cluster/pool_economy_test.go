package cluster

import (
	"slices"
	"strings"
	"testing"
)

// calledMethods are the method names of calls, in order.
func calledMethods(calls []string) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, strings.SplitN(c, " ", 2)[0])
	}
	return out
}

// The whole load balancer is one create request and one wait, and a
// refresh without a floating IP is one status tree request.
func TestPoolEconomy(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	before := len(r.log.all())
	p, err := r.m.CreatePool(ctx, PoolSpec{
		ClusterID: c.ID, Port: 3306, LBMethod: "ROUND_ROBIN", Mode: ModeSingleWriter, HealthCheck: HealthGalera,
		ClientTimeoutMs: DefaultClientTimeoutMs, MemberTimeoutMs: DefaultMemberTimeoutMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := calledMethods(r.log.all()[before:])
	for _, m := range []string{"StartLoadBalancer", "WaitLoadBalancerActive"} {
		if n := countOf(calls, m); n != 1 {
			t.Errorf("CreatePool called %s %d times, want once: %v", m, n, calls)
		}
	}
	for _, m := range []string{"CreateListener", "CreatePool", "CreateMonitor", "SetPoolMembers", "ListFloatingIPs", "CreateFloatingIP", "ResolveNetwork"} {
		if slices.Contains(calls, m) {
			t.Errorf("CreatePool called %s; the populated create makes it needless: %v", m, calls)
		}
	}
	if p.ListenerID == "" || p.PoolID == "" || p.MonitorID == "" || len(p.Members) != 3 || p.VIPAddress == "" {
		t.Errorf("created pool = %+v", p)
	}
	if online := countMembers(p, "ONLINE"); online != 1 {
		t.Errorf("single_writer pool reports %d ONLINE members, want 1: %+v", online, p.Members)
	}

	before = len(r.log.all())
	got, err := r.m.RefreshPool(ctx, KnownPool{LoadBalancerID: p.LoadBalancerID, VIPAddress: p.VIPAddress, VIPSubnetID: p.VIPSubnetID})
	if err != nil {
		t.Fatal(err)
	}
	if calls := calledMethods(r.log.all()[before:]); !slices.Equal(calls, []string{"GetLoadBalancerStatus"}) {
		t.Errorf("refresh without a floating IP called %v, want only GetLoadBalancerStatus", calls)
	}
	if got.PoolID != p.PoolID || got.MonitorID != p.MonitorID || got.ListenerID != p.ListenerID ||
		len(got.Members) != 3 || got.Members[0].NodeName != "db-1" || got.VIPAddress != p.VIPAddress || got.ProvisioningStatus != "ACTIVE" {
		t.Errorf("refreshed pool = %+v, created %+v", got, p)
	}
	// The full read (import, update) still sees what the tree lacks.
	full, err := r.m.ReadPool(ctx, p.LoadBalancerID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Port != 3306 || full.LBMethod != "ROUND_ROBIN" || full.ClientTimeoutMs != DefaultClientTimeoutMs || full.Mode != ModeSingleWriter || full.ClusterID != c.ID {
		t.Errorf("full read = %+v", full)
	}
	// Without a floating IP, and with its subnet known (as state has it),
	// the delete looks nothing up first.
	before = len(r.log.all())
	if err := r.m.DeleteKnownPool(ctx, KnownPool{LoadBalancerID: p.LoadBalancerID, VIPSubnetID: p.VIPSubnetID}, c.ID); err != nil {
		t.Fatal(err)
	}
	calls = calledMethods(r.log.all()[before:])
	if calls[0] != "DeleteLoadBalancer" || slices.Contains(calls, "ListFloatingIPs") || slices.Contains(calls, "GetLoadBalancer") {
		t.Errorf("delete of a pool without a floating IP called %v; want DeleteLoadBalancer first, no look-up", calls)
	}
	if left := r.cloud.objects(); left["load balancers"] != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func countOf(calls []string, method string) int {
	n := 0
	for _, c := range calls {
		if c == method {
			n++
		}
	}
	return n
}

func countMembers(p *Pool, status string) int {
	n := 0
	for _, m := range p.Members {
		if m.OperatingStatus == status {
			n++
		}
	}
	return n
}
