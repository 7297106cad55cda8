package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// lbRig creates a cluster with its own load balancer.
func lbRig(t *testing.T) (*rig, *Cluster, Spec) {
	t.Helper()
	r := newRig()
	spec := testSpec()
	spec.LoadBalancer = &PoolSpec{Mode: ModeSingleWriter}
	c, err := r.m.Create(testContext(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	return r, c, spec
}

func octaviaCalls(calls []string) []string {
	var out []string
	for _, c := range calls {
		method, _, _ := strings.Cut(c, " ")
		if strings.Contains(method, "LoadBalancer") || strings.Contains(method, "Listener") || strings.Contains(method, "Pool") {
			out = append(out, c)
		}
	}
	return out
}

func TestCreateAsksForItsLoadBalancerWhileTheServersBuild(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	// No server is ACTIVE before Octavia was asked: a create that asked
	// only once the cluster stood would never get there.
	r.cloud.activeWait = func(ctx context.Context, _ string) error {
		asked := func(c string) bool { return strings.HasPrefix(c, "StartLoadBalancer ") }
		for !slices.ContainsFunc(r.log.all(), asked) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		// Octavia builds it while the servers boot.
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		for id, lb := range r.cloud.lbs {
			lb.ProvisioningStatus = "ACTIVE"
			r.cloud.lbs[id] = lb
		}
		return nil
	}
	spec := testSpec()
	spec.LoadBalancer = &PoolSpec{Mode: ModeSingleWriter}
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	lb := c.LoadBalancer
	if lb == nil || lb.LoadBalancerID == "" || lb.VIPAddress == "" || lb.Mode != ModeSingleWriter || lb.Port != 3306 {
		t.Fatalf("load balancer = %+v", lb)
	}
	var names []string
	for _, m := range lb.Members {
		names = append(names, m.NodeName)
	}
	if !slices.Equal(names, []string{"db-1", "db-2", "db-3"}) {
		t.Errorf("members = %v", names)
	}
	calls := r.log.all()
	// Looked at once the cluster is up, found built: no wait; the subnet
	// was known.
	inOrder(t, calls, "GuestCreate", "GetLoadBalancer ", "GetLoadBalancerStatus")
	if count(calls, "GetSubnet") != 0 || count(calls, "WaitLoadBalancerActive") != 0 {
		t.Errorf("the create asked for the subnet it resolved, or waited for a built load balancer:\n%s", strings.Join(calls, "\n"))
	}
}

func TestCreateWithoutLoadBalancerAsksOctaviaNothing(t *testing.T) {
	r := newRig()
	c, err := r.m.Create(testContext(t), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if c.LoadBalancer != nil {
		t.Errorf("load balancer = %+v", c.LoadBalancer)
	}
	if calls := octaviaCalls(r.log.all()); len(calls) != 0 {
		t.Errorf("Octavia calls: %v", calls)
	}
}

func TestCreateWhoseLoadBalancerFailsLeavesNothingAfterDelete(t *testing.T) {
	for name, fault := range map[string]func(f *fakeCloud){
		"refused":     func(f *fakeCloud) { f.failOn["StartLoadBalancer"] = errors.New("quota exceeded for load balancers") },
		"answer lost": func(f *fakeCloud) { f.loseAnswer["StartLoadBalancer"] = errors.New("502 Bad Gateway") },
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig()
			fault(r.cloud)
			ctx := testContext(t)
			spec := testSpec()
			spec.LoadBalancer = &PoolSpec{}
			c, err := r.m.Create(ctx, spec)
			var pe *PhaseError
			if !errors.As(err, &pe) || pe.Phase != PhaseLoadBalancer {
				t.Fatalf("Create = %v, want a %q phase error", err, PhaseLoadBalancer)
			}
			// The provider's delete knows the name and the id from state.
			if err := r.m.Delete(ctx, c.ID, Cluster{Name: c.Name}); err != nil {
				t.Fatal(err)
			}
			if left := r.cloud.objects(); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestDeleteRemovesTheClusterLoadBalancer(t *testing.T) {
	r, c, _ := lbRig(t)
	// Only the id, as after an import: the name comes from the servers.
	if err := r.m.Delete(testContext(t), c.ID, Cluster{}); err != nil {
		t.Fatal(err)
	}
	if left := r.cloud.objects(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestReadSeesTheLoadBalancerInOneRequest(t *testing.T) {
	r, c, spec := lbRig(t)
	ctx := testContext(t)
	read := func(spec *Spec) (*Cluster, []string) {
		t.Helper()
		before := len(r.log.all())
		got, err := r.m.Read(ctx, c.ID, spec, c.HostKeys)
		if err != nil {
			t.Fatal(err)
		}
		return got, octaviaCalls(r.log.all()[before:])
	}
	got, calls := read(&spec)
	if len(calls) != 1 || got.LoadBalancer == nil || got.LoadBalancer.LoadBalancerID != c.LoadBalancer.LoadBalancerID ||
		got.LoadBalancer.VIPAddress != c.LoadBalancer.VIPAddress || got.LoadBalancer.Mode != ModeSingleWriter {
		t.Errorf("read with a load balancer: %+v, Octavia calls %v", got.LoadBalancer, calls)
	}
	without := spec
	without.LoadBalancer = nil
	if got, calls := read(&without); len(calls) != 0 || got.LoadBalancer != nil {
		t.Errorf("read without one in the spec: %+v, Octavia calls %v", got.LoadBalancer, calls)
	}
	// A pxc_node's read knows no name and asks for no load balancer.
	if got, calls := read(&Spec{SSH: spec.SSH}); len(calls) != 0 || got.LoadBalancer != nil {
		t.Errorf("read without name or load balancer: %+v, Octavia calls %v", got.LoadBalancer, calls)
	}
	// An import asks with an empty one.
	imported := Spec{SSH: spec.SSH, LoadBalancer: &PoolSpec{}}
	if got, _ := read(&imported); got.LoadBalancer == nil || got.LoadBalancer.LoadBalancerID != c.LoadBalancer.LoadBalancerID {
		t.Errorf("an import does not find the load balancer: %+v", got.LoadBalancer)
	}
	// Octavia left it in ERROR: read as none, so the next apply replaces it.
	lb := r.cloud.lbs[c.LoadBalancer.LoadBalancerID]
	lb.ProvisioningStatus = "ERROR"
	r.cloud.lbs[lb.ID] = lb
	if got, _ := read(&spec); got.LoadBalancer != nil {
		t.Errorf("a load balancer in ERROR reads as %+v", got.LoadBalancer)
	}
	if err := r.m.AddLoadBalancer(ctx, c, *spec.LoadBalancer); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.cloud.lbs[lb.ID]; ok || c.LoadBalancer == nil || c.LoadBalancer.LoadBalancerID == lb.ID {
		t.Errorf("the load balancer in ERROR was not replaced: %+v", c.LoadBalancer)
	}
}

func TestAddAndRemoveTheLoadBalancerOfARunningCluster(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.m.AddLoadBalancer(ctx, c, PoolSpec{Mode: ModeMultiWriter}); err != nil {
		t.Fatal(err)
	}
	if c.LoadBalancer == nil || c.LoadBalancer.Mode != ModeMultiWriter || len(c.LoadBalancer.Members) != 3 {
		t.Fatalf("load balancer = %+v", c.LoadBalancer)
	}
	lbRules := func() int {
		n := 0
		for _, r := range r.cloud.groups[c.SecurityGroupID].Rules {
			if _, ok := lbOfRule(r); ok {
				n++
			}
		}
		return n
	}
	if lbRules() == 0 {
		t.Error("the load balancer's health checks got no rule")
	}
	if err := r.m.RemoveLoadBalancer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.LoadBalancer != nil || len(r.cloud.lbs) != 0 || lbRules() != 0 {
		t.Errorf("after the remove: %+v, %d load balancers, %d of their rules", c.LoadBalancer, len(r.cloud.lbs), lbRules())
	}
}

func TestGrowAddsTheNewNodeToTheClusterLoadBalancer(t *testing.T) {
	r, c, spec := lbRig(t)
	spec.NodeCount = 4
	if err := r.m.Resize(testContext(t), c, spec); err != nil {
		t.Fatal(err)
	}
	if got := memberNames(t, r, c.LoadBalancer); !slices.Equal(got, []string{"db-1", "db-2", "db-3", "db-4"}) {
		t.Errorf("members after the grow = %v", got)
	}
}

func TestCreateRefusesALoadBalancerThatCannotWork(t *testing.T) {
	r := newRig()
	spec := testSpec()
	spec.LoadBalancer = &PoolSpec{Mode: ModeSingleWriter, HealthCheck: HealthTCP}
	_, err := r.m.Create(testContext(t), spec)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseValidate || !strings.Contains(err.Error(), "load_balancer: single_writer needs health_check") {
		t.Fatalf("Create = %v, want the load balancer refused at validation", err)
	}
	if calls := r.log.all(); len(calls) != 0 {
		t.Errorf("a refused spec made calls: %v", calls)
	}
}

// A cloud without Octavia has no load balancer to find or delete: a
// cluster's import and delete do not depend on the service.
func TestDeleteOnACloudWithoutOctavia(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	r.cloud.failOn["ListLoadBalancers"] = &openstack.ServiceMissingError{Service: "load-balancer"}
	// An import looks for it too.
	spec := testSpec()
	spec.SSH.PrivateKey, spec.LoadBalancer = c.GeneratedPrivateKey, &PoolSpec{}
	if got, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys); err != nil || got.LoadBalancer != nil {
		t.Fatalf("Read = %v, load balancer %+v", err, got)
	}
	if err := r.m.Delete(ctx, c.ID, Cluster{Name: c.Name}); err != nil {
		t.Fatal(err)
	}
	if left := r.cloud.objects(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// lbAndPoolRig is a cluster with its own single-writer load balancer and
// a multi-writer pxc_lb_pool on the same subnet: Neutron keeps one rule
// per port and network, so the pool's rules are the load balancer's.
func lbAndPoolRig(t *testing.T) (*rig, *Cluster, Spec, *Pool) {
	t.Helper()
	r, c, spec := lbRig(t)
	p, err := r.m.CreatePool(testContext(t), PoolSpec{
		ClusterID: c.ID, Port: 3307, LBMethod: "ROUND_ROBIN", Mode: ModeMultiWriter, HealthCheck: HealthGalera,
		ClientTimeoutMs: DefaultClientTimeoutMs, MemberTimeoutMs: DefaultMemberTimeoutMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, c, spec, p
}

func TestGrowUpdatesEveryLoadBalancerOnTheSameSubnet(t *testing.T) {
	r, c, spec, p := lbAndPoolRig(t)
	spec.NodeCount = 4
	if err := r.m.Resize(testContext(t), c, spec); err != nil {
		t.Fatal(err)
	}
	want := []string{"db-1", "db-2", "db-3", "db-4"}
	for what, lb := range map[string]*Pool{"the cluster's load balancer": c.LoadBalancer, "the pool": p} {
		if got := memberNames(t, r, lb); !slices.Equal(got, want) {
			t.Errorf("members of %s after the grow = %v", what, got)
		}
	}
}

// Removing one load balancer hands the rules the other one relies on over
// to it; removing the last removes them.
func TestRemovingALoadBalancerKeepsTheRulesAnotherNeeds(t *testing.T) {
	r, c, _, p := lbAndPoolRig(t)
	ctx := testContext(t)
	marked := func(lbID string) []string {
		var out []string
		for _, rule := range r.cloud.groups[c.SecurityGroupID].Rules {
			if rule.Description == ruleOwner(lbID) {
				out = append(out, fmt.Sprintf("tcp/%d from %s", rule.PortMin, rule.RemoteIPPrefix))
			}
		}
		return out
	}
	own := marked(c.LoadBalancer.LoadBalancerID)
	if len(own) == 0 {
		t.Fatal("the cluster's load balancer made no rule")
	}
	if err := r.m.RemoveLoadBalancer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := marked(p.LoadBalancerID); !slices.Equal(got, own) {
		t.Errorf("after the cluster's load balancer went, the pool's rules are %v, want %v", got, own)
	}
	if err := r.m.DeletePool(ctx, p.LoadBalancerID, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, rule := range r.cloud.groups[c.SecurityGroupID].Rules {
		if _, ok := lbOfRule(rule); ok {
			t.Errorf("a load balancer's rule is left after the last one went: %+v", rule)
		}
	}
}

// SetLoadBalancer keeps a load balancer of the wanted mode, replaces one
// of another mode, and removes it when none is wanted.
func TestSetLoadBalancerFollowsTheSpec(t *testing.T) {
	r, c, _ := lbRig(t)
	ctx := testContext(t)
	first := c.LoadBalancer.LoadBalancerID
	before := len(r.log.all())
	if err := r.m.SetLoadBalancer(ctx, c, &PoolSpec{}); err != nil { // the default mode, single_writer
		t.Fatal(err)
	}
	if calls := octaviaCalls(r.log.all()[before:]); len(calls) != 0 || c.LoadBalancer.LoadBalancerID != first {
		t.Errorf("the same mode made Octavia calls %v", calls)
	}
	if err := r.m.SetLoadBalancer(ctx, c, &PoolSpec{Mode: ModeMultiWriter}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.cloud.lbs[first]; ok || c.LoadBalancer == nil || c.LoadBalancer.Mode != ModeMultiWriter {
		t.Errorf("another mode did not replace the load balancer: %+v", c.LoadBalancer)
	}
	if err := r.m.SetLoadBalancer(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if c.LoadBalancer != nil || len(r.cloud.lbs) != 0 {
		t.Errorf("none wanted, but %d load balancers are left", len(r.cloud.lbs))
	}
}
