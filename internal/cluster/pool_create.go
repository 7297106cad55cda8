package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// CreatePool builds the whole load balancer in one request (Octavia's
// fully populated create: listener, pool, health monitor and members),
// opens the members' security group to it while Octavia builds it, waits
// once for ACTIVE and then for the health checks' verdicts. On error the
// returned pool carries the load balancer id when one was made, so
// DeletePool can clean up.
func (m *Manager) CreatePool(ctx context.Context, s PoolSpec) (*Pool, error) {
	if err := ValidatePoolSpec(s); err != nil {
		return nil, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	inv, err := m.discover(ctx, s.ClusterID, "")
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", s.ClusterID, err)
	}
	if inv.empty() {
		return nil, fmt.Errorf("cluster %s: %w", s.ClusterID, ErrNotFound)
	}
	c := inv.cluster(s.ClusterID)
	if len(c.Nodes) == 0 {
		return nil, fmt.Errorf("cluster %s has no nodes", s.ClusterID)
	}
	if s.VIPSubnetID == "" {
		if s.VIPSubnetID, err = portSubnet(inv.ports, c.ID); err != nil {
			return nil, err
		}
	}
	name := fmt.Sprintf("%s-%s-%d", ObjectName(c.Name, c.ID), strings.ReplaceAll(s.Mode, "_", "-"), s.Port)
	p, err := m.startPool(ctx, c, s, name, lbDescription(c.ID, s.Mode, s.HealthCheck), inv.groupRules())
	if err != nil {
		return poolOrNil(p), err
	}
	return p, m.finishPool(ctx, p, s, false)
}

// startPool asks Octavia for the fully populated load balancer in front of
// c's nodes and opens the members' security group to it (existing: the
// group's rules so far). It returns without waiting for the build, with
// the load balancer id whenever one was made.
func (m *Manager) startPool(ctx context.Context, c *Cluster, s PoolSpec, name, description string, existing []openstack.SecurityGroupRule) (*Pool, error) {
	p := &Pool{
		ClusterID: c.ID, Mode: s.Mode, HealthCheck: s.HealthCheck, Port: s.Port, LBMethod: s.LBMethod,
		ClientTimeoutMs: s.ClientTimeoutMs, MemberTimeoutMs: s.MemberTimeoutMs, VIPSubnetID: s.VIPSubnetID,
	}
	monitor := monitorSpec(name, s)
	lb, err := m.cloud.StartLoadBalancer(ctx, openstack.LoadBalancerCreate{
		Name:        name,
		Description: description,
		VIPSubnetID: s.VIPSubnetID,
		Listener: &openstack.ListenerCreate{
			Name: name + "-mysql", Protocol: "TCP", Port: s.Port,
			TimeoutClientDataMs: s.ClientTimeoutMs, TimeoutMemberDataMs: s.MemberTimeoutMs,
			DefaultPool: &openstack.PoolCreate{
				Name: name + "-nodes", Protocol: "TCP", LBMethod: s.LBMethod,
				Members: DesiredMembers(c, p, s.Port), Monitor: &monitor,
			},
		},
	})
	p.LoadBalancerID = lb.ID
	if err != nil {
		return p, &PhaseError{Phase: PhaseLoadBalancer, Err: err}
	}
	// The health checks need these rules: made while Octavia builds.
	if err := m.openMembersToLB(ctx, c, p, s, existing); err != nil {
		return p, &PhaseError{Phase: "security group", Err: err}
	}
	return p, nil
}

// finishPool waits for a started pool: ACTIVE, its floating IP, and the
// health checks' verdicts. lookNow: Octavia had long enough to build it
// (the cluster's own load balancer, asked for before the servers), so the
// first look at it comes at once instead of after the wait's first pause.
func (m *Manager) finishPool(ctx context.Context, p *Pool, s PoolSpec, lookNow bool) error {
	var lb openstack.LoadBalancer
	var err error
	if lookNow {
		lb, err = m.cloud.GetLoadBalancer(ctx, p.LoadBalancerID)
	}
	if !lookNow || err != nil || lb.ProvisioningStatus != "ACTIVE" {
		lb, err = m.cloud.WaitLoadBalancerActive(ctx, p.LoadBalancerID)
	}
	if err != nil {
		return &PhaseError{Phase: PhaseLoadBalancer, Err: err}
	}
	p.VIPAddress, p.VIPPortID = lb.VIPAddress, lb.VIPPortID
	if lb.VIPSubnetID != "" {
		p.VIPSubnetID = lb.VIPSubnetID
	}
	if s.FloatingIPNetwork != "" {
		if err := m.addFloatingIP(ctx, p, s.FloatingIPNetwork); err != nil {
			return &PhaseError{Phase: "floating ip", Err: err}
		}
	}
	st, err := m.waitMembersSettled(ctx, p)
	if pe := (*PhaseError)(nil); errors.As(err, &pe) {
		return pe // a child in ERROR, named from the status tree
	}
	if err != nil {
		return &PhaseError{Phase: "members", Err: err}
	}
	p.observe(st)
	return nil
}

// addFloatingIP gives the VIP's port a floating IP on the external network
// networkRef (id or name) and records it in p.
func (m *Manager) addFloatingIP(ctx context.Context, p *Pool, networkRef string) error {
	if p.VIPPortID == "" {
		return fmt.Errorf("load balancer %s reports no VIP port to attach a floating ip to", p.LoadBalancerID)
	}
	n, err := m.cloud.ResolveNetwork(ctx, networkRef)
	if err != nil {
		return fmt.Errorf("find floating ip network %s: %w", networkRef, err)
	}
	f, err := m.cloud.CreateFloatingIP(ctx, n.ID, p.VIPPortID)
	if err != nil {
		return fmt.Errorf("floating ip for VIP %s of load balancer %s: %w", p.VIPAddress, p.LoadBalancerID, err)
	}
	p.FloatingIPAddress, p.FloatingIPID = f.Address, f.ID
	p.FloatingIPNetworkID, p.FloatingIPNetworkName = n.ID, n.Name
	return nil
}

// portSubnet is the subnet of the cluster's first port.
func portSubnet(ports []openstack.Port, clusterID string) (string, error) {
	for _, p := range ports {
		if len(p.FixedIPs) > 0 {
			return p.FixedIPs[0].SubnetID, nil
		}
	}
	return "", fmt.Errorf("cluster %s has no port with a subnet: set vip_subnet_id", clusterID)
}

// openMembersToLB lets the load balancer reach MySQL and clustercheck on
// the members: two rules per source, marked as this load balancer's. A
// source the group already opens MySQL to (allowed_cidrs, or another load
// balancer) gets no second MySQL rule: Neutron refuses it (409). The
// clustercheck rule then records that this load balancer relies on the
// source, which the rule's owner consults before removing it.
func (m *Manager) openMembersToLB(ctx context.Context, c *Cluster, p *Pool, s PoolSpec, existing []openstack.SecurityGroupRule) error {
	sources := s.MemberSourceCIDRs
	if len(sources) == 0 {
		sub, err := m.cloud.GetSubnet(ctx, p.VIPSubnetID)
		if err != nil {
			return err
		}
		prefix, err := netip.ParsePrefix(sub.CIDR)
		if err != nil {
			return fmt.Errorf("subnet %s CIDR %q: %w", sub.ID, sub.CIDR, err)
		}
		sources = []netip.Prefix{prefix}
	}
	ports := []int{portMySQL}
	if s.HealthCheck == HealthGalera {
		ports = append(ports, ClustercheckPort)
	}
	for _, src := range dedupe(sources) {
		for _, port := range ports {
			if port == portMySQL && (slices.Contains(c.AllowedCIDRs, src) || opensMySQL(existing, src)) {
				continue // a rule already lets src in (a second one is a 409)
			}
			_, err := m.cloud.CreateSecurityGroupRule(ctx, c.SecurityGroupID, openstack.SecurityGroupRule{
				Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: port, PortMax: port,
				RemoteIPPrefix: src.String(), Description: ruleOwner(p.LoadBalancerID),
			})
			if err != nil {
				return fmt.Errorf("open tcp/%d to %s for load balancer %s: %w", port, src, p.LoadBalancerID, err)
			}
		}
	}
	return nil
}

// opensMySQL says whether one of rules opens MySQL to the network src.
func opensMySQL(rules []openstack.SecurityGroupRule, src netip.Prefix) bool {
	for _, r := range rules {
		if p, ok := clientRuleCIDR(r); ok && p == src.Masked() {
			return true
		}
	}
	return false
}
