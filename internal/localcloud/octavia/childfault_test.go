package octavia

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// treeStatuses flattens a status tree: "lb", "listener", "pool",
// "monitor" and each member's name map to "provisioning/operating".
func treeStatuses(t *testing.T, e *env, lbID string) map[string]string {
	t.Helper()
	_, lb := e.memberStatuses(t, lbID)
	st := func(m map[string]any) string {
		p, _ := m["provisioning_status"].(string)
		o, _ := m["operating_status"].(string)
		return p + "/" + o
	}
	out := map[string]string{"lb": st(lb)}
	for _, l := range lb["listeners"].([]any) {
		lm := l.(map[string]any)
		out["listener"] = st(lm)
		for _, p := range lm["pools"].([]any) {
			pm := p.(map[string]any)
			out["pool"] = st(pm)
			if hm, _ := pm["health_monitor"].(map[string]any); len(hm) > 0 {
				out["monitor"] = st(hm)
			}
			for _, m := range pm["members"].([]any) {
				mm := m.(map[string]any)
				out[mm["name"].(string)] = st(mm)
			}
		}
	}
	return out
}

// TestFailNextChild: an armed child fault lets the fully populated create
// through (201, everything PENDING_CREATE), then the chosen child settles in
// ERROR and stays out of HAProxy while its parents, the load balancer
// included, settle ACTIVE. The fault is used up by that one create.
func TestFailNextChild(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b1, b2 := startBackend(t, "n1"), startBackend(t, "n2")
	create := func(name string) (*loadbalancers.LoadBalancer, int) {
		t.Helper()
		port := freePort(t)
		member := func(b *backend) pools.CreateMemberOpts {
			return pools.CreateMemberOpts{Address: "127.0.0.1", ProtocolPort: b.port, MonitorPort: ptr(b.healthPort), Name: b.name}
		}
		lb, err := loadbalancers.Create(ctx, e.a, loadbalancers.CreateOpts{
			Name: name, VipSubnetID: subnetID,
			Listeners: []listeners.CreateOpts{{
				Name: name + "-l", Protocol: listeners.ProtocolTCP, ProtocolPort: port,
				DefaultPool: &pools.CreateOpts{
					Name: name + "-p", Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin,
					Members: []pools.CreateMemberOpts{member(b1), member(b2)},
					Monitor: monitors.CreateOpts{Name: name + "-hm", Type: monitors.TypeHTTP, Delay: 1, Timeout: 1, MaxRetries: 1, MaxRetriesDown: 1, URLPath: "/"},
				},
			}},
		}).Extract()
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if lb.ProvisioningStatus != "PENDING_CREATE" {
			t.Fatalf("create %s answered %s, want PENDING_CREATE", name, lb.ProvisioningStatus)
		}
		return e.waitActive(t, lb.ID), port
	}

	if err := e.svc.FailNextChild(regexp.MustCompile(`^mem-`), ChildMember, regexp.MustCompile(`^n2$`)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.FailNextChild(regexp.MustCompile(`^hm-`), ChildHealthMonitor, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.FailNextChild(regexp.MustCompile(`x`), "listener", nil); err == nil {
		t.Error("a listener fault was accepted; only healthmonitor and member exist")
	}

	// A failed member: ERROR, never checked, never given a connection.
	lb, port := create("mem-a")
	waitFor(t, "n1 ONLINE", 10*time.Second, func() (bool, error) {
		return treeStatuses(t, e, lb.ID)["n1"] == "ACTIVE/ONLINE", nil
	})
	got := treeStatuses(t, e, lb.ID)
	want := map[string]string{"lb": "ACTIVE/ONLINE", "listener": "ACTIVE/ONLINE", "pool": "ACTIVE/ONLINE",
		"monitor": "ACTIVE/ONLINE", "n1": "ACTIVE/ONLINE", "n2": "ERROR/OFFLINE"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("member fault: %s is %s, want %s (tree %v)", k, got[k], w, got)
		}
	}
	vip := net.JoinHostPort(lb.VipAddress, strconv.Itoa(port))
	for range 4 {
		if name, err := greet(vip); err != nil || name != "n1" {
			t.Fatalf("through the VIP: %q %v, want n1 only", name, err)
		}
	}

	// A failed monitor: ERROR; HAProxy checks nobody (NO_MONITOR).
	lb, _ = create("hm-a")
	waitFor(t, "members NO_MONITOR", 10*time.Second, func() (bool, error) {
		return treeStatuses(t, e, lb.ID)["n1"] == "ACTIVE/NO_MONITOR", nil
	})
	got = treeStatuses(t, e, lb.ID)
	want = map[string]string{"lb": "ACTIVE/ONLINE", "pool": "ACTIVE/ONLINE", "monitor": "ERROR/OFFLINE",
		"n1": "ACTIVE/NO_MONITOR", "n2": "ACTIVE/NO_MONITOR"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("monitor fault: %s is %s, want %s (tree %v)", k, got[k], w, got)
		}
	}

	// Used up: the same name builds cleanly now.
	lb, _ = create("mem-b")
	waitFor(t, "both members ONLINE", 10*time.Second, func() (bool, error) {
		s := treeStatuses(t, e, lb.ID)
		return s["n1"] == "ACTIVE/ONLINE" && s["n2"] == "ACTIVE/ONLINE", nil
	})
}
