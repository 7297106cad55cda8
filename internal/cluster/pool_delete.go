package cluster

import (
	"context"
	"fmt"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// DeletePool deletes the floating IPs of the VIP, the load balancer with
// everything under it (cascade, one wait on the load balancer) and the
// security group rules it added. Gone counts as deleted.
func (m *Manager) DeletePool(ctx context.Context, lbID, clusterID string) error {
	return m.DeleteKnownPool(ctx, KnownPool{LoadBalancerID: lbID, WithFloatingIP: true}, clusterID)
}

// DeleteKnownPool is DeletePool for a pool whose state says whether it has
// a floating IP: without one, nothing is looked up before the delete.
func (m *Manager) DeleteKnownPool(ctx context.Context, k KnownPool, clusterID string) error {
	lbID := k.LoadBalancerID
	if k.WithFloatingIP {
		if err := m.deleteFloatingIPs(ctx, lbID); err != nil {
			return err
		}
	}
	if err := m.cloud.DeleteLoadBalancer(ctx, lbID, true); err != nil {
		return err
	}
	sgs, err := m.cloud.ListSecurityGroups(ctx, openstack.SecurityGroupFilter{Description: ownerDescription(clusterID)})
	if err != nil {
		return err
	}
	for _, sg := range sgs {
		for _, r := range sg.Rules {
			if r.Description == ruleOwner(lbID) {
				if err := m.cloud.DeleteSecurityGroupRule(ctx, r.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// deleteFloatingIPs deletes the floating IPs of the VIP. Floating IPs
// outlive their port in Neutron (they are only disassociated), so they go
// first, while the VIP port still names them.
func (m *Manager) deleteFloatingIPs(ctx context.Context, lbID string) error {
	lb, err := m.cloud.GetLoadBalancer(ctx, lbID)
	if openstack.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read load balancer %s before deleting it: %w", lbID, err)
	}
	if lb.VIPPortID == "" {
		return nil
	}
	fips, err := m.cloud.ListFloatingIPs(ctx, lb.VIPPortID)
	if err != nil {
		return fmt.Errorf("floating ips of load balancer %s: %w", lbID, err)
	}
	for _, f := range fips {
		if err := m.cloud.DeleteFloatingIP(ctx, f.ID); err != nil {
			return fmt.Errorf("delete floating ip %s of load balancer %s: %w", f.Address, lbID, err)
		}
	}
	return nil
}
