package cluster

import (
	"context"
	"net/netip"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// fakeVIPSubnet is the CIDR the fake cloud gives every subnet: the load
// balancer's VIP subnet, from which it reaches the members.
var fakeVIPSubnet = netip.MustParsePrefix("10.9.0.0/24")

// mysqlRulesFrom are the ingress MySQL rules of the cluster's group from p.
func mysqlRulesFrom(t *testing.T, ctx context.Context, r *rig, c *Cluster, p netip.Prefix) []openstack.SecurityGroupRule {
	t.Helper()
	sg, err := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	if err != nil {
		t.Fatal(err)
	}
	var out []openstack.SecurityGroupRule
	for _, rule := range sg.Rules {
		if q, ok := clientRuleCIDR(rule); ok && q == p {
			out = append(out, rule)
		}
	}
	return out
}

// clusterWithPool creates a cluster from spec and a single-writer pool
// with the galera health check in front of it.
func clusterWithPool(t *testing.T, ctx context.Context, r *rig, spec Spec) (*Cluster, *Pool) {
	t.Helper()
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.m.CreatePool(ctx, PoolSpec{
		ClusterID: c.ID, Port: 3306, LBMethod: "ROUND_ROBIN", Mode: ModeSingleWriter, HealthCheck: HealthGalera,
		ClientTimeoutMs: DefaultClientTimeoutMs, MemberTimeoutMs: DefaultMemberTimeoutMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// allowed_cidrs holding the load balancer's VIP subnet means one MySQL rule
// for it, the cluster's. Narrowing allowed_cidrs to drop the subnet hands
// the rule to the load balancer instead of cutting it off (issue 10,
// defect 1); the cluster no longer reads the subnet back.
func TestNarrowingAwaySharedNetworkHandsRuleToPool(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	spec.AllowedCIDRs = append(spec.AllowedCIDRs, fakeVIPSubnet)
	c, p := clusterWithPool(t, ctx, r, spec)
	if got := mysqlRulesFrom(t, ctx, r, c, fakeVIPSubnet); len(got) != 1 || !ownsRule(c.ID, got[0]) {
		t.Fatalf("before: MySQL rules from the VIP subnet = %+v, want one of the cluster's", got)
	}

	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	if err := r.m.SetAllowedCIDRs(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	got := mysqlRulesFrom(t, ctx, r, c, fakeVIPSubnet)
	if len(got) != 1 || got[0].Description != ruleOwner(p.LoadBalancerID) {
		t.Fatalf("after: MySQL rules from the VIP subnet = %+v, want one marked %q", got, ruleOwner(p.LoadBalancerID))
	}
	read, err := r.m.Read(ctx, c.ID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.AllowedCIDRs) != 1 || read.AllowedCIDRs[0].String() != "192.0.2.0/24" {
		t.Errorf("cluster reads allowed_cidrs %v, want [192.0.2.0/24]", read.AllowedCIDRs)
	}
	// Deleting the load balancer now removes the rule it owns.
	if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := mysqlRulesFrom(t, ctx, r, c, fakeVIPSubnet); len(got) != 0 {
		t.Errorf("after the pool's delete: MySQL rules from the VIP subnet = %+v, want none", got)
	}
}

// A load balancer made first owns the MySQL rule for its VIP subnet;
// widening allowed_cidrs to that subnet makes the rule the cluster's, so
// deleting the load balancer leaves the access allowed_cidrs asks for.
func TestDeletingPoolKeepsRuleTheClusterLists(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c, p := clusterWithPool(t, ctx, r, spec)
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.AllowedCIDRs = append(spec.AllowedCIDRs, fakeVIPSubnet)
	if err := r.m.SetAllowedCIDRs(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	read, err := r.m.Read(ctx, c.ID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.AllowedCIDRs) != 2 {
		t.Errorf("cluster reads allowed_cidrs %v, want both networks", read.AllowedCIDRs)
	}
	if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
		t.Fatal(err)
	}
	got := mysqlRulesFrom(t, ctx, r, c, fakeVIPSubnet)
	if len(got) != 1 || !ownsRule(c.ID, got[0]) {
		t.Fatalf("after the pool's delete: MySQL rules from the VIP subnet = %+v, want one of the cluster's", got)
	}
}
