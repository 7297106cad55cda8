package cluster

import (
	"context"
	"fmt"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// DeletePool deletes the floating IPs of the VIP, the load balancer with
// everything under it (cascade) and the security group rules it added.
// Gone counts as deleted.
func (m *Manager) DeletePool(ctx context.Context, lbID, clusterID string) error {
	// Floating IPs outlive their port in Neutron (they are only
	// disassociated), so they go first, while the VIP port still names them.
	lb, err := m.cloud.GetLoadBalancer(ctx, lbID)
	if err != nil && !openstack.IsNotFound(err) {
		return fmt.Errorf("read load balancer %s before deleting it: %w", lbID, err)
	}
	if err == nil && lb.VIPPortID != "" {
		fips, err := m.cloud.ListFloatingIPs(ctx, lb.VIPPortID)
		if err != nil {
			return fmt.Errorf("floating ips of load balancer %s: %w", lbID, err)
		}
		for _, f := range fips {
			if err := m.cloud.DeleteFloatingIP(ctx, f.ID); err != nil {
				return fmt.Errorf("delete floating ip %s of load balancer %s: %w", f.Address, lbID, err)
			}
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
