package octavia

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

func TestVersionDiscovery(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/", "/v2", "/v2.0/"} {
		code, body := e.raw(t, "GET", path, "", "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		versions, _ := body["versions"].([]any)
		if len(versions) == 0 {
			t.Fatalf("GET %s: %v", path, body)
		}
		last := versions[len(versions)-1].(map[string]any)
		if last["status"] != "CURRENT" {
			t.Errorf("newest version %v is not CURRENT", last)
		}
	}
}

// TestAdminDownAndAllowedCIDRs: admin_state_up=false renders no proxies
// (as Octavia's template does) and reports OFFLINE; up again serves again.
// allowed_cidrs lets only the listed sources in. A killed HAProxy is
// operating_status ERROR until a failover.
func TestAdminDownAndAllowedCIDRs(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b := startBackend(t, "only")
	lb := e.createLB(t, "down")
	port := freePort(t)
	l, err := listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: port}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	p, err := pools.Create(ctx, e.a, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	m, err := pools.CreateMember(ctx, e.a, p.ID, pools.CreateMemberOpts{Address: "127.0.0.1", ProtocolPort: b.port}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	vip := net.JoinHostPort(lb.VipAddress, strconv.Itoa(port))
	waitFor(t, "member NO_MONITOR", 5*time.Second, func() (bool, error) {
		return memberStatus(t, e.a, p.ID, m.ID) == "NO_MONITOR", nil
	})
	if name, err := greet(vip); err != nil || name != "only" {
		t.Fatalf("greet: %q %v", name, err)
	}

	if _, err := loadbalancers.Update(ctx, e.a, lb.ID, loadbalancers.UpdateOpts{AdminStateUp: ptr(false)}).Extract(); err != nil {
		t.Fatal(err)
	}
	got := e.waitActive(t, lb.ID)
	if got.OperatingStatus != "OFFLINE" {
		t.Errorf("admin-down load balancer: %s, want OFFLINE", got.OperatingStatus)
	}
	if status := memberStatus(t, e.a, p.ID, m.ID); status != "OFFLINE" {
		t.Errorf("member of an admin-down load balancer: %s, want OFFLINE", status)
	}
	if _, err := greet(vip); err == nil {
		t.Error("admin-down load balancer still accepts connections")
	}
	if _, err := loadbalancers.Update(ctx, e.a, lb.ID, loadbalancers.UpdateOpts{AdminStateUp: ptr(true)}).Extract(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	waitFor(t, "VIP serving again", 5*time.Second, func() (bool, error) {
		name, err := greet(vip)
		return err == nil && name == "only", nil
	})

	// allowed_cidrs keeps other sources out (this client is 127.0.0.1).
	if _, err := listeners.Update(ctx, e.a, l.ID, listeners.UpdateOpts{AllowedCIDRs: &[]string{"192.0.2.0/24"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	if name, err := greet(vip); err == nil {
		t.Errorf("client outside allowed_cidrs got through to %q", name)
	}
	got2, err := listeners.Get(ctx, e.a, l.ID).Extract()
	if err != nil || len(got2.AllowedCIDRs) != 1 || got2.AllowedCIDRs[0] != "192.0.2.0/24" {
		t.Errorf("allowed_cidrs read back: %v %v", got2, err)
	}
	if _, err := listeners.Update(ctx, e.a, l.ID, listeners.UpdateOpts{AllowedCIDRs: &[]string{"192.0.2.0/24", "127.0.0.0/8"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	if name, err := greet(vip); err != nil || name != "only" {
		t.Errorf("client inside allowed_cidrs: %q %v", name, err)
	}

	// A dead HAProxy shows as operating_status ERROR; failover brings it back.
	if err := e.svc.KillHAProxy(lb.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "operating_status ERROR", 5*time.Second, func() (bool, error) {
		got, err := loadbalancers.Get(ctx, e.a, lb.ID).Extract()
		return err == nil && got.OperatingStatus == "ERROR", err
	})
	waitFor(t, "VIP dead", 5*time.Second, func() (bool, error) {
		_, err := greet(vip)
		return err != nil, nil
	})
	if err := loadbalancers.Failover(ctx, e.a, lb.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got := e.waitActive(t, lb.ID); got.OperatingStatus != "ONLINE" {
		t.Errorf("after failover: operating_status %s, want ONLINE", got.OperatingStatus)
	}
	if name, err := greet(vip); err != nil || name != "only" {
		t.Errorf("after failover: %q %v", name, err)
	}
}

// TestCloseRemovesEverything: Close in the middle of transitions stops
// every HAProxy and removes every state directory.
func TestCloseRemovesEverything(t *testing.T) {
	requireHAProxy(t)
	dir := t.TempDir()
	svc := New(Deps{Authenticate: tokens, SubnetID: subnetID, NetworkID: networkID, StateDir: dir, TransitionDelay: 50 * time.Millisecond})
	srv := httptest.NewServer(svc)
	defer srv.Close()
	e := &env{svc: svc, srv: srv}
	e.a = newEnvClient(srv.URL+"/", "token-a")
	ctx := context.Background()
	active := e.createLB(t, "active")
	port := freePort(t)
	if _, err := listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: active.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: port}).Extract(); err != nil {
		t.Fatal(err)
	}
	// One more still PENDING_CREATE when Close comes.
	if _, err := loadbalancers.Create(ctx, e.a, loadbalancers.CreateOpts{VipSubnetID: subnetID}).Extract(); err != nil {
		t.Fatal(err)
	}
	svc.mu.Lock()
	amp := svc.lbs[active.ID].amp
	svc.mu.Unlock()
	amp.mu.Lock()
	proc := amp.proc
	amp.mu.Unlock()
	if proc == nil {
		t.Fatal("no haproxy for an ACTIVE load balancer")
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proc.Exited():
	default:
		t.Error("haproxy still running after Close")
	}
	if inv := svc.Inventory(); len(inv) != 0 {
		t.Errorf("inventory after Close: %v", inv)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("state left in %s: %v", dir, entries)
	}
	if _, err := greet(net.JoinHostPort(active.VipAddress, strconv.Itoa(port))); err == nil {
		t.Error("VIP still answers after Close")
	}
	if err := svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLBDirFitsUnixSocket(t *testing.T) {
	id := newID()
	if got := lbDir("/var/lib/x", id); got != "/var/lib/x/"+id[:8] {
		t.Errorf("short state dir: %s", got)
	}
	deep := "/" + strings.Repeat("d", 120)
	got := lbDir(deep, id)
	if strings.HasPrefix(got, deep) || len(got)+len("/stats.sock") > 100 {
		t.Errorf("deep state dir: %s", got)
	}
}

// TestDeleteAll removes load balancers in any state and keeps the service.
func TestDeleteAll(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	active := e.createLB(t, "a")
	if _, err := listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: active.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: freePort(t)}).Extract(); err != nil {
		t.Fatal(err)
	}
	pending, err := loadbalancers.Create(ctx, e.a, loadbalancers.CreateOpts{VipSubnetID: subnetID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("after DeleteAll: %v", inv)
	}
	for _, id := range []string{active.ID, pending.ID} {
		_, err := loadbalancers.Get(ctx, e.a, id).Extract()
		wantCode(t, err, http.StatusNotFound)
		if _, err := os.Stat(lbDir(e.svc.deps.StateDir, id)); !os.IsNotExist(err) {
			t.Errorf("state of %s left: %v", id, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the dropped transitions have fired
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("a dropped transition brought back: %v", inv)
	}
	e.createLB(t, "after") // still serving
}

func TestMemberOperatingStatusFromHAProxy(t *testing.T) {
	for status, want := range map[string]string{
		"UP": "ONLINE", "UP 1/3": "ONLINE", "DOWN": "ERROR", "DOWN 1/2": "ERROR",
		"MAINT": "OFFLINE", "MAINT (via x/y)": "OFFLINE", "DRAIN": "DRAINING", "no check": "NO_MONITOR", "INI": "",
	} {
		if got := memberOp(status); got != want {
			t.Errorf("memberOp(%q) = %q, want %q", status, got, want)
		}
	}
}

// TestAutomaticFailover: with FailoverAfter set, a crashed HAProxy comes
// back by itself, through PENDING_UPDATE, like Octavia's health manager.
func TestAutomaticFailover(t *testing.T) {
	requireHAProxy(t)
	svc := New(Deps{Authenticate: tokens, SubnetID: subnetID, NetworkID: networkID, StateDir: t.TempDir(),
		TransitionDelay: 50 * time.Millisecond, FailoverAfter: 200 * time.Millisecond})
	srv := httptest.NewServer(svc)
	t.Cleanup(func() { srv.Close(); _ = svc.Close() })
	e := &env{svc: svc, srv: srv, a: newEnvClient(srv.URL+"/", "token-a")}
	ctx := context.Background()
	b := startBackend(t, "only")
	lb := e.createLB(t, "heal")
	port := freePort(t)
	l, err := listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: port}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	p, err := pools.Create(ctx, e.a, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	if _, err := pools.CreateMember(ctx, e.a, p.ID, pools.CreateMemberOpts{Address: "127.0.0.1", ProtocolPort: b.port}).Extract(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	vip := net.JoinHostPort(lb.VipAddress, strconv.Itoa(port))
	if err := svc.KillHAProxy(lb.ID); err != nil {
		t.Fatal(err)
	}
	sawPending := false
	waitFor(t, "self-healed VIP", 10*time.Second, func() (bool, error) {
		got, err := loadbalancers.Get(ctx, e.a, lb.ID).Extract()
		if err != nil {
			return false, err
		}
		sawPending = sawPending || got.ProvisioningStatus == "PENDING_UPDATE"
		name, err := greet(vip)
		return got.ProvisioningStatus == "ACTIVE" && err == nil && name == "only", nil
	})
	if !sawPending {
		t.Error("failover did not go through PENDING_UPDATE")
	}
}
