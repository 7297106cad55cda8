package cluster

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPoolLifecycle(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	spec := PoolSpec{
		ClusterID: c.ID, Port: 3306, LBMethod: "ROUND_ROBIN", Mode: ModeSingleWriter, HealthCheck: HealthGalera,
		ClientTimeoutMs: DefaultClientTimeoutMs, MemberTimeoutMs: DefaultMemberTimeoutMs, FloatingIPNetwork: "public",
	}
	p, err := r.m.CreatePool(ctx, spec)
	if err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	if p.ClusterID != c.ID || p.Mode != ModeSingleWriter || p.HealthCheck != HealthGalera || p.Port != 3306 {
		t.Errorf("pool = %+v", p)
	}
	if p.FloatingIPAddress == "" || p.FloatingIPNetworkName != "public" || p.MonitorID == "" || p.LBMethod != "ROUND_ROBIN" {
		t.Errorf("pool objects = %+v", p)
	}
	if len(p.Members) != 3 || p.Members[0].NodeName != "db-1" {
		t.Errorf("members = %+v", p.Members)
	}
	// The members' security group lets the VIP subnet reach MySQL and clustercheck.
	sg, _ := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	var lbRules []string
	for _, rule := range sg.Rules {
		if rule.Description == ruleOwner(p.LoadBalancerID) {
			lbRules = append(lbRules, rule.RemoteIPPrefix)
			if rule.PortMin != portMySQL && rule.PortMin != ClustercheckPort {
				t.Errorf("load balancer opened port %d", rule.PortMin)
			}
		}
	}
	if len(lbRules) != 2 || lbRules[0] != "10.9.0.0/24" {
		t.Errorf("load balancer rules from %v", lbRules)
	}
	// In place: method and timeouts.
	spec.LBMethod, spec.ClientTimeoutMs = "LEAST_CONNECTIONS", 60000
	if err := r.m.UpdatePool(ctx, p, spec); err != nil {
		t.Fatal(err)
	}
	got, err := r.m.ReadPool(ctx, p.LoadBalancerID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LBMethod != "LEAST_CONNECTIONS" || got.ClientTimeoutMs != 60000 || got.MemberTimeoutMs != DefaultMemberTimeoutMs {
		t.Errorf("after update: %+v", got)
	}
	// Delete: the floating IP first, then the load balancer, then its rules.
	before := len(r.log.all())
	if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	fip := slices.IndexFunc(calls, func(s string) bool { return strings.HasPrefix(s, "DeleteFloatingIP") })
	lb := slices.IndexFunc(calls, func(s string) bool { return strings.HasPrefix(s, "DeleteLoadBalancer") })
	rule := slices.IndexFunc(calls, func(s string) bool { return strings.HasPrefix(s, "DeleteSecurityGroupRule") })
	if fip < 0 || !(fip < lb && lb < rule) {
		t.Errorf("delete order: %v", calls)
	}
	if left := r.cloud.objects(); left["load balancers"] != 0 || left["floating ips"] != 0 {
		t.Errorf("left behind: %v", left)
	}
	sg, _ = r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	for _, rule := range sg.Rules {
		if rule.Description == ruleOwner(p.LoadBalancerID) {
			t.Errorf("load balancer rule left: %+v", rule)
		}
	}
	if _, err := r.m.ReadPool(ctx, p.LoadBalancerID); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPool after delete = %v", err)
	}
	// Gone counts as deleted.
	if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
		t.Errorf("second DeletePool: %v", err)
	}
}

func TestCreatePoolFailures(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	if _, err := r.m.CreatePool(ctx, PoolSpec{Port: 3306, Mode: ModeSingleWriter, HealthCheck: HealthTCP}); err == nil {
		t.Fatal("single_writer with a TCP check accepted")
	}
	if _, err := r.m.CreatePool(ctx, PoolSpec{ClusterID: "nope", Port: 3306, Mode: ModeMultiWriter, HealthCheck: HealthTCP}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pool for a missing cluster: %v", err)
	}
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	// The whole load balancer is one create: a build that fails (Octavia
	// puts it in ERROR) must still hand back its id for the cleanup.
	r.cloud.failOn["WaitLoadBalancerActive"] = errInjected
	p, err := r.m.CreatePool(ctx, PoolSpec{ClusterID: c.ID, Port: 3306, Mode: ModeMultiWriter, HealthCheck: HealthTCP, LBMethod: "ROUND_ROBIN"})
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != "load balancer" || p == nil || p.LoadBalancerID == "" {
		t.Fatalf("CreatePool = %+v, %v; want the load balancer id and a load balancer PhaseError", p, err)
	}
	// TCP checks open only MySQL.
	sg, _ := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	for _, rule := range sg.Rules {
		if rule.Description == ruleOwner(p.LoadBalancerID) && rule.PortMin != portMySQL {
			t.Errorf("tcp health check opened port %d", rule.PortMin)
		}
	}
	if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
		t.Fatal(err)
	}
	if left := r.cloud.objects(); left["load balancers"] != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// A fully populated create that Octavia accepts and then leaves with one
// child in ERROR (the load balancer ACTIVE) fails in the phase named after
// that child, naming it from the status tree, and hands back the load
// balancer's id for the cleanup.
func TestCreatePoolFailedChild(t *testing.T) {
	for _, tc := range []struct{ child, phase, names string }{
		{"health monitor", "health monitor", "-monitor"},
		{"db-2", "member", "db-2"},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			r := newRig()
			ctx := testContext(t)
			c, err := r.m.Create(ctx, testSpec())
			if err != nil {
				t.Fatal(err)
			}
			r.cloud.failChild = tc.child
			p, err := r.m.CreatePool(ctx, PoolSpec{ClusterID: c.ID, Port: 3306, Mode: ModeMultiWriter, HealthCheck: HealthTCP, LBMethod: "ROUND_ROBIN"})
			var pe *PhaseError
			if !errors.As(err, &pe) || pe.Phase != tc.phase || p == nil || p.LoadBalancerID == "" {
				t.Fatalf("CreatePool = %+v, %v; want the load balancer id and a %s PhaseError", p, err, tc.phase)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.phase+": ") || !strings.Contains(msg, tc.names) ||
				!strings.Contains(msg, "provisioning_status ERROR") || !strings.Contains(msg, p.LoadBalancerID) {
				t.Errorf("error %q does not name the %s %s of load balancer %s in ERROR", msg, tc.phase, tc.names, p.LoadBalancerID)
			}
			if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
				t.Fatal(err)
			}
			if left := r.cloud.objects(); left["load balancers"] != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
