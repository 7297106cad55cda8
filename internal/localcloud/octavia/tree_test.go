package octavia

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/samples"
)

// TestSingleCallCreate builds a load balancer, its listener, pool, members
// and monitor in one POST, as gophercloud's CreateOpts.Listeners allows.
func TestSingleCallCreate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b1, b2 := startBackend(t, "n1"), startBackend(t, "n2")
	port := freePort(t)
	member := func(b *backend) pools.CreateMemberOpts {
		return pools.CreateMemberOpts{Address: "127.0.0.1", ProtocolPort: b.port, MonitorPort: ptr(b.healthPort), Name: b.name}
	}
	opts := loadbalancers.CreateOpts{
		Name: "tree", VipSubnetID: subnetID,
		Listeners: []listeners.CreateOpts{{
			Name: "mysql", Protocol: listeners.ProtocolTCP, ProtocolPort: port, TimeoutClientData: ptr(60000),
			DefaultPool: &pools.CreateOpts{
				Name: "galera", Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin,
				Members: []pools.CreateMemberOpts{member(b1), member(b2)},
				Monitor: monitors.CreateOpts{Type: monitors.TypeHTTP, Delay: 1, Timeout: 1, MaxRetries: 1, MaxRetriesDown: 1, URLPath: "/"},
			},
		}},
		Pools: []pools.CreateOpts{{Name: "spare", Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodSourceIp}},
	}
	r := loadbalancers.Create(ctx, e.a, opts)
	created, err := r.Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Listeners) != 1 || len(created.Pools) != 2 {
		t.Fatalf("answer has %d listeners and %d pools, want 1 and 2", len(created.Listeners), len(created.Pools))
	}
	var galera *pools.Pool
	for i := range created.Pools {
		if created.Pools[i].Name == "galera" {
			galera = &created.Pools[i]
		}
	}
	if galera == nil || len(galera.Members) != 2 || galera.Monitor.Type != "HTTP" || galera.ProvisioningStatus != "PENDING_CREATE" {
		t.Fatalf("inline pool in the answer: %+v", galera)
	}
	if created.Listeners[0].DefaultPool == nil || created.Listeners[0].DefaultPool.ID != galera.ID {
		t.Errorf("listener default_pool: %+v", created.Listeners[0].DefaultPool)
	}
	// Everything is under the load balancer's lock until it is ACTIVE.
	_, err = pools.CreateMember(ctx, e.a, galera.ID, pools.CreateMemberOpts{Address: "127.0.0.1", ProtocolPort: 1}).Extract()
	wantCode(t, err, http.StatusConflict)

	e.waitActive(t, created.ID)
	for _, m := range galera.Members {
		if got, err := pools.GetMember(ctx, e.a, galera.ID, m.ID).Extract(); err != nil || got.ProvisioningStatus != "ACTIVE" {
			t.Fatalf("member %s: %+v %v", m.ID, got, err)
		}
	}
	vip := net.JoinHostPort(created.VipAddress, strconv.Itoa(port))
	waitFor(t, "both members ONLINE", 10*time.Second, func() (bool, error) {
		s, _ := e.memberStatuses(t, created.ID)
		return len(s) == 2 && s[galera.Members[0].ID] == "ONLINE" && s[galera.Members[1].ID] == "ONLINE", nil
	})
	seen := map[string]int{}
	for range 4 {
		name, err := greet(vip)
		if err != nil {
			t.Fatal(err)
		}
		seen[name]++
	}
	if seen["n1"] != 2 || seen["n2"] != 2 {
		t.Errorf("round robin: %v", seen)
	}

	// The answer has the shape of the api-ref's full-create sample.
	if _, ok := samples.Optional(t, "octavia"); ok {
		var got any
		if err := json.Unmarshal(mustJSON(t, r.Body), &got); err != nil {
			t.Fatal(err)
		}
		skip := map[string]bool{"$.loadbalancer.listeners[].l7policies": true}
		for _, d := range sameShape("$", loadSample(t, "loadbalancer-full-create-response.json"), got, skip) {
			t.Errorf("loadbalancer-full-create-response.json: %s", d)
		}
	}

	// Graph errors are found before anything is made.
	before := len(e.svc.Inventory())
	for _, c := range []struct {
		body string
		code int
	}{
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "listeners": [{"protocol": "TCP", "protocol_port": 80, "default_pool": {"name": "nope"}}]}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "listeners": [{"protocol": "TCP", "protocol_port": 80}, {"protocol": "TCP", "protocol_port": 80}]}}`, 409},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "pools": [{"protocol": "TCP"}]}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "pools": [{"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "healthmonitor": {"type": "TCP"}}]}}`, 400},
		{`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}]}}`, 400},
	} {
		code, body := e.raw(t, "POST", "/v2/lbaas/loadbalancers", "token-a", c.body)
		if code != c.code {
			t.Errorf("%s: %d %v, want %d", c.body, code, body, c.code)
		}
	}
	if after := len(e.svc.Inventory()); after != before {
		t.Errorf("rejected graphs left objects: %d -> %d", before, after)
	}

	if err := loadbalancers.Delete(ctx, e.a, created.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, created.ID)
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("left behind: %v", inv)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFullCreateRequestSample posts the api-ref's fully populated load
// balancer request: one POST with listeners, pools, members and health
// monitors. Left out are what this cloud cannot have (the availability
// zone "my_az", a VIP address outside its subnet) and what it does not
// implement (the listener with l7policies, refused with 400).
func TestFullCreateRequestSample(t *testing.T) {
	dir := samples.Dir(t, "octavia")
	b, err := os.ReadFile(filepath.Join(dir, "loadbalancer-full-create-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	request := func(keepL7 bool) string {
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		lb := doc["loadbalancer"].(map[string]any)
		delete(lb, "availability_zone")
		delete(lb, "vip_address")
		if !keepL7 {
			var kept []any
			for _, l := range lb["listeners"].([]any) {
				if _, l7 := l.(map[string]any)["l7policies"]; !l7 {
					kept = append(kept, l)
				}
			}
			lb["listeners"] = kept
		}
		return string(mustJSON(t, doc))
	}
	e := newEnv(t, nil)

	if code, body := e.raw(t, "POST", "/v2/lbaas/loadbalancers", "token-a", request(true)); code != 400 {
		t.Errorf("sample with l7policies: %d %v, want 400 (not implemented)", code, body)
	}
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("a refused graph left objects: %v", inv)
	}

	code, body := e.raw(t, "POST", "/v2/lbaas/loadbalancers", "token-a", request(false))
	if code != 201 {
		t.Fatalf("full create from the sample: %d %v", code, body)
	}
	var got any
	if err := json.Unmarshal(mustJSON(t, body), &got); err != nil {
		t.Fatal(err)
	}
	skip := map[string]bool{"$.loadbalancer.listeners[].l7policies": true}
	for _, d := range sameShape("$", loadSample(t, "loadbalancer-full-create-response.json"), got, skip) {
		t.Errorf("loadbalancer-full-create-response.json: %s", d)
	}
	lb := body["loadbalancer"].(map[string]any)
	pools, _ := lb["pools"].([]any)
	listeners, _ := lb["listeners"].([]any)
	if len(listeners) != 2 || len(pools) != 2 || lb["name"] != "best_load_balancer" {
		t.Fatalf("answer: %d listeners, %d pools, name %v; want 2, 2, best_load_balancer", len(listeners), len(pools), lb["name"])
	}
	for _, p := range pools {
		p := p.(map[string]any)
		if members, _ := p["members"].([]any); len(members) != 2 || p["healthmonitor"] == nil {
			t.Errorf("pool %v: %d members, monitor %v; want 2 and one", p["name"], len(members), p["healthmonitor"])
		}
	}
	id := lb["id"].(string)
	e.waitActive(t, id)
	if err := loadbalancers.Delete(context.Background(), e.a, id, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, id)
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("left behind: %v", inv)
	}
}
