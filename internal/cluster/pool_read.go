package cluster

import (
	"context"
	"fmt"
	"sort"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// ReadPool observes a load balancer made by CreatePool. ErrNotFound when
// it is gone.
func (m *Manager) ReadPool(ctx context.Context, lbID string) (*Pool, error) {
	lb, err := m.cloud.GetLoadBalancer(ctx, lbID)
	if openstack.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p := &Pool{
		LoadBalancerID: lb.ID, VIPAddress: lb.VIPAddress, VIPSubnetID: lb.VIPSubnetID, VIPPortID: lb.VIPPortID,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus,
	}
	p.ClusterID, p.Mode, p.HealthCheck = parseLBDescription(lb.Description)
	if lb.VIPPortID != "" {
		fips, err := m.cloud.ListFloatingIPs(ctx, lb.VIPPortID)
		if err != nil {
			return nil, fmt.Errorf("floating ips of load balancer %s: %w", lb.ID, err)
		}
		if len(fips) > 0 {
			f := fips[0]
			p.FloatingIPAddress, p.FloatingIPID, p.FloatingIPNetworkID = f.Address, f.ID, f.NetworkID
			n, err := m.cloud.ResolveNetwork(ctx, f.NetworkID)
			if err != nil {
				return nil, fmt.Errorf("network of floating ip %s of load balancer %s: %w", f.Address, lb.ID, err)
			}
			p.FloatingIPNetworkName = n.Name
		}
	}
	listeners, err := m.cloud.ListListeners(ctx, lb.ID)
	if err != nil {
		return nil, err
	}
	if len(listeners) > 0 {
		l := listeners[0]
		p.ListenerID, p.PoolID, p.Port = l.ID, l.DefaultPoolID, l.Port
		p.ClientTimeoutMs, p.MemberTimeoutMs = l.TimeoutClientDataMs, l.TimeoutMemberDataMs
	}
	if p.PoolID == "" {
		return p, nil
	}
	pool, err := m.cloud.GetPool(ctx, p.PoolID)
	if err != nil && !openstack.IsNotFound(err) {
		return nil, err
	}
	p.MonitorID, p.LBMethod = pool.MonitorID, pool.LBMethod
	members, err := m.cloud.ListPoolMembers(ctx, p.PoolID)
	if err != nil && !openstack.IsNotFound(err) {
		return nil, err
	}
	for _, mem := range members {
		p.Members = append(p.Members, PoolMember{
			NodeName: mem.Name, Address: mem.Address, MemberID: mem.ID, Backup: mem.Backup, OperatingStatus: mem.OperatingStatus,
		})
	}
	sort.Slice(p.Members, func(i, j int) bool { return p.Members[i].NodeName < p.Members[j].NodeName })
	return p, nil
}
