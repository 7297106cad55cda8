package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fastWaits makes every waiter in these tests poll quickly.
func fastCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func decode(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("decode %s %s: %v", r.Method, r.URL.Path, err)
	}
	return m
}

func TestCreateServerSendsEverything(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /compute/v2.1/servers", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-OpenStack-Nova-API-Version"); got != ComputeMicroversion {
			t.Errorf("microversion header %q", got)
		}
		body := decode(t, r)
		s := body["server"].(map[string]any)
		hints, _ := body["os:scheduler_hints"].(map[string]any)
		if s["name"] != "db-1" || s["flavorRef"] != "f1" || s["imageRef"] != "i1" || s["key_name"] != "kp" ||
			s["availability_zone"] != "az1" || hints["group"] != "5b7c1b6e-3c1e-4c25-9a1f-0d1f2e3a4b5c" {
			t.Errorf("server body: %v", body)
		}
		nets := s["networks"].([]any)
		if nets[0].(map[string]any)["port"] != "p1" {
			t.Errorf("networks: %v", nets)
		}
		if sgs := s["security_groups"].([]any); sgs[0].(map[string]any)["name"] != "galera" {
			t.Errorf("security groups: %v", sgs)
		}
		if md := s["metadata"].(map[string]any); md["pxc_cluster"] != "c1" {
			t.Errorf("metadata: %v", md)
		}
		writeJSON(w, 202, map[string]any{"server": map[string]any{"id": "srv-1"}})
	})
	c := f.client(t)
	s, err := c.CreateServer(fastCtx(t), ServerCreate{
		Name: "db-1", FlavorID: "f1", ImageID: "i1", PortID: "p1", KeyName: "kp", SecurityGroups: []string{"galera"},
		AvailabilityZone: "az1", Metadata: map[string]string{"pxc_cluster": "c1"}, ServerGroupID: "5b7c1b6e-3c1e-4c25-9a1f-0d1f2e3a4b5c",
	})
	if err != nil || s.ID != "srv-1" || s.Name != "db-1" {
		t.Fatalf("got %+v, %v", s, err)
	}
	if _, err := c.CreateServer(fastCtx(t), ServerCreate{Name: "x"}); err == nil {
		t.Error("a server with no network or port must be refused")
	}
}

func TestWaitServerActiveReportsFault(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /compute/v2.1/servers/srv-1", sequence(
		status(200, map[string]any{"server": map[string]any{"id": "srv-1", "status": "BUILD"}}),
		status(200, map[string]any{"server": map[string]any{"id": "srv-1", "status": "ERROR",
			"fault": map[string]any{"code": 500, "message": "No valid host was found."}}}),
	))
	_, err := f.client(t).WaitServerActive(fastCtx(t), "srv-1")
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("want StatusError, got %v", err)
	}
	mustContain(t, err.Error(), "srv-1", "ERROR", "No valid host was found.")
}

func TestServerAddressesAndList(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /compute/v2.1/servers/detail", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("name"); got != `^db\.x-` {
			t.Errorf("name filter %q", got)
		}
		addr := map[string]any{"net": []any{map[string]any{"addr": "10.200.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}}}
		writeJSON(w, 200, map[string]any{"servers": []any{
			map[string]any{"id": "b", "name": "db.x-2", "status": "ACTIVE", "metadata": map[string]string{"pxc_cluster": "c1"}, "addresses": addr},
			map[string]any{"id": "a", "name": "db.x-1", "status": "ACTIVE", "metadata": map[string]string{"pxc_cluster": "c1"}, "addresses": addr},
			map[string]any{"id": "z", "name": "db.x-9", "status": "ACTIVE", "metadata": map[string]string{"pxc_cluster": "other"}},
			map[string]any{"id": "y", "name": "dbAx-1", "status": "ACTIVE", "metadata": map[string]string{"pxc_cluster": "c1"}},
		}})
	})
	got, err := f.client(t).ListServers(fastCtx(t), "db.x-", map[string]string{"pxc_cluster": "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Fatalf("got %+v", got)
	}
	if ip := got[0].FirstIP(); ip != "10.200.0.5" {
		t.Errorf("FirstIP = %q", ip)
	}
}

func TestDeleteServerWaitsUntilGone(t *testing.T) {
	f := newFakeCloud(t)
	var deleted atomic.Bool
	f.Mux.HandleFunc("DELETE /compute/v2.1/servers/srv-1", func(w http.ResponseWriter, r *http.Request) {
		deleted.Store(true)
		w.WriteHeader(204)
	})
	f.Mux.HandleFunc("GET /compute/v2.1/servers/srv-1", sequence(
		status(200, map[string]any{"server": map[string]any{"id": "srv-1", "status": "ACTIVE", "OS-EXT-STS:task_state": "deleting"}}),
		status(404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "gone"}}),
	))
	f.Mux.HandleFunc("DELETE /compute/v2.1/servers/missing", status(404, map[string]any{"itemNotFound": map[string]any{"code": 404}}))
	c := f.client(t)
	if err := c.DeleteServer(fastCtx(t), "srv-1"); err != nil || !deleted.Load() {
		t.Fatalf("delete: %v (sent: %v)", err, deleted.Load())
	}
	if err := c.DeleteServer(fastCtx(t), "missing"); err != nil {
		t.Fatalf("a missing server counts as deleted: %v", err)
	}
}

// A delete is first looked at after a second (a look at once can only say
// "deleting"), then every second for a while: a server gone within that
// second costs one list and is seen gone after about a second, where the
// wait looked at once and again after two.
func TestDeleteWaitLooksFirstAfterASecond(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("DELETE /compute/v2.1/servers/srv-1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	var lists atomic.Int32
	f.Mux.HandleFunc("GET /compute/v2.1/servers/detail", func(w http.ResponseWriter, r *http.Request) {
		lists.Add(1)
		writeJSON(w, 200, map[string]any{"servers": []any{}})
	})
	c := createScheduleClient(t, f)
	start := time.Now()
	if err := c.DeleteServer(fastCtx(t), "srv-1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 1900*time.Millisecond {
		t.Errorf("the delete was seen done after %s, want about a second", d.Round(time.Millisecond))
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("%d server lists, want one", n)
	}
}

func TestResolveFlavorByName(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /compute/v2.1/flavors/{id}", status(404, map[string]any{"itemNotFound": map[string]any{"code": 404}}))
	f.Mux.HandleFunc("GET /compute/v2.1/flavors/detail", status(200, map[string]any{"flavors": []any{
		map[string]any{"id": "1", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
		map[string]any{"id": "2", "name": "dup", "vcpus": 1}, map[string]any{"id": "3", "name": "dup", "vcpus": 1},
	}}))
	c := f.client(t)
	fl, err := c.ResolveFlavor(fastCtx(t), "m1.small")
	if err != nil || fl.ID != "1" || fl.RAMMiB != 2048 {
		t.Fatalf("got %+v, %v", fl, err)
	}
	if _, err := c.ResolveFlavor(fastCtx(t), "nope"); !IsNotFound(err) {
		t.Errorf("unknown flavor: %v", err)
	}
	if _, err := c.ResolveFlavor(fastCtx(t), "dup"); err == nil || !strings.Contains(err.Error(), "use the id") {
		t.Errorf("ambiguous flavor: %v", err)
	}
}

func TestAttachVolumeWaitsInUse(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /compute/v2.1/servers/srv-1/os-volume_attachments", func(w http.ResponseWriter, r *http.Request) {
		if v := decode(t, r)["volumeAttachment"].(map[string]any)["volumeId"]; v != "vol-1" {
			t.Errorf("volumeId %v", v)
		}
		writeJSON(w, 200, map[string]any{"volumeAttachment": map[string]any{"id": "vol-1", "serverId": "srv-1", "volumeId": "vol-1", "device": "/dev/vdb"}})
	})
	f.Mux.HandleFunc("GET /volume/v3/proj/volumes/vol-1", sequence(
		status(200, map[string]any{"volume": map[string]any{"id": "vol-1", "status": "attaching"}}),
		status(200, map[string]any{"volume": map[string]any{"id": "vol-1", "status": "in-use",
			"attachments": []any{map[string]any{"server_id": "srv-1", "device": "/dev/vdb"}}}}),
	))
	c := f.client(t)
	a, err := c.StartVolumeAttach(fastCtx(t), "srv-1", "vol-1")
	if err == nil {
		err = c.WaitVolumeAttached(fastCtx(t), "srv-1", "vol-1")
	}
	if err != nil || a.Device != "/dev/vdb" {
		t.Fatalf("got %+v, %v", a, err)
	}
}

func TestCreateVolumeErrorStatus(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /volume/v3/proj/volumes", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("OpenStack-API-Version"); got != "volume "+BlockStorageMicroversion {
			t.Errorf("microversion header %q", got)
		}
		writeJSON(w, 202, map[string]any{"volume": map[string]any{"id": "vol-1", "status": "creating", "size": 10}})
	})
	f.Mux.HandleFunc("GET /volume/v3/proj/volumes/vol-1", status(200, map[string]any{"volume": map[string]any{"id": "vol-1", "status": "error"}}))
	_, err := f.client(t).CreateVolume(fastCtx(t), VolumeCreate{Name: "data-1", SizeGiB: 10})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != "error" {
		t.Fatalf("want StatusError error, got %v", err)
	}
	mustContain(t, err.Error(), "create volume data-1")
}

func TestSecurityGroupRuleDuplicateReturnsExisting(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /network/v2.0/security-group-rules", status(409, map[string]any{"NeutronError": map[string]any{"type": "SecurityGroupRuleExists"}}))
	f.Mux.HandleFunc("GET /network/v2.0/security-group-rules", status(200, map[string]any{"security_group_rules": []any{
		map[string]any{"id": "r-other", "security_group_id": "sg", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
		map[string]any{"id": "r-1", "security_group_id": "sg", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 3306, "port_range_max": 3306, "remote_ip_prefix": "10.0.0.0/24"},
	}}))
	r, err := f.client(t).CreateSecurityGroupRule(fastCtx(t), "sg", SecurityGroupRule{Direction: "ingress", Protocol: "tcp", PortMin: 3306, PortMax: 3306, RemoteIPPrefix: "10.0.0.0/24"})
	if err != nil || r.ID != "r-1" {
		t.Fatalf("got %+v, %v", r, err)
	}
}

func TestSetPoolMembersWaitsThrough409(t *testing.T) {
	f := newFakeCloud(t)
	var lbGets atomic.Int32
	f.Mux.HandleFunc("GET /lb/v2.0/lbaas/loadbalancers/lb-1", func(w http.ResponseWriter, r *http.Request) {
		st := "ACTIVE"
		if n := lbGets.Add(1); n == 2 || n == 4 {
			st = "PENDING_UPDATE"
		}
		writeJSON(w, 200, map[string]any{"loadbalancer": map[string]any{"id": "lb-1", "provisioning_status": st, "operating_status": "ONLINE"}})
	})
	var puts atomic.Int32
	f.Mux.HandleFunc("PUT /lb/v2.0/lbaas/pools/pool-1/members", func(w http.ResponseWriter, r *http.Request) {
		if puts.Add(1) == 1 {
			writeJSON(w, 409, map[string]any{"faultcode": "Client", "faultstring": "Load Balancer lb-1 is immutable and cannot be updated."})
			return
		}
		members := decode(t, r)["members"].([]any)
		m0, m1 := members[0].(map[string]any), members[1].(map[string]any)
		if len(members) != 2 || m0["address"] != "10.200.0.5" || m0["backup"] != false || m1["backup"] != true || m1["monitor_port"] != float64(9200) {
			t.Errorf("members body: %v", members)
		}
		w.WriteHeader(202)
	})
	f.Mux.HandleFunc("GET /lb/v2.0/lbaas/pools/pool-1/members", status(200, map[string]any{"members": []any{
		map[string]any{"id": "m1", "address": "10.200.0.5", "protocol_port": 3306, "operating_status": "ONLINE"},
		map[string]any{"id": "m2", "address": "10.200.0.6", "protocol_port": 3306, "backup": true, "operating_status": "ONLINE"},
	}}))
	got, err := f.client(t).SetPoolMembers(fastCtx(t), "lb-1", "pool-1", []MemberSpec{
		{Address: "10.200.0.5", Port: 3306, MonitorPort: 9200},
		{Address: "10.200.0.6", Port: 3306, Backup: true, MonitorPort: 9200},
	})
	if err != nil {
		t.Fatal(err)
	}
	if puts.Load() != 2 {
		t.Errorf("PUTs = %d, want 2 (one 409, one retry)", puts.Load())
	}
	if len(got) != 2 || !got[1].Backup {
		t.Errorf("members = %+v", got)
	}
	if lbGets.Load() < 4 {
		t.Errorf("load balancer polled %d times; it must be waited on before and after", lbGets.Load())
	}
}

func TestDeleteLoadBalancerCascadeFromError(t *testing.T) {
	f := newFakeCloud(t)
	var gone atomic.Bool
	f.Mux.HandleFunc("GET /lb/v2.0/lbaas/loadbalancers/lb-1", func(w http.ResponseWriter, r *http.Request) {
		if gone.Load() {
			writeJSON(w, 404, map[string]any{"faultcode": "Client", "faultstring": "not found"})
			return
		}
		writeJSON(w, 200, map[string]any{"loadbalancer": map[string]any{"id": "lb-1", "provisioning_status": "ERROR"}})
	})
	f.Mux.HandleFunc("DELETE /lb/v2.0/lbaas/loadbalancers/lb-1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cascade") != "true" {
			t.Errorf("cascade not sent: %s", r.URL.RawQuery)
		}
		gone.Store(true)
		w.WriteHeader(204)
	})
	if err := f.client(t).DeleteLoadBalancer(fastCtx(t), "lb-1", true); err != nil {
		t.Fatal(err)
	}
	if !gone.Load() {
		t.Error("delete was not sent")
	}
}

func TestListPortsFiltersByDescription(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /network/v2.0/ports", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("description"); got != "owned by c1" {
			t.Errorf("description filter %q", got)
		}
		writeJSON(w, 200, map[string]any{"ports": []any{
			map[string]any{"id": "p1", "description": "owned by c1", "fixed_ips": []any{map[string]any{"subnet_id": "s", "ip_address": "10.200.0.7"}}},
			map[string]any{"id": "p2", "description": "someone else"},
		}})
	})
	got, err := f.client(t).ListPorts(fastCtx(t), PortFilter{Description: "owned by c1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "p1" || got[0].FixedIPs[0].IP != "10.200.0.7" {
		t.Fatalf("got %+v", got)
	}
}

func TestGetSubnetAndListListeners(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /network/v2.0/subnets/sn-1", status(200, map[string]any{"subnet": map[string]any{
		"id": "sn-1", "network_id": "net-1", "cidr": "10.200.0.0/24", "ip_version": 4, "gateway_ip": "10.200.0.1"}}))
	f.Mux.HandleFunc("GET /network/v2.0/subnets/missing", status(404, map[string]any{"NeutronError": map[string]any{"type": "SubnetNotFound"}}))
	f.Mux.HandleFunc("GET /lb/v2.0/lbaas/listeners", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("loadbalancer_id") != "lb-1" {
			t.Errorf("listener filter: %s", r.URL.RawQuery)
		}
		writeJSON(w, 200, map[string]any{"listeners": []any{map[string]any{"id": "l1", "protocol": "TCP", "protocol_port": 3306,
			"allowed_cidrs": []string{"10.0.0.0/8"}, "provisioning_status": "ACTIVE"}}})
	})
	c := f.client(t)
	s, err := c.GetSubnet(fastCtx(t), "sn-1")
	if err != nil || s.CIDR != "10.200.0.0/24" || s.NetworkID != "net-1" || s.GatewayIP != "10.200.0.1" {
		t.Errorf("subnet: %+v %v", s, err)
	}
	if _, err := c.GetSubnet(fastCtx(t), "missing"); !IsNotFound(err) {
		t.Errorf("missing subnet: %v", err)
	}
	ls, err := c.ListListeners(fastCtx(t), "lb-1")
	if err != nil || len(ls) != 1 || ls[0].Port != 3306 || ls[0].AllowedCIDRs[0] != "10.0.0.0/8" {
		t.Errorf("listeners: %+v %v", ls, err)
	}
}
