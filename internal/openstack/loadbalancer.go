package openstack

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Octavia provisioning statuses.
var (
	lbPending = []string{"PENDING_CREATE", "PENDING_UPDATE"}
	lbFailed  = []string{"ERROR"}
)

// LoadBalancer is an Octavia load balancer.
type LoadBalancer struct {
	ID                 string
	Name               string
	Description        string
	VIPAddress         string
	VIPPortID          string
	VIPSubnetID        string
	VIPNetworkID       string
	ProvisioningStatus string
	OperatingStatus    string
	Tags               []string
}

// LoadBalancerCreate is what a new load balancer needs: a VIP subnet or network.
type LoadBalancerCreate struct {
	Name         string
	Description  string
	VIPSubnetID  string
	VIPNetworkID string
	VIPAddress   string
	Tags         []string
}

// CreateLoadBalancer creates a load balancer and waits until it is ACTIVE.
func (c *Client) CreateLoadBalancer(ctx context.Context, in LoadBalancerCreate) (LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return LoadBalancer{}, err
	}
	lb, err := loadbalancers.Create(ctx, sc, loadbalancers.CreateOpts{
		Name: in.Name, Description: in.Description, VipSubnetID: in.VIPSubnetID,
		VipNetworkID: in.VIPNetworkID, VipAddress: in.VIPAddress, Tags: in.Tags,
	}).Extract()
	if err != nil {
		return LoadBalancer{}, fmt.Errorf("create load balancer %s: %w", in.Name, err)
	}
	out, err := c.WaitLoadBalancerActive(ctx, lb.ID)
	if err != nil {
		return loadBalancerOf(lb), fmt.Errorf("create load balancer %s: %w", in.Name, err)
	}
	return out, nil
}

// GetLoadBalancer reads a load balancer; IsNotFound(err) when it does not exist.
func (c *Client) GetLoadBalancer(ctx context.Context, id string) (LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return LoadBalancer{}, err
	}
	lb, err := loadbalancers.Get(ctx, sc, id).Extract()
	if err != nil {
		return LoadBalancer{}, fmt.Errorf("get load balancer %s: %w", id, err)
	}
	return loadBalancerOf(lb), nil
}

// ListLoadBalancers lists load balancers with the given name (all when empty).
func (c *Client) ListLoadBalancers(ctx context.Context, name string) ([]LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := loadbalancers.List(sc, loadbalancers.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list load balancers %s: %w", name, err)
	}
	all, err := loadbalancers.ExtractLoadBalancers(pages)
	if err != nil {
		return nil, fmt.Errorf("list load balancers %s: %w", name, err)
	}
	var out []LoadBalancer
	for i := range all {
		if name == "" || all[i].Name == name {
			out = append(out, loadBalancerOf(&all[i]))
		}
	}
	return out, nil
}

// WaitLoadBalancerActive waits until the load balancer is ACTIVE; ERROR ends
// the wait.
func (c *Client) WaitLoadBalancerActive(ctx context.Context, id string) (LoadBalancer, error) {
	var last LoadBalancer
	_, err := c.waitStatus(ctx, Wait{What: "load balancer " + id, Target: []string{"ACTIVE"}, Pending: lbPending, Failed: lbFailed},
		func(ctx context.Context) (Observation, error) {
			lb, err := c.GetLoadBalancer(ctx, id)
			if err != nil {
				return Observation{}, err
			}
			last = lb
			return Observation{Status: lb.ProvisioningStatus, Fault: "operating status " + lb.OperatingStatus}, nil
		})
	return last, err
}

// DeleteLoadBalancer deletes a load balancer (with everything under it when
// cascade is set) and waits until it is gone. A missing one counts as deleted.
func (c *Client) DeleteLoadBalancer(ctx context.Context, id string, cascade bool) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	err = c.lbWrite(ctx, id, "delete load balancer "+id, []string{"ACTIVE", "ERROR"}, func(ctx context.Context) error {
		return loadbalancers.Delete(ctx, sc, id, loadbalancers.DeleteOpts{Cascade: cascade}).ExtractErr()
	}, false)
	if err != nil {
		if IsNotFound(err) {
			return nil
		}
		return err
	}
	_, err = c.waitStatus(ctx, Wait{What: "load balancer " + id, Target: []string{"DELETED"}, GoneOK: true, Failed: lbFailed},
		func(ctx context.Context) (Observation, error) {
			lb, err := loadbalancers.Get(ctx, sc, id).Extract()
			if err != nil {
				return Observation{}, err
			}
			return Observation{Status: lb.ProvisioningStatus}, nil
		})
	if err != nil {
		return fmt.Errorf("delete load balancer %s: %w", id, err)
	}
	return nil
}

// lbChange makes one change under a load balancer the way Octavia wants:
// wait until the load balancer is ACTIVE, write, and when the write is
// refused with 409 (the tree is immutable while PENDING_*) wait again and
// retry. With waitAfter it then waits for ACTIVE again, so the change is
// done when lbChange returns.
func (c *Client) lbChange(ctx context.Context, lbID, what string, write func(context.Context) error, waitAfter bool) error {
	return c.lbWrite(ctx, lbID, what, []string{"ACTIVE"}, write, waitAfter)
}

// lbWrite is lbChange with the statuses the load balancer may be in before
// the write (a delete may start from ERROR too).
func (c *Client) lbWrite(ctx context.Context, lbID, what string, ready []string, write func(context.Context) error, waitAfter bool) error {
	pause := c.retryBase
	for {
		_, err := c.waitStatus(ctx, Wait{What: "load balancer " + lbID, Target: ready, Pending: lbPending, Failed: lbFailed},
			func(ctx context.Context) (Observation, error) {
				lb, err := c.GetLoadBalancer(ctx, lbID)
				return Observation{Status: lb.ProvisioningStatus, Fault: "operating status " + lb.OperatingStatus}, err
			})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		err = write(ctx)
		if err == nil {
			break
		}
		if !IsConflict(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		// 409: something under the load balancer is still PENDING_*. The load
		// balancer itself may already read ACTIVE, so pause before looking again.
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%s: still refused with 409 when time ran out: %w", what, ctx.Err())
		case <-timer.C:
		}
		pause = min(pause*2, 5*time.Second)
	}
	if waitAfter {
		if _, err := c.WaitLoadBalancerActive(ctx, lbID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

func loadBalancerOf(lb *loadbalancers.LoadBalancer) LoadBalancer {
	return LoadBalancer{
		ID: lb.ID, Name: lb.Name, Description: lb.Description, VIPAddress: lb.VipAddress,
		VIPPortID: lb.VipPortID, VIPSubnetID: lb.VipSubnetID, VIPNetworkID: lb.VipNetworkID,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus, Tags: lb.Tags,
	}
}

// Listener is an Octavia listener.
type Listener struct {
	ID                  string
	Name                string
	Protocol            string
	Port                int
	DefaultPoolID       string
	AllowedCIDRs        []string
	TimeoutClientDataMs int
	TimeoutMemberDataMs int
	ProvisioningStatus  string
	OperatingStatus     string
}

// ListenerCreate is what a new listener needs. Zero timeouts keep Octavia's
// defaults (50 s, too short for idle database connections).
type ListenerCreate struct {
	Name                string
	Protocol            string // TCP for MySQL
	Port                int
	AllowedCIDRs        []string
	TimeoutClientDataMs int
	TimeoutMemberDataMs int
}

// ListenerUpdate changes a listener; nil fields stay as they are.
type ListenerUpdate struct {
	Name                *string
	DefaultPoolID       *string
	AllowedCIDRs        *[]string
	TimeoutClientDataMs *int
	TimeoutMemberDataMs *int
}

// CreateListener adds a listener to a load balancer and waits until the load
// balancer is ACTIVE again.
func (c *Client) CreateListener(ctx context.Context, lbID string, in ListenerCreate) (Listener, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Listener{}, err
	}
	opts := listeners.CreateOpts{
		LoadbalancerID: lbID, Name: in.Name, Protocol: listeners.Protocol(in.Protocol), ProtocolPort: in.Port,
		AllowedCIDRs: in.AllowedCIDRs, TimeoutClientData: positive(in.TimeoutClientDataMs), TimeoutMemberData: positive(in.TimeoutMemberDataMs),
	}
	var id string
	err = c.lbChange(ctx, lbID, fmt.Sprintf("create listener %s on load balancer %s", in.Name, lbID), func(ctx context.Context) error {
		l, err := listeners.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = l.ID
		}
		return err
	}, true)
	if err != nil {
		return Listener{}, err
	}
	return c.checkListener(ctx, id)
}

// GetListener reads a listener; IsNotFound(err) when it does not exist.
func (c *Client) GetListener(ctx context.Context, id string) (Listener, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Listener{}, err
	}
	l, err := listeners.Get(ctx, sc, id).Extract()
	if err != nil {
		return Listener{}, fmt.Errorf("get listener %s: %w", id, err)
	}
	return listenerOf(l), nil
}

// UpdateListener changes a listener and waits until the load balancer is
// ACTIVE again.
func (c *Client) UpdateListener(ctx context.Context, lbID, id string, in ListenerUpdate) (Listener, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Listener{}, err
	}
	opts := listeners.UpdateOpts{
		Name: in.Name, DefaultPoolID: in.DefaultPoolID, AllowedCIDRs: in.AllowedCIDRs,
		TimeoutClientData: in.TimeoutClientDataMs, TimeoutMemberData: in.TimeoutMemberDataMs,
	}
	err = c.lbChange(ctx, lbID, "update listener "+id, func(ctx context.Context) error {
		return listeners.Update(ctx, sc, id, opts).Err
	}, true)
	if err != nil {
		return Listener{}, err
	}
	return c.checkListener(ctx, id)
}

// DeleteListener deletes a listener and waits until the load balancer is
// ACTIVE again. A missing one counts as deleted.
func (c *Client) DeleteListener(ctx context.Context, lbID, id string) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	err = c.lbChange(ctx, lbID, "delete listener "+id, func(ctx context.Context) error {
		return listeners.Delete(ctx, sc, id).ExtractErr()
	}, true)
	if err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

func (c *Client) checkListener(ctx context.Context, id string) (Listener, error) {
	l, err := c.GetListener(ctx, id)
	if err != nil {
		return Listener{}, err
	}
	if matchStatus(lbFailed, l.ProvisioningStatus) {
		return l, &StatusError{What: "listener " + id, Status: l.ProvisioningStatus, Target: []string{"ACTIVE"}}
	}
	return l, nil
}

func listenerOf(l *listeners.Listener) Listener {
	return Listener{
		ID: l.ID, Name: l.Name, Protocol: l.Protocol, Port: l.ProtocolPort, DefaultPoolID: l.DefaultPoolID,
		AllowedCIDRs: l.AllowedCIDRs, TimeoutClientDataMs: l.TimeoutClientData, TimeoutMemberDataMs: l.TimeoutMemberData,
		ProvisioningStatus: l.ProvisioningStatus, OperatingStatus: l.OperatingStatus,
	}
}

// Pool is an Octavia pool.
type Pool struct {
	ID                 string
	Name               string
	Protocol           string
	LBMethod           string
	MonitorID          string
	ProvisioningStatus string
	OperatingStatus    string
	Members            []Member
}

// PoolCreate is what a new pool needs: a listener (it becomes the listener's
// default pool) or a load balancer.
type PoolCreate struct {
	Name           string
	Protocol       string // TCP for MySQL
	LBMethod       string // ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP...
	ListenerID     string
	LoadBalancerID string
}

// PoolUpdate changes a pool; empty fields stay as they are.
type PoolUpdate struct {
	Name     *string
	LBMethod string
}

// CreatePool creates a pool and waits until the load balancer is ACTIVE again.
func (c *Client) CreatePool(ctx context.Context, lbID string, in PoolCreate) (Pool, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Pool{}, err
	}
	opts := pools.CreateOpts{
		Name: in.Name, Protocol: pools.Protocol(in.Protocol), LBMethod: pools.LBMethod(in.LBMethod),
		ListenerID: in.ListenerID, LoadbalancerID: in.LoadBalancerID,
	}
	var id string
	err = c.lbChange(ctx, lbID, fmt.Sprintf("create pool %s on load balancer %s", in.Name, lbID), func(ctx context.Context) error {
		p, err := pools.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = p.ID
		}
		return err
	}, true)
	if err != nil {
		return Pool{}, err
	}
	return c.checkPool(ctx, id)
}

// GetPool reads a pool and its members; IsNotFound(err) when it does not exist.
func (c *Client) GetPool(ctx context.Context, id string) (Pool, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Pool{}, err
	}
	p, err := pools.Get(ctx, sc, id).Extract()
	if err != nil {
		return Pool{}, fmt.Errorf("get pool %s: %w", id, err)
	}
	out := poolOf(p)
	members, err := c.ListPoolMembers(ctx, id)
	if err != nil {
		return out, err
	}
	out.Members = members
	return out, nil
}

// UpdatePool changes a pool and waits until the load balancer is ACTIVE again.
func (c *Client) UpdatePool(ctx context.Context, lbID, id string, in PoolUpdate) (Pool, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Pool{}, err
	}
	opts := pools.UpdateOpts{Name: in.Name, LBMethod: pools.LBMethod(in.LBMethod)}
	err = c.lbChange(ctx, lbID, "update pool "+id, func(ctx context.Context) error {
		return pools.Update(ctx, sc, id, opts).Err
	}, true)
	if err != nil {
		return Pool{}, err
	}
	return c.checkPool(ctx, id)
}

// DeletePool deletes a pool and waits until the load balancer is ACTIVE
// again. A missing one counts as deleted.
func (c *Client) DeletePool(ctx context.Context, lbID, id string) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	err = c.lbChange(ctx, lbID, "delete pool "+id, func(ctx context.Context) error {
		return pools.Delete(ctx, sc, id).ExtractErr()
	}, true)
	if err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

func (c *Client) checkPool(ctx context.Context, id string) (Pool, error) {
	p, err := c.GetPool(ctx, id)
	if err != nil {
		return Pool{}, err
	}
	if matchStatus(lbFailed, p.ProvisioningStatus) {
		return p, &StatusError{What: "pool " + id, Status: p.ProvisioningStatus, Target: []string{"ACTIVE"}}
	}
	return p, nil
}

func poolOf(p *pools.Pool) Pool {
	return Pool{
		ID: p.ID, Name: p.Name, Protocol: p.Protocol, LBMethod: p.LBMethod, MonitorID: p.MonitorID,
		ProvisioningStatus: p.ProvisioningStatus, OperatingStatus: p.OperatingStatus,
	}
}

// Member is one backend of a pool.
type Member struct {
	ID                 string
	Name               string
	Address            string
	Port               int
	SubnetID           string
	Weight             int
	Backup             bool
	AdminStateUp       bool
	MonitorAddress     string
	MonitorPort        int
	ProvisioningStatus string
	OperatingStatus    string // ONLINE, OFFLINE, ERROR, NO_MONITOR, DRAINING
}

// MemberSpec is the wanted state of one member in SetPoolMembers.
type MemberSpec struct {
	Name           string
	Address        string
	Port           int
	SubnetID       string
	Weight         *int  // nil: Octavia's default (1)
	Backup         bool  // receives traffic only when no non-backup member is up
	AdminStateUp   *bool // nil: up
	MonitorAddress string
	MonitorPort    int
}

// SetPoolMembers makes the pool's members exactly specs in one batch update
// (members not listed are removed) and waits until the load balancer is
// ACTIVE again. It returns the members as Octavia then reports them.
func (c *Client) SetPoolMembers(ctx context.Context, lbID, poolID string, specs []MemberSpec) ([]Member, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	opts := make([]pools.BatchUpdateMemberOpts, 0, len(specs))
	for _, s := range specs {
		o := pools.BatchUpdateMemberOpts{
			Address: s.Address, ProtocolPort: s.Port, Weight: s.Weight, AdminStateUp: s.AdminStateUp,
			Backup: &s.Backup,
		}
		if s.Name != "" {
			o.Name = &s.Name
		}
		if s.SubnetID != "" {
			o.SubnetID = &s.SubnetID
		}
		if s.MonitorAddress != "" {
			o.MonitorAddress = &s.MonitorAddress
		}
		if s.MonitorPort != 0 {
			o.MonitorPort = &s.MonitorPort
		}
		opts = append(opts, o)
	}
	err = c.lbChange(ctx, lbID, fmt.Sprintf("set %d members of pool %s", len(specs), poolID), func(ctx context.Context) error {
		return pools.BatchUpdateMembers(ctx, sc, poolID, opts).ExtractErr()
	}, true)
	if err != nil {
		return nil, err
	}
	return c.ListPoolMembers(ctx, poolID)
}

// ListPoolMembers lists the members of a pool.
func (c *Client) ListPoolMembers(ctx context.Context, poolID string) ([]Member, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := pools.ListMembers(sc, poolID, pools.ListMembersOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members of pool %s: %w", poolID, err)
	}
	all, err := pools.ExtractMembers(pages)
	if err != nil {
		return nil, fmt.Errorf("list members of pool %s: %w", poolID, err)
	}
	out := make([]Member, 0, len(all))
	for _, m := range all {
		out = append(out, Member{
			ID: m.ID, Name: m.Name, Address: m.Address, Port: m.ProtocolPort, SubnetID: m.SubnetID,
			Weight: m.Weight, Backup: m.Backup, AdminStateUp: m.AdminStateUp, MonitorAddress: m.MonitorAddress,
			MonitorPort: m.MonitorPort, ProvisioningStatus: m.ProvisioningStatus, OperatingStatus: m.OperatingStatus,
		})
	}
	return out, nil
}

// Monitor is an Octavia health monitor.
type Monitor struct {
	ID                 string
	Name               string
	PoolID             string
	Type               string // TCP, HTTP, MYSQL? (Octavia: HTTP, HTTPS, PING, TCP, TLS-HELLO, UDP-CONNECT, SCTP)
	DelaySeconds       int
	TimeoutSeconds     int
	MaxRetries         int
	MaxRetriesDown     int
	HTTPMethod         string
	URLPath            string
	ExpectedCodes      string
	ProvisioningStatus string
	OperatingStatus    string
}

// MonitorSpec is the wanted state of a health monitor. For an update, zero
// fields stay as they are.
type MonitorSpec struct {
	Name           string
	Type           string
	DelaySeconds   int
	TimeoutSeconds int
	MaxRetries     int
	MaxRetriesDown int
	HTTPMethod     string
	URLPath        string
	ExpectedCodes  string
}

// CreateMonitor adds a health monitor to a pool and waits until the load
// balancer is ACTIVE again.
func (c *Client) CreateMonitor(ctx context.Context, lbID, poolID string, in MonitorSpec) (Monitor, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Monitor{}, err
	}
	opts := monitors.CreateOpts{
		PoolID: poolID, Name: in.Name, Type: in.Type, Delay: in.DelaySeconds, Timeout: in.TimeoutSeconds,
		MaxRetries: in.MaxRetries, MaxRetriesDown: in.MaxRetriesDown, HTTPMethod: in.HTTPMethod,
		URLPath: in.URLPath, ExpectedCodes: in.ExpectedCodes,
	}
	var id string
	err = c.lbChange(ctx, lbID, fmt.Sprintf("create health monitor on pool %s", poolID), func(ctx context.Context) error {
		m, err := monitors.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = m.ID
		}
		return err
	}, true)
	if err != nil {
		return Monitor{}, err
	}
	return c.checkMonitor(ctx, id)
}

// GetMonitor reads a health monitor; IsNotFound(err) when it does not exist.
func (c *Client) GetMonitor(ctx context.Context, id string) (Monitor, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Monitor{}, err
	}
	m, err := monitors.Get(ctx, sc, id).Extract()
	if err != nil {
		return Monitor{}, fmt.Errorf("get health monitor %s: %w", id, err)
	}
	return monitorOf(m), nil
}

// UpdateMonitor changes a health monitor and waits until the load balancer
// is ACTIVE again.
func (c *Client) UpdateMonitor(ctx context.Context, lbID, id string, in MonitorSpec) (Monitor, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Monitor{}, err
	}
	opts := monitors.UpdateOpts{
		Delay: in.DelaySeconds, Timeout: in.TimeoutSeconds, MaxRetries: in.MaxRetries, MaxRetriesDown: in.MaxRetriesDown,
		HTTPMethod: in.HTTPMethod, URLPath: in.URLPath, ExpectedCodes: in.ExpectedCodes,
	}
	if in.Name != "" {
		opts.Name = &in.Name
	}
	err = c.lbChange(ctx, lbID, "update health monitor "+id, func(ctx context.Context) error {
		return monitors.Update(ctx, sc, id, opts).Err
	}, true)
	if err != nil {
		return Monitor{}, err
	}
	return c.checkMonitor(ctx, id)
}

// DeleteMonitor deletes a health monitor and waits until the load balancer is
// ACTIVE again. A missing one counts as deleted.
func (c *Client) DeleteMonitor(ctx context.Context, lbID, id string) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	err = c.lbChange(ctx, lbID, "delete health monitor "+id, func(ctx context.Context) error {
		return monitors.Delete(ctx, sc, id).ExtractErr()
	}, true)
	if err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

func (c *Client) checkMonitor(ctx context.Context, id string) (Monitor, error) {
	m, err := c.GetMonitor(ctx, id)
	if err != nil {
		return Monitor{}, err
	}
	if matchStatus(lbFailed, m.ProvisioningStatus) {
		return m, &StatusError{What: "health monitor " + id, Status: m.ProvisioningStatus, Target: []string{"ACTIVE"}}
	}
	return m, nil
}

func monitorOf(m *monitors.Monitor) Monitor {
	out := Monitor{
		ID: m.ID, Name: m.Name, Type: m.Type, DelaySeconds: m.Delay, TimeoutSeconds: m.Timeout,
		MaxRetries: m.MaxRetries, MaxRetriesDown: m.MaxRetriesDown, HTTPMethod: m.HTTPMethod,
		URLPath: m.URLPath, ExpectedCodes: m.ExpectedCodes, ProvisioningStatus: m.ProvisioningStatus,
		OperatingStatus: m.OperatingStatus,
	}
	if len(m.Pools) > 0 {
		out.PoolID = m.Pools[0].ID
	}
	return out
}

func positive(v int) *int {
	if v <= 0 {
		return nil
	}
	return &v
}
