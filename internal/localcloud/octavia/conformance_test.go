package octavia

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestLoadBalancerLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	created, err := loadbalancers.Create(ctx, e.a, loadbalancers.CreateOpts{
		Name: "lb1", Description: "first", VipSubnetID: subnetID, Tags: []string{"galera"},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if created.ProvisioningStatus != "PENDING_CREATE" || created.OperatingStatus != "OFFLINE" {
		t.Errorf("new load balancer %s/%s, want PENDING_CREATE/OFFLINE", created.ProvisioningStatus, created.OperatingStatus)
	}
	if created.VipSubnetID != subnetID || created.VipNetworkID != networkID || created.VipAddress == "" || created.VipPortID == "" {
		t.Errorf("vip fields: %+v", created)
	}
	if created.ProjectID != projectA || created.Provider != "amphora" || created.CreatedAt.IsZero() {
		t.Errorf("project %q provider %q created %v", created.ProjectID, created.Provider, created.CreatedAt)
	}

	// Anything while PENDING_CREATE is a 409.
	_, err = loadbalancers.Update(ctx, e.a, created.ID, loadbalancers.UpdateOpts{Name: ptr("x")}).Extract()
	wantCode(t, err, http.StatusConflict)
	code, body := e.raw(t, "PUT", "/v2/lbaas/loadbalancers/"+created.ID, "token-a", `{"loadbalancer": {"name": "x"}}`)
	wantFault(t, code, body, http.StatusConflict, "Invalid state PENDING_CREATE of loadbalancer resource "+created.ID)
	code, body = e.raw(t, "POST", "/v2.0/lbaas/listeners", "token-a",
		fmt.Sprintf(`{"listener": {"loadbalancer_id": %q, "protocol": "TCP", "protocol_port": 3306}}`, created.ID))
	wantFault(t, code, body, http.StatusConflict, "Load Balancer "+created.ID+" is immutable and cannot be updated.")

	lb := e.waitActive(t, created.ID)
	if lb.OperatingStatus != "ONLINE" {
		t.Errorf("active load balancer without listeners: operating_status %s, want ONLINE", lb.OperatingStatus)
	}

	// List filters gophercloud sends.
	for _, c := range []struct {
		opts loadbalancers.ListOpts
		want int
	}{
		{loadbalancers.ListOpts{Name: "lb1"}, 1},
		{loadbalancers.ListOpts{Name: "nope"}, 0},
		{loadbalancers.ListOpts{ProjectID: projectA, ProvisioningStatus: "ACTIVE"}, 1},
		{loadbalancers.ListOpts{VipAddress: lb.VipAddress}, 1},
		{loadbalancers.ListOpts{Tags: []string{"galera"}}, 1},
		{loadbalancers.ListOpts{Tags: []string{"other"}}, 0},
	} {
		pages, err := loadbalancers.List(e.a, c.opts).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all, err := loadbalancers.ExtractLoadBalancers(pages)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != c.want {
			t.Errorf("list %+v: %d load balancers, want %d", c.opts, len(all), c.want)
		}
	}
	// Pages: gophercloud follows loadbalancers_links.
	second := e.createLB(t, "lb2")
	pages, err := loadbalancers.List(e.a, loadbalancers.ListOpts{Limit: 1}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := loadbalancers.ExtractLoadBalancers(pages); len(all) != 2 || all[0].ID != lb.ID || all[1].ID != second.ID {
		t.Errorf("paged list: %d load balancers, want lb1 then lb2", len(all))
	}
	code, page := e.raw(t, "GET", "/v2/lbaas/loadbalancers?limit=1", "token-a", "")
	links, _ := page["loadbalancers_links"].([]any)
	if items, _ := page["loadbalancers"].([]any); code != 200 || len(items) != 1 || len(links) != 1 {
		t.Errorf("limit=1: %d, %d items, links %v", code, len(items), links)
	}
	if err := loadbalancers.Delete(ctx, e.a, second.ID, nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, second.ID)

	// Another project sees nothing and may touch nothing.
	pages, err = loadbalancers.List(e.b, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := loadbalancers.ExtractLoadBalancers(pages); len(all) != 0 {
		t.Errorf("project B lists %d load balancers of project A", len(all))
	}
	_, err = loadbalancers.Get(ctx, e.b, lb.ID).Extract()
	wantCode(t, err, http.StatusForbidden)

	updated, err := loadbalancers.Update(ctx, e.a, lb.ID, loadbalancers.UpdateOpts{Name: ptr("lb1-renamed"), Description: ptr("d")}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if updated.ProvisioningStatus != "PENDING_UPDATE" || updated.Name != "lb1-renamed" {
		t.Errorf("update answer: %s %q", updated.ProvisioningStatus, updated.Name)
	}
	_, err = loadbalancers.Update(ctx, e.a, lb.ID, loadbalancers.UpdateOpts{Name: ptr("again")}).Extract()
	wantCode(t, err, http.StatusConflict)
	lb = e.waitActive(t, lb.ID)
	if lb.Name != "lb1-renamed" || lb.UpdatedAt.IsZero() {
		t.Errorf("after update: name %q updated_at %v", lb.Name, lb.UpdatedAt)
	}

	if err := loadbalancers.Delete(ctx, e.a, lb.ID, nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, err := loadbalancers.Get(ctx, e.a, lb.ID).Extract()
	if err == nil && got.ProvisioningStatus != "PENDING_DELETE" {
		t.Errorf("right after delete: %s, want PENDING_DELETE", got.ProvisioningStatus)
	}
	err = loadbalancers.Delete(ctx, e.a, lb.ID, nil).ExtractErr()
	wantCode(t, err, http.StatusConflict)
	e.waitGone(t, lb.ID)
	code, body = e.raw(t, "GET", "/v2/lbaas/loadbalancers/"+lb.ID, "token-a", "")
	wantFault(t, code, body, http.StatusNotFound, "Load Balancer "+lb.ID+" not found.")
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("left behind: %v", inv)
	}
}

// stack is a load balancer with a TCP listener, a pool and two members
// checked over HTTP on their health ports, like a Galera cluster behind
// Octavia with clustercheck.
type stack struct {
	lb       *loadbalancers.LoadBalancer
	listener *listeners.Listener
	pool     *pools.Pool
	members  []*pools.Member
	monitor  *monitors.Monitor
	backends []*backend
	vip      string
}

func buildStack(t *testing.T, e *env) *stack {
	t.Helper()
	ctx := context.Background()
	st := &stack{backends: []*backend{startBackend(t, "n1"), startBackend(t, "n2")}}
	st.lb = e.createLB(t, "galera")
	port := freePort(t)
	var err error
	st.listener, err = listeners.Create(ctx, e.a, listeners.CreateOpts{
		LoadbalancerID: st.lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: port, Name: "mysql",
		TimeoutClientData: ptr(3600000), TimeoutMemberData: ptr(3600000),
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if st.listener.ProvisioningStatus != "PENDING_CREATE" || st.listener.TimeoutMemberConnect != 5000 || st.listener.ConnLimit != -1 {
		t.Errorf("new listener: %s connect %d limit %d", st.listener.ProvisioningStatus, st.listener.TimeoutMemberConnect, st.listener.ConnLimit)
	}
	e.waitActive(t, st.lb.ID)
	st.pool, err = pools.Create(ctx, e.a, pools.CreateOpts{
		ListenerID: st.listener.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodLeastConnections, Name: "galera",
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, st.lb.ID)
	for i, b := range st.backends {
		m, err := pools.CreateMember(ctx, e.a, st.pool.ID, pools.CreateMemberOpts{
			Name: b.name, Address: "127.0.0.1", ProtocolPort: b.port, MonitorPort: ptr(b.healthPort),
			SubnetID: subnetID, Weight: ptr(1 + i),
		}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		st.members = append(st.members, m)
		e.waitActive(t, st.lb.ID)
	}
	st.monitor, err = monitors.Create(ctx, e.a, monitors.CreateOpts{
		PoolID: st.pool.ID, Type: monitors.TypeHTTP, Delay: 1, Timeout: 1, MaxRetries: 1, MaxRetriesDown: 1,
		URLPath: "/", ExpectedCodes: "200", Name: "clustercheck",
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, st.lb.ID)
	st.vip = net.JoinHostPort(st.lb.VipAddress, strconv.Itoa(port))
	return st
}

func TestStackBalancesAndReportsHealth(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := buildStack(t, e)
	m1, m2 := st.members[0], st.members[1]

	// Rendered the Octavia way.
	cfg, err := os.ReadFile(filepath.Join(lbDir(e.svc.deps.StateDir, st.lb.ID), "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"option allbackups", "balance leastconn", "timeout client 3600000", "timeout server 3600000",
		"option httpchk GET /", "http-check expect rstatus 200",
		fmt.Sprintf("server %s 127.0.0.1:%d weight 1 check inter 1s fall 1 rise 1 port %d", m1.ID, st.backends[0].port, st.backends[0].healthPort),
	} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, cfg)
		}
	}

	waitMembers := func(want1, want2 string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("members %s/%s", want1, want2), 15*time.Second, func() (bool, error) {
			return memberStatus(t, e.a, st.pool.ID, m1.ID) == want1 && memberStatus(t, e.a, st.pool.ID, m2.ID) == want2, nil
		})
	}
	waitMembers("ONLINE", "ONLINE")
	seen := map[string]int{}
	for range 8 {
		name, err := greet(st.vip)
		if err != nil {
			t.Fatal(err)
		}
		seen[name]++
	}
	if seen["n1"] == 0 || seen["n2"] == 0 {
		t.Fatalf("connections not balanced over both members: %v", seen)
	}

	// A failing health check turns the member ERROR and the rest DEGRADED.
	st.backends[0].healthy.Store(false)
	waitMembers("ERROR", "ONLINE")
	statuses, tree := e.memberStatuses(t, st.lb.ID)
	if statuses[m1.ID] != "ERROR" || tree["operating_status"] != "DEGRADED" {
		t.Errorf("status tree: members %v, load balancer %v", statuses, tree["operating_status"])
	}
	l0 := tree["listeners"].([]any)[0].(map[string]any)
	p0 := l0["pools"].([]any)[0].(map[string]any)
	if l0["operating_status"] != "DEGRADED" || p0["operating_status"] != "DEGRADED" {
		t.Errorf("listener %v pool %v, want DEGRADED", l0["operating_status"], p0["operating_status"])
	}
	if hm, ok := p0["health_monitor"].(map[string]any); !ok || hm["id"] != st.monitor.ID {
		t.Errorf("status tree pool health_monitor: %v", p0["health_monitor"])
	}
	for range 4 {
		if name, err := greet(st.vip); err != nil || name != "n2" {
			t.Fatalf("with n1 failing its check, connection went to %q (%v)", name, err)
		}
	}
	st.backends[0].healthy.Store(true)
	waitMembers("ONLINE", "ONLINE")
	lb, _ := loadbalancers.Get(ctx, e.a, st.lb.ID).Extract()
	if lb.OperatingStatus != "ONLINE" {
		t.Errorf("load balancer %s after recovery, want ONLINE", lb.OperatingStatus)
	}

	// A change while PENDING_UPDATE gets 409.
	if _, err := pools.UpdateMember(ctx, e.a, st.pool.ID, m1.ID, pools.UpdateMemberOpts{AdminStateUp: ptr(false)}).Extract(); err != nil {
		t.Fatal(err)
	}
	_, err = pools.UpdateMember(ctx, e.a, st.pool.ID, m2.ID, pools.UpdateMemberOpts{Weight: ptr(3)}).Extract()
	wantCode(t, err, http.StatusConflict)
	got, _ := listeners.Get(ctx, e.a, st.listener.ID).Extract()
	if got.ProvisioningStatus != "PENDING_UPDATE" {
		t.Errorf("listener during a member change: %s, want PENDING_UPDATE", got.ProvisioningStatus)
	}
	e.waitActive(t, st.lb.ID)
	waitMembers("OFFLINE", "ONLINE") // admin down renders "disabled": MAINT
	if name, err := greet(st.vip); err != nil || name != "n2" {
		t.Fatalf("admin-down member still gets connections: %q %v", name, err)
	}

	// Batch update: the list is the whole membership.
	n3, n4 := startBackend(t, "n3"), startBackend(t, "n4")
	err = pools.BatchUpdateMembers(ctx, e.a, st.pool.ID, []pools.BatchUpdateMemberOpts{
		{Address: "127.0.0.1", ProtocolPort: st.backends[1].port, Weight: ptr(5), MonitorPort: ptr(st.backends[1].healthPort)},
		{Address: "127.0.0.1", ProtocolPort: n3.port, Name: ptr("n3"), Backup: ptr(true),
			MonitorAddress: ptr("127.0.0.1"), MonitorPort: ptr(n3.healthPort)},
		{Address: "127.0.0.1", ProtocolPort: n4.port, Name: ptr("n4"), Backup: ptr(true), MonitorPort: ptr(n4.healthPort)},
	}).ExtractErr()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, st.lb.ID)
	cfg, err = os.ReadFile(filepath.Join(lbDir(e.svc.deps.StateDir, st.lb.ID), "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("127.0.0.1:%d weight 1 check inter 1s fall 1 rise 1 addr 127.0.0.1 port %d backup\n", n3.port, n3.healthPort); !strings.Contains(string(cfg), want) {
		t.Errorf("haproxy.cfg lacks %q:\n%s", want, cfg)
	}
	pages, err := pools.ListMembers(e.a, st.pool.ID, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	members, _ := pools.ExtractMembers(pages)
	if len(members) != 3 {
		t.Fatalf("after batch update: %d members, want 3", len(members))
	}
	_, err = pools.GetMember(ctx, e.a, st.pool.ID, m1.ID).Extract()
	wantCode(t, err, http.StatusNotFound)
	for _, m := range members {
		switch m.ProtocolPort {
		case st.backends[1].port:
			if m.ID != m2.ID || m.Weight != 5 {
				t.Errorf("kept member: id %s weight %d", m.ID, m.Weight)
			}
		case n3.port:
			if !m.Backup || m.Name != "n3" {
				t.Errorf("new member: backup %v name %q", m.Backup, m.Name)
			}
		}
	}
	// The backup takes no traffic while the primary is up.
	waitFor(t, "batch members ONLINE", 15*time.Second, func() (bool, error) {
		s, _ := e.memberStatuses(t, st.lb.ID)
		n := 0
		for _, v := range s {
			if v == "ONLINE" {
				n++
			}
		}
		return len(s) == 3 && n == 3, nil
	})
	for range 4 {
		if name, err := greet(st.vip); err != nil || name != "n2" {
			t.Fatalf("connection went to %q (%v), want the non-backup n2", name, err)
		}
	}
	// Octavia's "option allbackups": with the primary down, every healthy
	// backup takes connections, not just the first one.
	st.backends[1].healthy.Store(false)
	waitFor(t, "n2 ERROR", 10*time.Second, func() (bool, error) {
		return memberStatus(t, e.a, st.pool.ID, m2.ID) == "ERROR", nil
	})
	seen = map[string]int{}
	for range 6 {
		name, err := greet(st.vip)
		if err != nil {
			t.Fatal(err)
		}
		seen[name]++
	}
	if seen["n3"] == 0 || seen["n4"] == 0 || seen["n2"] != 0 {
		t.Errorf("with the primary down: %v, want both backups n3 and n4", seen)
	}
	st.backends[1].healthy.Store(true)
	waitFor(t, "n2 ONLINE", 10*time.Second, func() (bool, error) {
		return memberStatus(t, e.a, st.pool.ID, m2.ID) == "ONLINE", nil
	})

	// Without a monitor, members are NO_MONITOR.
	if err := monitors.Delete(ctx, e.a, st.monitor.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, st.lb.ID)
	_, err = monitors.Get(ctx, e.a, st.monitor.ID).Extract()
	wantCode(t, err, http.StatusNotFound)
	waitFor(t, "NO_MONITOR", 10*time.Second, func() (bool, error) {
		return memberStatus(t, e.a, st.pool.ID, m2.ID) == "NO_MONITOR", nil
	})

	// Counters come from the current HAProxy worker (they restart on reload).
	for range 3 {
		if _, err := greet(st.vip); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "stats to count 3 connections", 5*time.Second, func() (bool, error) {
		stats, err := loadbalancers.GetStats(ctx, e.a, st.lb.ID).Extract()
		return err == nil && stats.TotalConnections >= 3 && stats.BytesOut > 0, err
	})
	lstats, err := listeners.GetStats(ctx, e.a, st.listener.ID).Extract()
	if err != nil || lstats.TotalConnections < 3 {
		t.Errorf("listener stats: %+v %v", lstats, err)
	}

	// Failover restarts the amphora's work: PENDING_UPDATE, then ACTIVE.
	if err := loadbalancers.Failover(ctx, e.a, st.lb.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got, _ := loadbalancers.Get(ctx, e.a, st.lb.ID).Extract(); got.ProvisioningStatus != "PENDING_UPDATE" {
		t.Errorf("after failover: %s, want PENDING_UPDATE", got.ProvisioningStatus)
	}
	err = loadbalancers.Failover(ctx, e.a, st.lb.ID).ExtractErr()
	wantCode(t, err, http.StatusConflict)
	e.waitActive(t, st.lb.ID)

	// Cascade delete removes everything, HAProxy and its directory included.
	err = loadbalancers.Delete(ctx, e.a, st.lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr()
	if err != nil {
		t.Fatal(err)
	}
	_, err = pools.Get(ctx, e.a, st.pool.ID).Extract()
	if err != nil {
		t.Fatalf("pool during cascade delete: %v", err)
	}
	e.waitGone(t, st.lb.ID)
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("left behind: %v", inv)
	}
	if _, err := os.Stat(lbDir(e.svc.deps.StateDir, st.lb.ID)); !os.IsNotExist(err) {
		t.Errorf("state directory left: %v", err)
	}
	if _, err := greet(st.vip); err == nil {
		t.Error("VIP still answers after delete")
	}
}

func TestErrorPaths(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	lbPath := "/v2/lbaas/loadbalancers"
	missing := newID()

	code, body := e.raw(t, "GET", lbPath, "", "")
	if code != http.StatusUnauthorized || body["faultstring"] == nil {
		t.Errorf("no token: %d %v", code, body)
	}
	code, body = e.raw(t, "GET", lbPath, "wrong", "")
	if code != http.StatusUnauthorized {
		t.Errorf("bad token: %d %v", code, body)
	}
	code, body = e.raw(t, "GET", lbPath+"/"+missing, "token-a", "")
	wantFault(t, code, body, http.StatusNotFound, "Load Balancer "+missing+" not found.")
	code, body = e.raw(t, "GET", "/v2/lbaas/pools/"+missing+"/members", "token-a", "")
	wantFault(t, code, body, http.StatusNotFound, "Pool "+missing+" not found.")
	code, body = e.raw(t, "GET", "/v2/lbaas/healthmonitors/"+missing, "token-a", "")
	wantFault(t, code, body, http.StatusNotFound, "Health Monitor "+missing+" not found.")
	code, body = e.raw(t, "GET", "/v2/lbaas/nothing", "token-a", "")
	wantFault(t, code, body, http.StatusNotFound, "could not be found")
	code, body = e.raw(t, "PATCH", lbPath, "token-a", "")
	wantFault(t, code, body, http.StatusMethodNotAllowed, "not allowed")
	code, body = e.raw(t, "GET", lbPath+"/"+missing+"/nothing", "token-a", "")
	wantFault(t, code, body, http.StatusNotFound, "could not be found")

	for _, c := range []struct{ body, contains string }{
		{`{"loadbalancer": {"vip_subnet_id": "` + missing + `"}}`, "Subnet " + missing + " not found."},
		{`{"loadbalancer": {"vip_network_id": "` + missing + `"}}`, "Network " + missing + " not found."},
		{`{"loadbalancer": {"name": "x"}}`, "VIP must contain one of"},
		{`{"loadbalancer": {"vip_subnet_id": "private-subnet"}}`, "Value should be UUID format"},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "vip_address": "10.99.0.1"}}`, "is not a valid address in subnet"},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "admin_state_up": "maybe"}}`, "admin_state_up"},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "provider": "ovn"}}`, "Provider 'ovn' is not enabled."},
		{`{"lb": {}}`, "Missing argument"},
		{`not json`, "Invalid JSON"},
	} {
		code, body := e.raw(t, "POST", lbPath, "token-a", c.body)
		wantFault(t, code, body, http.StatusBadRequest, c.contains)
	}
	code, body = e.raw(t, "POST", lbPath, "token-a", `{"loadbalancer": {"vip_subnet_id": "`+subnetID+`", "project_id": "`+projectB+`"}}`)
	wantFault(t, code, body, http.StatusForbidden, "Policy does not allow")

	lb := e.createLB(t, "errors")
	_, err := loadbalancers.Get(ctx, e.b, lb.ID).Extract()
	wantCode(t, err, http.StatusForbidden)
	err = loadbalancers.Delete(ctx, e.b, lb.ID, nil).ExtractErr()
	wantCode(t, err, http.StatusForbidden)
	// A VIP already in use is a conflict.
	code, body = e.raw(t, "POST", lbPath, "token-a", `{"loadbalancer": {"vip_subnet_id": "`+subnetID+`", "vip_address": "`+lb.VipAddress+`"}}`)
	wantFault(t, code, body, http.StatusConflict, "already allocated")

	lst := func(body string) (int, map[string]any) {
		return e.raw(t, "POST", "/v2/lbaas/listeners", "token-a", body)
	}
	for _, c := range []struct{ body, contains string }{
		{`{"listener": {"loadbalancer_id": "` + lb.ID + `", "protocol": "FTP", "protocol_port": 21}}`, "Invalid input for field/attribute protocol"},
		{`{"listener": {"loadbalancer_id": "` + lb.ID + `", "protocol": "TCP", "protocol_port": 70000}}`, "protocol_port"},
		{`{"listener": {"loadbalancer_id": "` + lb.ID + `", "protocol": "TCP", "protocol_port": "abc"}}`, "protocol_port"},
		{`{"listener": {"protocol": "TCP", "protocol_port": 80}}`, "Mandatory field missing."},
		{`{"listener": {"loadbalancer_id": "` + lb.ID + `", "protocol": "UDP", "protocol_port": 53}}`, "not supported"},
		{`{"listener": {"loadbalancer_id": "` + lb.ID + `", "protocol": "TCP", "protocol_port": 80, "timeout_client_data": -1}}`, "timeout_client_data"},
	} {
		code, body := lst(c.body)
		wantFault(t, code, body, http.StatusBadRequest, c.contains)
	}
	code, body = lst(`{"listener": {"loadbalancer_id": "` + missing + `", "protocol": "TCP", "protocol_port": 80}}`)
	wantFault(t, code, body, http.StatusNotFound, "Load Balancer "+missing+" not found.")

	l, err := listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: freePort(t)}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	code, body = lst(fmt.Sprintf(`{"listener": {"loadbalancer_id": %q, "protocol": "TCP", "protocol_port": %d}}`, lb.ID, l.ProtocolPort))
	wantFault(t, code, body, http.StatusConflict, "already using protocol_port")

	pl := func(body string) (int, map[string]any) { return e.raw(t, "POST", "/v2/lbaas/pools", "token-a", body) }
	code, body = pl(`{"pool": {"listener_id": "` + l.ID + `", "protocol": "TCP"}}`)
	wantFault(t, code, body, http.StatusBadRequest, "lb_algorithm")
	code, body = pl(`{"pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}`)
	wantFault(t, code, body, http.StatusBadRequest, "loadbalancer_id or listener_id")
	code, body = pl(`{"pool": {"listener_id": "` + l.ID + `", "protocol": "TCP", "lb_algorithm": "RANDOM"}}`)
	wantFault(t, code, body, http.StatusBadRequest, "lb_algorithm")
	code, body = pl(`{"pool": {"listener_id": "` + l.ID + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "APP_COOKIE"}}}`)
	wantFault(t, code, body, http.StatusBadRequest, "cookie_name")
	p, err := pools.Create(ctx, e.a, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin,
		Persistence: &pools.SessionPersistence{Type: "SOURCE_IP"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	code, body = pl(`{"pool": {"listener_id": "` + l.ID + `", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}`)
	wantFault(t, code, body, http.StatusConflict, "already has a default pool")

	mp := "/v2/lbaas/pools/" + p.ID + "/members"
	for _, c := range []struct{ body, contains string }{
		{`{"member": {"address": "127.0.0.1", "protocol_port": 80, "weight": "abc"}}`, "weight"},
		{`{"member": {"address": "127.0.0.1", "protocol_port": 80, "weight": 257}}`, "weight"},
		{`{"member": {"address": "not-an-ip", "protocol_port": 80}}`, "address"},
		{`{"member": {"address": "127.0.0.1"}}`, "Mandatory field missing."},
		{`{"member": {"address": "127.0.0.1", "protocol_port": 80, "subnet_id": "` + missing + `"}}`, "Subnet " + missing + " not found."},
	} {
		code, body := e.raw(t, "POST", mp, "token-a", c.body)
		wantFault(t, code, body, http.StatusBadRequest, c.contains)
	}
	// WSME accepts numbers as strings (Octavia's own samples send them so).
	code, body = e.raw(t, "POST", mp, "token-a", `{"member": {"address": "127.0.0.1", "protocol_port": "80", "weight": "20"}}`)
	if code != http.StatusCreated {
		t.Fatalf("member with numeric strings: %d %v", code, body)
	}
	m := body["member"].(map[string]any)
	if m["weight"] != float64(20) || m["protocol_port"] != float64(80) || m["operating_status"] != "OFFLINE" {
		t.Errorf("member answer: %v", m)
	}
	e.waitActive(t, lb.ID)
	code, body = e.raw(t, "POST", mp, "token-a", `{"member": {"address": "127.0.0.1", "protocol_port": 80}}`)
	wantFault(t, code, body, http.StatusConflict, "already using ip 127.0.0.1 on protocol_port 80")
	code, body = e.raw(t, "PUT", mp+"/"+m["id"].(string), "token-a", `{"member": {"address": "127.0.0.2"}}`)
	wantFault(t, code, body, http.StatusBadRequest, "cannot be updated")

	hp := "/v2/lbaas/healthmonitors"
	for _, c := range []struct{ body, contains string }{
		{`{"healthmonitor": {"pool_id": "` + p.ID + `", "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 11}}`, "max_retries"},
		{`{"healthmonitor": {"pool_id": "` + p.ID + `", "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1, "url_path": "/x"}}`, "only valid for HTTP"},
		{`{"healthmonitor": {"pool_id": "` + p.ID + `", "type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "expected_codes": "2xx"}}`, "expected_codes"},
		{`{"healthmonitor": {"pool_id": "` + p.ID + `", "type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "url_path": "no-slash"}}`, "url_path"},
		{`{"healthmonitor": {"pool_id": "` + p.ID + `", "type": "PING", "delay": 1, "timeout": 1, "max_retries": 1}}`, "not supported"},
		{`{"healthmonitor": {"pool_id": "` + p.ID + `", "type": "TCP", "timeout": 1, "max_retries": 1}}`, "delay"},
	} {
		code, body := e.raw(t, "POST", hp, "token-a", c.body)
		wantFault(t, code, body, http.StatusBadRequest, c.contains)
	}
	code, body = e.raw(t, "POST", hp, "token-a", `{"healthmonitor": {"pool_id": "`+missing+`", "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}}`)
	wantFault(t, code, body, http.StatusNotFound, "Pool "+missing+" not found.")
	hm, err := monitors.Create(ctx, e.a, monitors.CreateOpts{PoolID: p.ID, Type: monitors.TypeTCP, Delay: 2, Timeout: 1, MaxRetries: 2}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if hm.MaxRetriesDown != 3 || hm.HTTPMethod != "" || hm.URLPath != "" {
		t.Errorf("TCP monitor defaults: %+v", hm)
	}
	e.waitActive(t, lb.ID)
	code, body = e.raw(t, "POST", hp, "token-a", `{"healthmonitor": {"pool_id": "`+p.ID+`", "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}}`)
	wantFault(t, code, body, http.StatusConflict, "already has a health monitor")
	updatedHM, err := monitors.Update(ctx, e.a, hm.ID, monitors.UpdateOpts{Delay: 5, MaxRetriesDown: 2}).Extract()
	if err != nil || updatedHM.Delay != 5 || updatedHM.MaxRetriesDown != 2 || updatedHM.ProvisioningStatus != "PENDING_UPDATE" {
		t.Fatalf("monitor update: %+v %v", updatedHM, err)
	}
	e.waitActive(t, lb.ID)
	updatedPool, err := pools.Update(ctx, e.a, p.ID, pools.UpdateOpts{LBMethod: pools.LBMethodSourceIp, Name: ptr("renamed")}).Extract()
	if err != nil || updatedPool.LBMethod != "SOURCE_IP" {
		t.Fatalf("pool update: %+v %v", updatedPool, err)
	}
	e.waitActive(t, lb.ID)
	updatedL, err := listeners.Update(ctx, e.a, l.ID, listeners.UpdateOpts{TimeoutClientData: ptr(1000), ConnLimit: ptr(10)}).Extract()
	if err != nil || updatedL.TimeoutClientData != 1000 || updatedL.ConnLimit != 10 {
		t.Fatalf("listener update: %+v %v", updatedL, err)
	}
	e.waitActive(t, lb.ID)

	// Filters on child lists.
	pages, err := listeners.List(e.a, listeners.ListOpts{LoadbalancerID: lb.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ls, _ := listeners.ExtractListeners(pages); len(ls) != 1 || ls[0].ID != l.ID {
		t.Errorf("listeners by loadbalancer_id: %v", ls)
	}
	pages, err = listeners.List(e.a, listeners.ListOpts{LoadbalancerID: missing}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ls, _ := listeners.ExtractListeners(pages); len(ls) != 0 {
		t.Errorf("listeners of another load balancer: %v", ls)
	}
	pages, err = monitors.List(e.a, monitors.ListOpts{PoolID: p.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := monitors.ExtractMonitors(pages); len(ms) != 1 {
		t.Errorf("monitors by pool_id: %v", ms)
	}
	pages, err = pools.List(e.a, pools.ListOpts{LoadbalancerID: lb.ID, LBMethod: "SOURCE_IP"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps, _ := pools.ExtractPools(pages); len(ps) != 1 || ps[0].Persistence.Type != "SOURCE_IP" {
		t.Errorf("pools by loadbalancer_id: %+v", ps)
	}

	code, body = e.raw(t, "DELETE", lbPath+"/"+lb.ID, "token-a", "")
	wantFault(t, code, body, http.StatusBadRequest, "Cannot delete Load Balancer "+lb.ID+" - it has children")

	// Children go one by one, each behind the load balancer's lock.
	if err := pools.DeleteMember(ctx, e.a, p.ID, m["id"].(string)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	err = monitors.Delete(ctx, e.a, hm.ID).ExtractErr()
	wantCode(t, err, http.StatusConflict)
	e.waitActive(t, lb.ID)
	_, err = pools.GetMember(ctx, e.a, p.ID, m["id"].(string)).Extract()
	wantCode(t, err, http.StatusNotFound)
	if err := pools.Delete(ctx, e.a, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	_, err = monitors.Get(ctx, e.a, hm.ID).Extract()
	wantCode(t, err, http.StatusNotFound) // deleted with its pool
	if got, _ := listeners.Get(ctx, e.a, l.ID).Extract(); got.DefaultPoolID != "" {
		t.Errorf("listener keeps deleted default pool %s", got.DefaultPoolID)
	}
	if err := listeners.Delete(ctx, e.a, l.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	_, err = listeners.Get(ctx, e.a, l.ID).Extract()
	wantCode(t, err, http.StatusNotFound)

	// A load balancer in ERROR takes no changes but can be deleted.
	if err := e.svc.SetLoadBalancerError(lb.ID); err != nil {
		t.Fatal(err)
	}
	_, err = listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: 81}).Extract()
	wantCode(t, err, http.StatusConflict)
	if err := loadbalancers.Delete(ctx, e.a, lb.ID, nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, lb.ID)
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("left behind: %v", inv)
	}
	_ = gophercloud.ErrUnexpectedResponseCode{}
}
