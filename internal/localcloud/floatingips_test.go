package localcloud

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// TestFloatingIPs: the external network and its subnet are listed; the
// floatingips API answers Neutron's shapes and errors; a load balancer's
// vip_port_id is a real port; a floating IP associated with it answers TCP
// from the machine through HAProxy, and stops answering when disassociated;
// deleting the load balancer detaches the floating IP; nothing is left.
func TestFloatingIPs(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	pub := tc.PublicNetworkID()

	// The external network.
	code, _, body := tc.rawDo("GET", "/network/v2.0/networks?router:external=true", nil, nil)
	var nets struct {
		Networks []struct {
			ID       string   `json:"id"`
			Name     string   `json:"name"`
			External bool     `json:"router:external"`
			Shared   bool     `json:"shared"`
			Subnets  []string `json:"subnets"`
		} `json:"networks"`
	}
	if err := json.Unmarshal(body, &nets); code != 200 || err != nil {
		t.Fatalf("list external networks: %d %s", code, body)
	}
	if len(nets.Networks) != 1 || nets.Networks[0].ID != pub || nets.Networks[0].Name != "public" ||
		!nets.Networks[0].Shared || len(nets.Networks[0].Subnets) != 1 {
		t.Fatalf("external networks = %+v", nets.Networks)
	}
	sub, err := subnets.Get(ctx, tc.network, nets.Networks[0].Subnets[0]).Extract()
	if err != nil {
		t.Fatalf("get public subnet: %v", err)
	}
	if sub.CIDR != tc.PublicSubnet().String() || tc.PublicSubnet().Overlaps(tc.Network().Subnet()) {
		t.Errorf("public subnet %s (cloud says %s, private %s)", sub.CIDR, tc.PublicSubnet(), tc.Network().Subnet())
	}

	// Error paths, in Neutron's error format.
	for _, c := range []struct {
		name     string
		body     map[string]any
		code     int
		typeName string
	}{
		{"no network", map[string]any{}, 400, "HTTPBadRequest"},
		{"internal network", map[string]any{"floating_network_id": tc.NetworkID()}, 400, "BadRequest"},
		{"unknown network", map[string]any{"floating_network_id": core.NewUUID()}, 404, "NetworkNotFound"},
		{"unknown port", map[string]any{"floating_network_id": pub, "port_id": core.NewUUID()}, 404, "PortNotFound"},
		{"address outside", map[string]any{"floating_network_id": pub, "floating_ip_address": tc.Network().Gateway().String()}, 400, "InvalidIpForNetwork"},
	} {
		code, _, body := tc.rawDo("POST", "/network/v2.0/floatingips", map[string]any{"floatingip": c.body}, nil)
		var e struct {
			NeutronError struct{ Type, Message string } `json:"NeutronError"`
		}
		_ = json.Unmarshal(body, &e)
		if code != c.code || e.NeutronError.Type != c.typeName || e.NeutronError.Message == "" {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.code, c.typeName)
		}
	}

	// A backend on the machine's private address, behind a load balancer.
	ln, err := net.Listen("tcp", net.JoinHostPort(tc.Network().Gateway().String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("hello\n"))
			_ = conn.Close()
		}
	}()
	backendPort := ln.Addr().(*net.TCPAddr).Port

	lb, err := loadbalancers.Create(ctx, tc.lb, loadbalancers.CreateOpts{Name: "fip-lb", VipSubnetID: tc.SubnetID()}).Extract()
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	waitLBActive(t, tc, lb.ID)
	l, err := listeners.Create(ctx, tc.lb, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: 7000}).Extract()
	if err != nil {
		t.Fatalf("create listener: %v", err)
	}
	waitLBActive(t, tc, lb.ID)
	p, err := pools.Create(ctx, tc.lb, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatalf("create pool: %v", err)
	}
	waitLBActive(t, tc, lb.ID)
	if _, err := pools.CreateMember(ctx, tc.lb, p.ID, pools.CreateMemberOpts{Address: tc.Network().Gateway().String(),
		ProtocolPort: backendPort, SubnetID: tc.SubnetID()}).Extract(); err != nil {
		t.Fatalf("create member: %v", err)
	}
	waitLBActive(t, tc, lb.ID)

	// vip_port_id is a real port holding the VIP, which the API will not delete.
	vipPort, err := ports.Get(ctx, tc.network, lb.VipPortID).Extract()
	if err != nil {
		t.Fatalf("get vip port %s: %v", lb.VipPortID, err)
	}
	if len(vipPort.FixedIPs) != 1 || vipPort.FixedIPs[0].IPAddress != lb.VipAddress || vipPort.DeviceOwner != "Octavia" {
		t.Errorf("vip port = %+v, want fixed ip %s owned by Octavia", vipPort, lb.VipAddress)
	}
	if err := ports.Delete(ctx, tc.network, vipPort.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("delete vip port: %v, want 409", err)
	}

	// Associated at creation: DOWN in the answer as on Neutron, then ACTIVE
	// and answering.
	fip, err := floatingips.Create(ctx, tc.network, floatingips.CreateOpts{FloatingNetworkID: pub, PortID: vipPort.ID}).Extract()
	if err != nil {
		t.Fatalf("create floating ip: %v", err)
	}
	if fip.Status != "DOWN" {
		t.Errorf("created floating ip status %s, want DOWN (Neutron's create answer)", fip.Status)
	}
	if fip, err = floatingips.Get(ctx, tc.network, fip.ID).Extract(); err != nil {
		t.Fatalf("get floating ip: %v", err)
	}
	addr := netip.MustParseAddr(fip.FloatingIP)
	if fip.Status != "ACTIVE" || fip.PortID != vipPort.ID || fip.FixedIP != lb.VipAddress || !tc.PublicSubnet().Contains(addr) ||
		fip.FloatingNetworkID != pub {
		t.Errorf("created floating ip = %+v", fip)
	}
	fipAddr := net.JoinHostPort(fip.FloatingIP, "7000")
	if got, err := readLine(fipAddr); err != nil || got != "hello" {
		t.Fatalf("through floating ip %s: %q, %v", fipAddr, got, err)
	}
	if _, err := floatingips.Create(ctx, tc.network, floatingips.CreateOpts{FloatingNetworkID: pub, PortID: vipPort.ID}).Extract(); !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("second floating ip for the same port: %v, want 409", err)
	}

	// List filters and the inventory.
	for _, c := range []struct {
		opts floatingips.ListOpts
		want int
	}{
		{floatingips.ListOpts{PortID: vipPort.ID}, 1},
		{floatingips.ListOpts{FloatingIP: fip.FloatingIP}, 1},
		{floatingips.ListOpts{FloatingNetworkID: pub}, 1},
		{floatingips.ListOpts{PortID: core.NewUUID()}, 0},
	} {
		pages, err := floatingips.List(tc.network, c.opts).AllPages(ctx)
		if err != nil {
			t.Fatalf("list %+v: %v", c.opts, err)
		}
		got, _ := floatingips.ExtractFloatingIPs(pages)
		if len(got) != c.want {
			t.Errorf("list %+v: %d floating ips, want %d", c.opts, len(got), c.want)
		}
	}
	if inv := tc.Inventory(); len(inv.FloatingIPs) != 1 || inv.FloatingIPs[0].ID != fip.ID {
		t.Errorf("inventory floating ips = %+v", inv.FloatingIPs)
	}

	// Disassociated: DOWN and silent; associated again with PUT: answering.
	fip, err = floatingips.Update(ctx, tc.network, fip.ID, floatingips.UpdateOpts{PortID: new(string)}).Extract()
	if err != nil || fip.PortID != "" || fip.FixedIP != "" || fip.Status != "DOWN" {
		t.Fatalf("disassociate: %+v, %v", fip, err)
	}
	if got, err := readLine(fipAddr); err == nil {
		t.Errorf("disassociated floating ip still answers: %q", got)
	}
	fip, err = floatingips.Update(ctx, tc.network, fip.ID, floatingips.UpdateOpts{PortID: &vipPort.ID}).Extract()
	if err != nil || fip.PortID != vipPort.ID || fip.Status != "ACTIVE" {
		t.Fatalf("associate: %+v, %v", fip, err)
	}
	if got, err := readLine(fipAddr); err != nil || got != "hello" {
		t.Errorf("through re-associated floating ip: %q, %v", got, err)
	}

	// An unassociated one: DOWN; DELETE gives 204, then 404.
	spare, err := floatingips.Create(ctx, tc.network, floatingips.CreateOpts{FloatingNetworkID: pub}).Extract()
	if err != nil || spare.Status != "DOWN" || spare.PortID != "" || spare.FloatingIP == fip.FloatingIP {
		t.Fatalf("create spare floating ip: %+v, %v", spare, err)
	}
	if _, err := floatingips.Create(ctx, tc.network, floatingips.CreateOpts{FloatingNetworkID: pub, FloatingIP: spare.FloatingIP}).Extract(); !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("floating ip on a taken address: %v, want 409", err)
	}
	if err := floatingips.Delete(ctx, tc.network, spare.ID).ExtractErr(); err != nil {
		t.Fatalf("delete spare: %v", err)
	}
	if _, err := floatingips.Get(ctx, tc.network, spare.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("get deleted floating ip: %v, want 404", err)
	}
	if err := floatingips.Delete(ctx, tc.network, spare.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete deleted floating ip: %v, want 404", err)
	}

	// Deleting the load balancer removes its port and detaches the floating IP.
	if err := loadbalancers.Delete(ctx, tc.lb, lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatalf("delete load balancer: %v", err)
	}
	waitGone(t, "load balancer", func() error { _, err := loadbalancers.Get(ctx, tc.lb, lb.ID).Extract(); return err })
	if _, err := ports.Get(ctx, tc.network, vipPort.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("vip port after the load balancer's delete: %v, want 404", err)
	}
	fip, err = floatingips.Get(ctx, tc.network, fip.ID).Extract()
	if err != nil || fip.PortID != "" || fip.Status != "DOWN" {
		t.Errorf("floating ip after its port went: %+v, %v", fip, err)
	}
	if err := floatingips.Delete(ctx, tc.network, fip.ID).ExtractErr(); err != nil {
		t.Fatalf("delete floating ip: %v", err)
	}
	tc.assertEmpty()
}

// readLine connects to addr and reads one line (short timeouts: an address
// nobody holds must fail fast).
func readLine(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	return line[:len(line)-1], nil
}

// waitLBActive polls until the load balancer is ACTIVE.
func waitLBActive(t *testing.T, tc *testCloud, id string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := loadbalancers.Get(context.Background(), tc.lb, id).Extract()
		if err != nil {
			t.Fatalf("get load balancer %s: %v", id, err)
		}
		if got.ProvisioningStatus == "ACTIVE" {
			return
		}
		if got.ProvisioningStatus == "ERROR" || time.Now().After(deadline) {
			t.Fatalf("load balancer %s is %s", id, got.ProvisioningStatus)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFloatingIPOfServer: a floating IP on a server's port reaches its sshd
// from the machine once the security group allows the machine's public
// address (so the NAT survives firewall refreshes, and security groups
// apply to floating IP traffic); deleting the server disassociates it.
func TestFloatingIPOfServer(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "fip-vm", nil)
	tc.waitServer(id, "ACTIVE")
	pages, err := ports.List(tc.network, ports.ListOpts{DeviceID: id}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := ports.ExtractPorts(pages)
	if len(ps) != 1 {
		t.Fatalf("ports of the server: %+v", ps)
	}
	fip, err := floatingips.Create(ctx, tc.network, floatingips.CreateOpts{FloatingNetworkID: tc.PublicNetworkID(), PortID: ps[0].ID}).Extract()
	if err != nil || fip.Status != "DOWN" {
		t.Fatalf("create floating ip: %+v, %v (want DOWN, as Neutron answers)", fip, err)
	}
	if fip, err = floatingips.Get(ctx, tc.network, fip.ID).Extract(); err != nil || fip.Status != "ACTIVE" {
		t.Fatalf("floating ip of a running server: %+v, %v, want ACTIVE", fip, err)
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(fip.FloatingIP, "22"), time.Second); err == nil {
		conn.Close()
		t.Errorf("ssh through the floating ip open without a rule for the public subnet")
	}
	if _, err := rules.Create(ctx, tc.network, rules.CreateOpts{SecGroupID: fx.sgID, Direction: rules.DirIngress,
		EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22,
		RemoteIPPrefix: tc.PublicSubnet().String()}).Extract(); err != nil {
		t.Fatal(err)
	}
	if out, err := sshRun(t, fip.FloatingIP, fx.signer, nil, "hostname"); err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("ssh through floating ip %s: %q, %v", fip.FloatingIP, out, err)
	}
	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
	fip, err = floatingips.Get(ctx, tc.network, fip.ID).Extract()
	if err != nil || fip.PortID != "" || fip.Status != "DOWN" {
		t.Errorf("floating ip after its server went: %+v, %v", fip, err)
	}
	if err := floatingips.Delete(ctx, tc.network, fip.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := groups.Delete(ctx, tc.network, fx.sgID).ExtractErr(); err != nil {
		t.Errorf("delete security group: %v", err)
	}
	if err := keypairs.Delete(ctx, tc.compute, fx.keyName, nil).ExtractErr(); err != nil {
		t.Errorf("delete keypair: %v", err)
	}
	tc.assertEmpty()
}
