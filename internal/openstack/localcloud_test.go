package openstack

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// localCloudClient returns a client for the project's local cloud (started
// by `make test`, or by hand with `make localcloud-up && . .localcloud/env`).
// These tests create real objects, so they never run against any other cloud.
func localCloudClient(t *testing.T) *Client {
	t.Helper()
	if os.Getenv("LOCALCLOUD_URL") == "" || os.Getenv("OS_CLIENT_CONFIG_FILE") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: the local cloud must be up (make test starts it and exports .localcloud/env)")
		}
		t.Skip("the local cloud is not up: run `make test`, or `make localcloud-up` and `. .localcloud/env`")
	}
	c, err := NewClient(Config{Cloud: "local", MaxRetries: 3}, WithPollInterval(100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func uniqueName(t *testing.T) string {
	return fmt.Sprintf("oslc-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano()%1_000_000)
}

func localCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestLocalCloudCatalogAndLookups(t *testing.T) {
	c := localCloudClient(t)
	ctx := localCtx(t)
	for name, get := range map[string]func(context.Context) error{
		"compute":       func(ctx context.Context) error { _, err := c.Compute(ctx); return err },
		"block-storage": func(ctx context.Context) error { _, err := c.BlockStorage(ctx); return err },
		"network":       func(ctx context.Context) error { _, err := c.Network(ctx); return err },
		"load-balancer": func(ctx context.Context) error { _, err := c.LoadBalancer(ctx); return err },
		"image":         func(ctx context.Context) error { _, err := c.Image(ctx); return err },
	} {
		if err := get(ctx); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	f, err := c.ResolveFlavor(ctx, "m1.small")
	if err != nil || f.ID == "" {
		t.Errorf("flavor m1.small: %+v %v", f, err)
	}
	img, err := c.ResolveImage(ctx, os.Getenv("LOCALCLOUD_IMAGE_NAME"))
	if err != nil || img.ID != os.Getenv("LOCALCLOUD_IMAGE_ID") {
		t.Errorf("image: %+v %v", img, err)
	}
	n, err := c.ResolveNetwork(ctx, os.Getenv("LOCALCLOUD_NETWORK_ID"))
	if err != nil || len(n.Subnets) == 0 || n.Subnets[0].CIDR != os.Getenv("LOCALCLOUD_SUBNET_CIDR") {
		t.Errorf("network: %+v %v", n, err)
	}
	if n.Name != "" {
		byName, err := c.ResolveNetwork(ctx, n.Name)
		if err != nil || byName.ID != n.ID {
			t.Errorf("network by name %q: %+v %v", n.Name, byName, err)
		}
	}
	if _, err := c.ResolveFlavor(ctx, "no-such-flavor"); !IsNotFound(err) {
		t.Errorf("unknown flavor: %v", err)
	}
}

func TestLocalCloudKeypairsGroupsAndRules(t *testing.T) {
	c := localCloudClient(t)
	ctx := localCtx(t)
	name := uniqueName(t)

	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if _, err := c.ImportKeyPair(ctx, name, authorized); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteKeyPair(context.Background(), name) })
	kp, err := c.GetKeyPair(ctx, name)
	if err != nil || kp.PublicKey != authorized {
		t.Errorf("keypair: %+v %v", kp, err)
	}
	if err := c.DeleteKeyPair(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKeyPair(ctx, name); !IsNotFound(err) {
		t.Errorf("deleted keypair: %v", err)
	}
	if err := c.DeleteKeyPair(ctx, name); err != nil {
		t.Errorf("deleting twice must succeed: %v", err)
	}

	g, err := c.CreateServerGroup(ctx, name, PolicySoftAntiAffinity)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteServerGroup(context.Background(), g.ID) })
	if got, err := c.GetServerGroup(ctx, g.ID); err != nil || got.Policy != PolicySoftAntiAffinity {
		t.Errorf("server group: %+v %v", got, err)
	}
	if err := c.DeleteServerGroup(ctx, g.ID); err != nil {
		t.Error(err)
	}

	desc := "owned by " + name
	sg, err := c.CreateSecurityGroup(ctx, name, desc, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteSecurityGroup(context.Background(), sg.ID) })
	rule := SecurityGroupRule{Direction: "ingress", Protocol: "tcp", PortMin: 3306, PortMax: 3306, RemoteIPPrefix: "10.248.0.0/16"}
	r1, err := c.CreateSecurityGroupRule(ctx, sg.ID, rule)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.CreateSecurityGroupRule(ctx, sg.ID, rule)
	if err != nil || r2.ID != r1.ID {
		t.Errorf("duplicate rule: %+v %v (first %s)", r2, err, r1.ID)
	}
	found, err := c.ListSecurityGroups(ctx, SecurityGroupFilter{Description: desc})
	if err != nil || len(found) != 1 || found[0].ID != sg.ID {
		t.Errorf("list by description: %+v %v", found, err)
	}
	if err := c.DeleteSecurityGroupRule(ctx, r1.ID); err != nil {
		t.Error(err)
	}
	if err := c.DeleteSecurityGroup(ctx, sg.ID); err != nil {
		t.Error(err)
	}
}

// One real server with a data volume: what pxc_cluster does per node.
func TestLocalCloudServerWithVolume(t *testing.T) {
	c := localCloudClient(t)
	ctx := localCtx(t)
	name := uniqueName(t)
	meta := map[string]string{"oslc_test": name}

	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	if _, err := c.ImportKeyPair(ctx, name, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteKeyPair(context.Background(), name) })

	vol, err := c.CreateVolume(ctx, VolumeCreate{Name: name, SizeGiB: 1, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteVolume(context.Background(), vol.ID) })
	if vol.Status != "available" {
		t.Errorf("volume status %q", vol.Status)
	}

	s, err := c.CreateServer(ctx, ServerCreate{
		Name: name, FlavorID: "1", ImageID: os.Getenv("LOCALCLOUD_IMAGE_ID"), NetworkID: os.Getenv("LOCALCLOUD_NETWORK_ID"),
		KeyName: name, Metadata: meta,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteServer(context.Background(), s.ID) })
	s, err = c.WaitServerActive(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.FirstIP() == "" {
		t.Errorf("server has no address: %+v", s.Addresses)
	}
	listed, err := c.ListServers(ctx, name, meta)
	if err != nil || len(listed) != 1 || listed[0].ID != s.ID {
		t.Errorf("list by prefix and metadata: %+v %v", listed, err)
	}
	// A guest booting systemd prints the host keys in cloud-init's last
	// stage, seconds after sshd answers (Nova's ACTIVE): read until then.
	var console string
	err = WaitFor(ctx, "cloud-init's host key block on the console", func(ctx context.Context) (bool, error) {
		out, err := c.ConsoleOutput(ctx, s.ID, 0)
		console = out
		return err == nil && strings.Contains(out, "SSH HOST KEY"), err
	})
	if err != nil {
		t.Errorf("console output (%d bytes): %v", len(console), err)
	}
	ports, err := c.ListPortsByDevice(ctx, s.ID)
	if err != nil || len(ports) != 1 || ports[0].FixedIPs[0].IP != s.FirstIP() {
		t.Errorf("ports of the server: %+v %v", ports, err)
	}

	a, err := c.StartVolumeAttach(ctx, s.ID, vol.ID)
	if err == nil {
		err = c.WaitVolumeAttached(ctx, s.ID, vol.ID)
	}
	if err != nil {
		t.Fatal(err)
	}
	if a.Device == "" {
		t.Error("no device reported")
	}
	if err := c.ExtendVolume(ctx, vol.ID, 2); err != nil {
		t.Errorf("online extend: %v", err)
	}
	if err := c.DetachVolume(ctx, s.ID, vol.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetServer(ctx, s.ID); !IsNotFound(err) {
		t.Errorf("server after delete: %v", err)
	}
	if err := c.DeleteVolume(ctx, vol.ID); err != nil {
		t.Fatal(err)
	}
}

// A load balancer tree as pxc_lb_pool builds it, changed and torn down.
func TestLocalCloudLoadBalancer(t *testing.T) {
	c := localCloudClient(t)
	ctx := localCtx(t)
	name := uniqueName(t)

	lb, err := c.CreateLoadBalancer(ctx, LoadBalancerCreate{Name: name, VIPSubnetID: os.Getenv("LOCALCLOUD_SUBNET_ID")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteLoadBalancer(context.Background(), lb.ID, true) })
	if lb.ProvisioningStatus != "ACTIVE" || lb.VIPAddress == "" {
		t.Errorf("load balancer: %+v", lb)
	}
	l, err := c.CreateListener(ctx, lb.ID, ListenerCreate{Name: name, Protocol: "TCP", Port: 3306,
		AllowedCIDRs: []string{"10.248.0.0/16"}, TimeoutClientDataMs: 3600000, TimeoutMemberDataMs: 3600000})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePool(ctx, lb.ID, PoolCreate{Name: name, Protocol: "TCP", LBMethod: "ROUND_ROBIN", ListenerID: l.ID})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.CreateMonitor(ctx, lb.ID, p.ID, MonitorSpec{Type: "TCP", DelaySeconds: 2, TimeoutSeconds: 1, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	subnet := os.Getenv("LOCALCLOUD_SUBNET_ID")
	members, err := c.SetPoolMembers(ctx, lb.ID, p.ID, []MemberSpec{
		{Name: "a", Address: "10.248.94.201", Port: 3306, SubnetID: subnet},
		{Name: "b", Address: "10.248.94.202", Port: 3306, SubnetID: subnet, Backup: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 {
		t.Fatalf("members: %+v", members)
	}
	backups := 0
	for _, mb := range members {
		if mb.Backup {
			backups++
		}
	}
	if backups != 1 {
		t.Errorf("want one backup member: %+v", members)
	}
	// Replace the list: one member left.
	if members, err = c.SetPoolMembers(ctx, lb.ID, p.ID, []MemberSpec{{Name: "a", Address: "10.248.94.201", Port: 3306, SubnetID: subnet}}); err != nil || len(members) != 1 {
		t.Errorf("after shrinking: %+v %v", members, err)
	}
	cidrs := []string{"10.248.94.0/24"}
	if l, err = c.UpdateListener(ctx, lb.ID, l.ID, ListenerUpdate{AllowedCIDRs: &cidrs}); err != nil || len(l.AllowedCIDRs) != 1 || l.AllowedCIDRs[0] != cidrs[0] {
		t.Errorf("listener update: %+v %v", l, err)
	}
	if m, err = c.UpdateMonitor(ctx, lb.ID, m.ID, MonitorSpec{DelaySeconds: 3}); err != nil || m.DelaySeconds != 3 {
		t.Errorf("monitor update: %+v %v", m, err)
	}
	got, err := c.GetPool(ctx, p.ID)
	if err != nil || got.MonitorID != m.ID || len(got.Members) != 1 {
		t.Errorf("pool: %+v %v", got, err)
	}
	if err := c.DeleteMonitor(ctx, lb.ID, m.ID); err != nil {
		t.Error(err)
	}
	if err := c.DeleteLoadBalancer(ctx, lb.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetLoadBalancer(ctx, lb.ID); !IsNotFound(err) {
		t.Errorf("load balancer after delete: %v", err)
	}
}

// The fully populated create makes listener, pool, monitor and members in
// one request; the status tree reads them back in one.
func TestLocalCloudPopulatedLoadBalancer(t *testing.T) {
	c := localCloudClient(t)
	ctx := localCtx(t)
	name := uniqueName(t)
	subnet := os.Getenv("LOCALCLOUD_SUBNET_ID")
	lb, err := c.CreateLoadBalancer(ctx, LoadBalancerCreate{Name: name, VIPSubnetID: subnet, Listener: &ListenerCreate{
		Name: name + "-l", Protocol: "TCP", Port: 3306, TimeoutClientDataMs: 3600000, TimeoutMemberDataMs: 3600000,
		DefaultPool: &PoolCreate{
			Name: name + "-p", Protocol: "TCP", LBMethod: "LEAST_CONNECTIONS",
			Monitor: &MonitorSpec{Name: name + "-m", Type: "TCP", DelaySeconds: 2, TimeoutSeconds: 1, MaxRetries: 2},
			Members: []MemberSpec{
				{Name: "a", Address: "10.248.94.201", Port: 3306, SubnetID: subnet},
				{Name: "b", Address: "10.248.94.202", Port: 3306, SubnetID: subnet},
			},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteLoadBalancer(context.Background(), lb.ID, true) })
	if lb.ProvisioningStatus != "ACTIVE" || lb.VIPAddress == "" {
		t.Errorf("load balancer: %+v", lb)
	}
	st, err := c.GetLoadBalancerStatus(ctx, lb.ID)
	if err != nil {
		t.Fatal(err)
	}
	l, p := st.FirstPool()
	if st.ProvisioningStatus != "ACTIVE" || l.Name != name+"-l" || p.Name != name+"-p" || p.Monitor.ID == "" || p.Monitor.Type != "TCP" {
		t.Errorf("status tree: %+v", st)
	}
	if len(p.Members) != 2 || p.Members[0].Address == "" || p.Members[0].Port != 3306 {
		t.Errorf("status tree members: %+v", p.Members)
	}
	listeners, err := c.ListListeners(ctx, lb.ID)
	if err != nil || len(listeners) != 1 || listeners[0].ID != l.ID || listeners[0].DefaultPoolID != p.ID || listeners[0].TimeoutClientDataMs != 3600000 {
		t.Errorf("listeners: %+v %v", listeners, err)
	}
	if got, err := c.GetPool(ctx, p.ID); err != nil || got.LBMethod != "LEAST_CONNECTIONS" || got.MonitorID != p.Monitor.ID {
		t.Errorf("pool: %+v %v", got, err)
	}
	if err := c.DeleteLoadBalancer(ctx, lb.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetLoadBalancerStatus(ctx, lb.ID); !IsNotFound(err) {
		t.Errorf("status tree after delete: %v", err)
	}
}

func TestLocalCloudFloatingIP(t *testing.T) {
	c := localCloudClient(t)
	ctx := localCtx(t)
	name := uniqueName(t)

	public, err := c.ResolveNetwork(ctx, "public")
	if err != nil {
		t.Fatalf("resolve the external network: %v", err)
	}
	lb, err := c.CreateLoadBalancer(ctx, LoadBalancerCreate{Name: name, VIPSubnetID: os.Getenv("LOCALCLOUD_SUBNET_ID")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteLoadBalancer(context.Background(), lb.ID, true) })
	if _, err := c.CreateFloatingIP(ctx, os.Getenv("LOCALCLOUD_NETWORK_ID"), lb.VIPPortID); err == nil {
		t.Error("floating ip on the internal network was accepted")
	}
	f, err := c.CreateFloatingIP(ctx, public.ID, lb.VIPPortID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteFloatingIP(context.Background(), f.ID) })
	if f.PortID != lb.VIPPortID || f.FixedIP != lb.VIPAddress || f.NetworkID != public.ID || f.Address == "" || f.Status != "DOWN" {
		t.Errorf("floating ip, as Neutron answers a create (DOWN until associated and up): %+v (load balancer %+v)", f, lb)
	}
	// Neutron reports ACTIVE once the association is in place and the port is up.
	want := f
	want.Status = "ACTIVE"
	if got, err := c.GetFloatingIP(ctx, f.ID); err != nil || got != want {
		t.Errorf("get floating ip: %+v %v, want %+v", got, err, want)
	}
	list, err := c.ListFloatingIPs(ctx, lb.VIPPortID)
	if err != nil || len(list) != 1 || list[0].ID != f.ID {
		t.Errorf("floating ips of the vip port: %+v %v", list, err)
	}
	if err := c.DeleteFloatingIP(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteFloatingIP(ctx, f.ID); err != nil {
		t.Errorf("deleting a deleted floating ip: %v", err)
	}
	if _, err := c.GetFloatingIP(ctx, f.ID); !IsNotFound(err) {
		t.Errorf("floating ip after delete: %v", err)
	}
	if list, err := c.ListFloatingIPs(ctx, lb.VIPPortID); err != nil || len(list) != 0 {
		t.Errorf("floating ips of the vip port after delete: %+v %v", list, err)
	}
}
