package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// CreatePool builds load balancer, listener, pool, health monitor and the
// members (one batch), and opens the members' security group to the load
// balancer. On error the returned pool carries the load balancer id when
// one was made, so DeletePool can clean up.
func (m *Manager) CreatePool(ctx context.Context, s PoolSpec) (*Pool, error) {
	if err := ValidatePoolSpec(s); err != nil {
		return nil, &PhaseError{Phase: PhaseValidate, Err: err}
	}
	c, err := m.Read(ctx, s.ClusterID, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", s.ClusterID, err)
	}
	if len(c.Nodes) == 0 {
		return nil, fmt.Errorf("cluster %s has no nodes", s.ClusterID)
	}
	if s.VIPSubnetID == "" {
		s.VIPSubnetID, err = m.nodeSubnet(ctx, c)
		if err != nil {
			return nil, err
		}
	}
	lb, err := m.cloud.CreateLoadBalancer(ctx, openstack.LoadBalancerCreate{
		Name:        fmt.Sprintf("%s-%s-%d", ObjectName(c.Name, c.ID), strings.ReplaceAll(s.Mode, "_", "-"), s.Port),
		Description: lbDescription(c.ID, s.Mode, s.HealthCheck),
		VIPSubnetID: s.VIPSubnetID,
	})
	p := &Pool{ClusterID: c.ID, LoadBalancerID: lb.ID, Mode: s.Mode, HealthCheck: s.HealthCheck}
	if err != nil {
		return poolOrNil(p), &PhaseError{Phase: "load balancer", Err: err}
	}
	if lb, err = m.cloud.WaitLoadBalancerActive(ctx, lb.ID); err != nil {
		return p, &PhaseError{Phase: "load balancer", Err: err}
	}
	p.VIPAddress, p.VIPSubnetID, p.VIPPortID = lb.VIPAddress, lb.VIPSubnetID, lb.VIPPortID
	if s.FloatingIPNetwork != "" {
		if err := m.addFloatingIP(ctx, p, s.FloatingIPNetwork); err != nil {
			return p, &PhaseError{Phase: "floating ip", Err: err}
		}
	}
	if err := m.openMembersToLB(ctx, c, p, s); err != nil {
		return p, &PhaseError{Phase: "security group", Err: err}
	}
	l, err := m.cloud.CreateListener(ctx, lb.ID, openstack.ListenerCreate{
		Name: lb.Name + "-mysql", Protocol: "TCP", Port: s.Port,
		TimeoutClientDataMs: s.ClientTimeoutMs, TimeoutMemberDataMs: s.MemberTimeoutMs,
	})
	if err != nil {
		return p, &PhaseError{Phase: "listener", Err: err}
	}
	p.ListenerID = l.ID
	pool, err := m.cloud.CreatePool(ctx, lb.ID, openstack.PoolCreate{
		Name: lb.Name + "-nodes", Protocol: "TCP", LBMethod: s.LBMethod, ListenerID: l.ID,
	})
	if err != nil {
		return p, &PhaseError{Phase: "pool", Err: err}
	}
	p.PoolID = pool.ID
	mon, err := m.cloud.CreateMonitor(ctx, lb.ID, pool.ID, monitorSpec(lb.Name, s))
	if err != nil {
		return p, &PhaseError{Phase: "health monitor", Err: err}
	}
	p.MonitorID = mon.ID
	if err := m.SyncPoolMembers(ctx, p, c); err != nil {
		return p, &PhaseError{Phase: "members", Err: err}
	}
	return m.ReadPool(ctx, lb.ID)
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
	return nil
}

// nodeSubnet is the subnet of the cluster's first port.
func (m *Manager) nodeSubnet(ctx context.Context, c *Cluster) (string, error) {
	ports, err := m.cloud.ListPorts(ctx, openstack.PortFilter{Description: ownerDescription(c.ID)})
	if err != nil {
		return "", err
	}
	for _, p := range ports {
		if len(p.FixedIPs) > 0 {
			return p.FixedIPs[0].SubnetID, nil
		}
	}
	return "", fmt.Errorf("cluster %s has no port with a subnet: set vip_subnet_id", c.ID)
}

// openMembersToLB lets the load balancer reach MySQL and clustercheck on
// the members: two rules per source, marked as this load balancer's.
func (m *Manager) openMembersToLB(ctx context.Context, c *Cluster, p *Pool, s PoolSpec) error {
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
