package cluster

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Changing allowed_cidrs removes only the cluster's own MySQL rules: the
// rule a pxc_lb_pool added for its VIP subnet stays, so clients through the
// VIP keep working (issue 10, defect 1). The root account made for the
// removed network is dropped, and no other (defect 6).
func TestSetAllowedCIDRsKeepsOtherOwnersRules(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
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
	lbRules := func() []string {
		sg, _ := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
		var out []string
		for _, rule := range sg.Rules {
			if rule.Description == ruleOwner(p.LoadBalancerID) {
				out = append(out, fakeRuleString(rule))
			}
		}
		slices.Sort(out)
		return out
	}
	before := lbRules()
	if len(before) == 0 {
		t.Fatal("the load balancer added no rules")
	}

	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	if err := r.m.SetAllowedCIDRs(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	if after := lbRules(); !slices.Equal(after, before) {
		t.Errorf("load balancer rules after the change = %v, want %v", after, before)
	}
	var mysqlFrom []string
	sg, _ := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	for _, rule := range sg.Rules {
		if p, ok := clientRuleCIDR(rule); ok && ownsRule(c.ID, rule) {
			mysqlFrom = append(mysqlFrom, p.String())
		}
	}
	if !slices.Equal(mysqlFrom, []string{"203.0.113.0/24"}) {
		t.Errorf("the cluster opens MySQL to %v, want [203.0.113.0/24]", mysqlFrom)
	}
	var dropped []string
	for _, u := range r.guests.dropped {
		dropped = append(dropped, u.Name+"@"+u.Host)
	}
	if !slices.Equal(dropped, []string{"root@192.0.2.0/255.255.255.0"}) {
		t.Errorf("dropped accounts %v, want only root@192.0.2.0/255.255.255.0", dropped)
	}
}

// A rule made before rules were marked ("MySQL
// clients") counts as the cluster's.
func TestSetAllowedCIDRsRemovesUnmarkedClientRules(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.cloud.CreateSecurityGroupRule(ctx, c.SecurityGroupID, openstack.SecurityGroupRule{
		Direction: "ingress", Protocol: "tcp", PortMin: portMySQL, PortMax: portMySQL,
		RemoteIPPrefix: "198.18.0.0/16", Description: "MySQL clients",
	}); err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.AllowedCIDRs = append(spec.AllowedCIDRs, netip.MustParsePrefix("203.0.113.0/24"))
	if err := r.m.SetAllowedCIDRs(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	var dropped []string
	for _, u := range r.guests.dropped {
		dropped = append(dropped, u.Host)
	}
	if !slices.Equal(dropped, []string{"198.18.0.0/255.255.0.0"}) {
		t.Errorf("dropped %v, want only the unmarked legacy network's root", dropped)
	}
	sg, _ := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	var from []string
	for _, rule := range sg.Rules {
		if p, ok := clientRuleCIDR(rule); ok {
			from = append(from, p.String())
		}
	}
	slices.Sort(from)
	if !slices.Equal(from, []string{"192.0.2.0/24", "203.0.113.0/24"}) {
		t.Errorf("MySQL open to %v", from)
	}
}
