package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// ReadPool observes a load balancer made by CreatePool, everything a
// configuration can set included (an import, an update). ErrNotFound when
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
	if err := m.readFloatingIP(ctx, p, true); err != nil {
		return nil, err
	}
	st, err := m.cloud.GetLoadBalancerStatus(ctx, lbID)
	if openstack.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.observe(st)
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
	return p, nil
}

// KnownPool is what a refresh already holds of a pool and Octavia never
// changes behind its back: the VIP is fixed for a load balancer's life.
type KnownPool struct {
	LoadBalancerID string
	VIPAddress     string
	VIPSubnetID    string
	// WithFloatingIP: one was configured, so look for it (a refresh
	// without one makes no floating IP request).
	WithFloatingIP bool
}

// RefreshPool observes a pool in one request, Octavia's status tree: ids,
// statuses and members. What the tree does not carry (port, method,
// timeouts, mode) is left zero for the caller to keep. ErrNotFound when the
// load balancer is gone.
func (m *Manager) RefreshPool(ctx context.Context, k KnownPool) (*Pool, error) {
	st, err := m.cloud.GetLoadBalancerStatus(ctx, k.LoadBalancerID)
	if openstack.IsNotFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p := &Pool{LoadBalancerID: k.LoadBalancerID, VIPAddress: k.VIPAddress, VIPSubnetID: k.VIPSubnetID}
	p.observe(st)
	if k.WithFloatingIP {
		lb, err := m.cloud.GetLoadBalancer(ctx, k.LoadBalancerID)
		if openstack.IsNotFound(err) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		p.VIPPortID = lb.VIPPortID
		if err := m.readFloatingIP(ctx, p, false); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// readFloatingIP finds the floating IP of the VIP's port; withNetworkName
// also names its network (an import records it by name).
func (m *Manager) readFloatingIP(ctx context.Context, p *Pool, withNetworkName bool) error {
	if p.VIPPortID == "" {
		return nil
	}
	fips, err := m.cloud.ListFloatingIPs(ctx, p.VIPPortID)
	if err != nil {
		return fmt.Errorf("floating ips of load balancer %s: %w", p.LoadBalancerID, err)
	}
	if len(fips) == 0 {
		return nil
	}
	f := fips[0]
	p.FloatingIPAddress, p.FloatingIPID, p.FloatingIPNetworkID = f.Address, f.ID, f.NetworkID
	if withNetworkName {
		n, err := m.cloud.ResolveNetwork(ctx, f.NetworkID)
		if err != nil {
			return fmt.Errorf("network of floating ip %s of load balancer %s: %w", f.Address, p.LoadBalancerID, err)
		}
		p.FloatingIPNetworkName = n.Name
	}
	return nil
}

// observe takes statuses, ids and members from the status tree.
func (p *Pool) observe(st openstack.LoadBalancerStatus) {
	p.ProvisioningStatus, p.OperatingStatus = st.ProvisioningStatus, st.OperatingStatus
	l, pool := st.FirstPool()
	p.ListenerID, p.PoolID, p.MonitorID = l.ID, pool.ID, pool.Monitor.ID
	p.Members = nil
	for _, mem := range pool.Members {
		p.Members = append(p.Members, PoolMember{
			NodeName: mem.Name, Address: mem.Address, MemberID: mem.ID, OperatingStatus: mem.OperatingStatus,
		})
	}
	sort.Slice(p.Members, func(i, j int) bool { return p.Members[i].NodeName < p.Members[j].NodeName })
}

// clusterLBs lists the load balancers in front of the cluster, by the
// description each carries ("pxc_cluster <id> mode=..."), in one request.
// Not by the security group rules they add: Neutron keeps one rule per
// port and network, so load balancers on one subnet share theirs. One
// being deleted does not count; a cloud without Octavia has none.
func (m *Manager) clusterLBs(ctx context.Context, clusterID string) ([]openstack.LoadBalancer, error) {
	all, err := m.cloud.ListLoadBalancers(ctx, "")
	if missing := (*openstack.ServiceMissingError)(nil); errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []openstack.LoadBalancer
	for _, lb := range all {
		if id, _, _ := parseLBDescription(lb.Description); id == clusterID && lb.ProvisioningStatus != "PENDING_DELETE" {
			out = append(out, lb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
