package cluster

import (
	"context"
	"fmt"
	"net/netip"

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
	// Another load balancer on its VIP subnet shares its rules (Neutron
	// keeps one per port and network) and inherits them: the subnet is
	// asked for before the load balancer goes when the caller has none.
	subnet := k.VIPSubnetID
	if subnet == "" {
		lb, err := m.cloud.GetLoadBalancer(ctx, lbID)
		if err != nil && !openstack.IsNotFound(err) {
			return fmt.Errorf("read load balancer %s before deleting it: %w", lbID, err)
		}
		subnet = lb.VIPSubnetID
	}
	if k.WithFloatingIP {
		if err := m.deleteFloatingIPs(ctx, lbID); err != nil {
			return err
		}
	}
	if err := m.cloud.DeleteLoadBalancer(ctx, lbID, true); err != nil {
		return err
	}
	lbs, err := m.clusterLBs(ctx, clusterID)
	if err != nil {
		return fmt.Errorf("find the other load balancers of cluster %s: %w", clusterID, err)
	}
	heir := heirOf(lbs, lbID, subnet)
	sgs, err := m.cloud.ListSecurityGroups(ctx, openstack.SecurityGroupFilter{Description: ownerDescription(clusterID)})
	if err != nil {
		return err
	}
	for _, sg := range sgs {
		if err := m.removePoolRules(ctx, sg, lbID, heir); err != nil {
			return err
		}
	}
	return nil
}

// heirOf is the load balancer among lbs that takes lbID's rules: another
// one on its VIP subnet, subnetID, whose member sources default to that
// subnet too. "" when there is none.
func heirOf(lbs []openstack.LoadBalancer, lbID, subnetID string) string {
	for _, lb := range lbs {
		if lb.ID != lbID && subnetID != "" && lb.VIPSubnetID == subnetID {
			return lb.ID
		}
	}
	return ""
}

// removePoolRules removes the rules load balancer lbID added to sg, or
// hands them all to heir (another load balancer on its subnet, which relied
// on them). A MySQL rule another load balancer also relies on (its
// clustercheck rule from the same network says so) is handed to that load
// balancer instead: Neutron keeps one MySQL rule per network, so the first
// load balancer's rule served both.
func (m *Manager) removePoolRules(ctx context.Context, sg openstack.SecurityGroup, lbID, heir string) error {
	var relied map[netip.Prefix]string
	for _, r := range sg.Rules {
		if r.Description != ruleOwner(lbID) {
			continue
		}
		if heir != "" {
			if err := m.handOver(ctx, sg.ID, r, ruleOwner(heir)); err != nil {
				return err
			}
			continue
		}
		if p, ok := clientRuleCIDR(r); ok {
			if relied == nil {
				relied = poolSources(sg.Rules, lbID)
			}
			if other, ok := relied[p]; ok {
				if err := m.handOver(ctx, sg.ID, r, ruleOwner(other)); err != nil {
					return err
				}
				continue
			}
		}
		if err := m.cloud.DeleteSecurityGroupRule(ctx, r.ID); err != nil {
			return fmt.Errorf("remove tcp/%d from %s of load balancer %s: %w", r.PortMin, r.RemoteIPPrefix, lbID, err)
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
