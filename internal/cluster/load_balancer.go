package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// The cluster's own load balancer (Spec.LoadBalancer): a pool like any
// pxc_lb_pool, but one the cluster makes, finds and deletes itself, so that
// a create asks Octavia for it right after the ports and waits for it only
// at the end. Octavia's build (an amphora boot, a minute or more on a real
// cloud) then runs beside the servers' instead of after the whole cluster.
// The members' health checks fail until the nodes are Synced, which is
// what they are for. Growing, shrinking, repairing and rolling the cluster
// keep its members as they keep every pool's (poolsOf).

// PhaseLoadBalancer is the phase of a load balancer's build.
const PhaseLoadBalancer = "load balancer"

// ownLBMarker ends the description of the cluster's own load balancer.
const ownLBMarker = " load_balancer=pxc_cluster"

// ownLBName is the name of the cluster's own load balancer: the cluster's
// object name, which no pxc_lb_pool's name is (theirs add mode and port).
func ownLBName(c *Cluster) string { return ObjectName(c.Name, c.ID) }

// withPoolDefaults completes a load balancer spec with the defaults of a
// pxc_lb_pool: port 3306, the galera check, round robin, MySQL's timeouts.
func withPoolDefaults(s PoolSpec) PoolSpec {
	if s.Mode == "" {
		s.Mode = ModeSingleWriter
	}
	if s.HealthCheck == "" {
		s.HealthCheck = HealthGalera
	}
	if s.Port == 0 {
		s.Port = portMySQL
	}
	if s.LBMethod == "" {
		s.LBMethod = "ROUND_ROBIN"
	}
	if s.ClientTimeoutMs == 0 {
		s.ClientTimeoutMs = DefaultClientTimeoutMs
	}
	if s.MemberTimeoutMs == 0 {
		s.MemberTimeoutMs = DefaultMemberTimeoutMs
	}
	return s
}

// startOwnLB asks Octavia for the cluster's own load balancer in front of
// c's nodes (their ports made) on the nodes' subnet, and records it in c.
func (m *Manager) startOwnLB(ctx context.Context, c *Cluster, s PoolSpec, subnet openstack.Subnet, existing []openstack.SecurityGroupRule) error {
	s = withPoolDefaults(s)
	s.ClusterID = c.ID
	if s.VIPSubnetID == "" {
		s.VIPSubnetID = subnet.ID
		// The amphorae connect from the subnet: known, so not asked for.
		if p, err := netip.ParsePrefix(subnet.CIDR); err == nil && len(s.MemberSourceCIDRs) == 0 {
			s.MemberSourceCIDRs = []netip.Prefix{p.Masked()}
		}
	}
	p, err := m.startPool(ctx, c, s, ownLBName(c), lbDescription(c.ID, s.Mode, s.HealthCheck)+ownLBMarker, existing)
	c.LoadBalancer = poolOrNil(p)
	return err
}

// finishOwnLB waits until the cluster's own load balancer is ACTIVE and
// its health checks have elected the writer; lookNow after a create,
// where Octavia built it while the servers booted.
func (m *Manager) finishOwnLB(ctx context.Context, c *Cluster, s PoolSpec, lookNow bool) error {
	t := time.Now()
	if err := m.finishPool(ctx, c.LoadBalancer, withPoolDefaults(s), lookNow); err != nil {
		return err
	}
	m.progress(ctx, PhaseLoadBalancer, "", "load balancer "+c.LoadBalancer.LoadBalancerID+" ACTIVE at "+c.LoadBalancer.VIPAddress+", health checks passed", t)
	return nil
}

// AddLoadBalancer gives a running cluster its own load balancer (one left
// in ERROR is replaced) and waits until it serves.
func (m *Manager) AddLoadBalancer(ctx context.Context, c *Cluster, s PoolSpec) error {
	if err := m.RemoveLoadBalancer(ctx, c); err != nil {
		return err
	}
	inv, err := m.discover(ctx, c.ID, "")
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.ID, err)
	}
	subnet, err := portSubnet(inv.ports, c.ID)
	if err != nil {
		return err
	}
	if err := m.startOwnLB(ctx, c, s, openstack.Subnet{ID: subnet}, inv.groupRules()); err != nil {
		return err
	}
	return m.finishOwnLB(ctx, c, s, false)
}

// SetLoadBalancer makes the cluster's own load balancer what want says,
// from what the last read found (c.LoadBalancer): added, removed (want
// nil), or replaced for another mode; kept when the mode is the same.
func (m *Manager) SetLoadBalancer(ctx context.Context, c *Cluster, want *PoolSpec) error {
	have := c.LoadBalancer
	switch {
	case want == nil && have == nil:
		return nil
	case want == nil:
		return m.RemoveLoadBalancer(ctx, c)
	case have != nil && have.Mode == withPoolDefaults(*want).Mode:
		return nil
	default:
		return m.AddLoadBalancer(ctx, c, *want)
	}
}

// RemoveLoadBalancer deletes the cluster's own load balancer, if any, and
// the security group rules it added.
func (m *Manager) RemoveLoadBalancer(ctx context.Context, c *Cluster) error {
	lbs, err := m.ownLBs(ctx, c)
	if err != nil {
		return err
	}
	for _, lb := range lbs {
		if err := m.DeleteKnownPool(ctx, KnownPool{LoadBalancerID: lb.ID, VIPSubnetID: lb.VIPSubnetID}, c.ID); err != nil {
			return fmt.Errorf("delete load balancer %s: %w", lb.ID, err)
		}
	}
	c.LoadBalancer = nil
	return nil
}

// ReadLoadBalancer sets c.LoadBalancer to the cluster's own load balancer
// as Octavia has it (readOwnLB), for a caller whose Read did not look.
func (m *Manager) ReadLoadBalancer(ctx context.Context, c *Cluster) error {
	return m.readOwnLB(ctx, c)
}

// readOwnLB observes the cluster's own load balancer in one request, a
// list by its name: nil when there is none or Octavia left it in ERROR
// (the next apply replaces it).
func (m *Manager) readOwnLB(ctx context.Context, c *Cluster) error {
	lbs, err := m.ownLBs(ctx, c)
	if err != nil {
		return err
	}
	c.LoadBalancer = nil
	for _, lb := range lbs {
		if lb.ProvisioningStatus == "ERROR" {
			continue
		}
		clusterID, mode, health := parseLBDescription(lb.Description)
		c.LoadBalancer = &Pool{
			ClusterID: clusterID, LoadBalancerID: lb.ID, VIPAddress: lb.VIPAddress, VIPSubnetID: lb.VIPSubnetID, VIPPortID: lb.VIPPortID,
			ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus, Mode: mode, HealthCheck: health,
		}
	}
	return nil
}

// ownLBs finds every load balancer the cluster made for itself, by name
// and description: also one whose create answered with an error, or not
// at all. A cloud without Octavia has none, so deleting or importing a
// cluster there does not need the service.
func (m *Manager) ownLBs(ctx context.Context, c *Cluster) ([]openstack.LoadBalancer, error) {
	lbs, err := m.cloud.ListLoadBalancers(ctx, ownLBName(c))
	if missing := (*openstack.ServiceMissingError)(nil); errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find the load balancer of cluster %s: %w", c.ID, err)
	}
	own := lbs[:0]
	for _, lb := range lbs {
		if id, _, _ := parseLBDescription(lb.Description); id == c.ID && strings.HasSuffix(lb.Description, ownLBMarker) {
			own = append(own, lb)
		}
	}
	return own, nil
}

// deleteOwnLBs deletes the cluster's own load balancers with everything
// under them (the security group goes with the cluster).
func (m *Manager) deleteOwnLBs(ctx context.Context, c *Cluster) error {
	lbs, err := m.ownLBs(ctx, c)
	if err != nil {
		return err
	}
	var errs []error
	for _, lb := range lbs {
		if err := m.cloud.DeleteLoadBalancer(ctx, lb.ID, true); err != nil {
			errs = append(errs, fmt.Errorf("delete load balancer %s: %w", lb.ID, err))
		}
	}
	return errors.Join(errs...)
}
