package openstack

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2"
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

// LoadBalancerCreate is what a new load balancer needs: a VIP subnet or
// network. With Listener set it is Octavia's fully populated create: the
// listener, its default pool, the pool's members and health monitor are
// made in the same request, and the load balancer goes ACTIVE once for all.
type LoadBalancerCreate struct {
	Name         string
	Description  string
	VIPSubnetID  string
	VIPNetworkID string
	VIPAddress   string
	Tags         []string
	Listener     *ListenerCreate
}

// CreateLoadBalancer creates a load balancer (with everything under it when
// in.Listener is set) and waits until it is ACTIVE. On a failed wait the
// returned load balancer still carries the id, so it can be deleted.
func (c *Client) CreateLoadBalancer(ctx context.Context, in LoadBalancerCreate) (LoadBalancer, error) {
	lb, err := c.StartLoadBalancer(ctx, in)
	if err != nil {
		return lb, err
	}
	out, err := c.WaitLoadBalancerActive(ctx, lb.ID)
	if err != nil {
		return lb, fmt.Errorf("create load balancer %s: %w", in.Name, err)
	}
	return out, nil
}

// StartLoadBalancer sends the create and returns at once (PENDING_CREATE),
// so the caller can prepare what the load balancer will need (security
// group rules for its health checks) while Octavia builds it.
func (c *Client) StartLoadBalancer(ctx context.Context, in LoadBalancerCreate) (LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return LoadBalancer{}, err
	}
	opts := loadbalancers.CreateOpts{
		Name: in.Name, Description: in.Description, VipSubnetID: in.VIPSubnetID,
		VipNetworkID: in.VIPNetworkID, VipAddress: in.VIPAddress, Tags: in.Tags,
	}
	if in.Listener != nil {
		opts.Listeners = []listeners.CreateOpts{populatedListener(*in.Listener)}
	}
	lb, err := loadbalancers.Create(ctx, sc, opts).Extract()
	if err != nil {
		return LoadBalancer{}, fmt.Errorf("create load balancer %s: %w", in.Name, err)
	}
	return loadBalancerOf(lb), nil
}

// populatedListener is a listener of a fully populated create: no
// load balancer id (the request's own), its default pool inline.
func populatedListener(in ListenerCreate) listeners.CreateOpts {
	l := listeners.CreateOpts{
		Name: in.Name, Protocol: listeners.Protocol(in.Protocol), ProtocolPort: in.Port,
		AllowedCIDRs: in.AllowedCIDRs, TimeoutClientData: positive(in.TimeoutClientDataMs), TimeoutMemberData: positive(in.TimeoutMemberDataMs),
	}
	if p := in.DefaultPool; p != nil {
		po := &pools.CreateOpts{Name: p.Name, Protocol: pools.Protocol(p.Protocol), LBMethod: pools.LBMethod(p.LBMethod)}
		for _, m := range p.Members {
			po.Members = append(po.Members, memberCreateOpts(m))
		}
		if mon := p.Monitor; mon != nil {
			po.Monitor = monitors.CreateOpts{
				Name: mon.Name, Type: mon.Type, Delay: mon.DelaySeconds, Timeout: mon.TimeoutSeconds,
				MaxRetries: mon.MaxRetries, MaxRetriesDown: mon.MaxRetriesDown, HTTPMethod: mon.HTTPMethod,
				URLPath: mon.URLPath, ExpectedCodes: mon.ExpectedCodes,
			}
		}
		l.DefaultPool = po
	}
	return l
}

func memberCreateOpts(s MemberSpec) pools.CreateMemberOpts {
	o := pools.CreateMemberOpts{
		Address: s.Address, ProtocolPort: s.Port, Name: s.Name, SubnetID: s.SubnetID, Weight: s.Weight,
		AdminStateUp: s.AdminStateUp, MonitorAddress: s.MonitorAddress,
	}
	if s.Backup {
		o.Backup = &s.Backup
	}
	if s.MonitorPort != 0 {
		o.MonitorPort = &s.MonitorPort
	}
	return o
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
	_, err := c.waitStatus(ctx, c.createWait(Wait{What: "load balancer " + id, Target: []string{"ACTIVE"}, Pending: lbPending, Failed: lbFailed}, lbFirstLook),
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
	del := func(ctx context.Context) error {
		return loadbalancers.Delete(ctx, sc, id, loadbalancers.DeleteOpts{Cascade: cascade}).ExtractErr()
	}
	// A load balancer is usually at rest when it is deleted: ask at once, and
	// wait for ACTIVE or ERROR only when Octavia answers 409 (PENDING_*).
	if err = del(ctx); IsConflict(err) {
		err = c.lbWrite(ctx, id, "delete load balancer "+id, []string{"ACTIVE", "ERROR"}, del, false)
	} else if err != nil {
		err = fmt.Errorf("delete load balancer %s: %w", id, err)
	}
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

// octaviaChange is lbChange for an object under the load balancer (listener,
// pool, monitor): write gets the Octavia client, and the load balancer is
// ACTIVE again when octaviaChange returns.
func (c *Client) octaviaChange(ctx context.Context, lbID, what string, write func(context.Context, *gophercloud.ServiceClient) error) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	return c.lbChange(ctx, lbID, what, func(ctx context.Context) error { return write(ctx, sc) }, true)
}

// octaviaDelete is octaviaChange for a delete: a missing object counts as
// deleted.
func (c *Client) octaviaDelete(ctx context.Context, lbID, what string, del func(context.Context, *gophercloud.ServiceClient) error) error {
	if err := c.octaviaChange(ctx, lbID, what, del); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

// provisioned returns obj as read after a change, or a *StatusError when
// Octavia put it in ERROR.
func provisioned[T any](obj T, err error, what, status string) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	if matchStatus(lbFailed, status) {
		return obj, &StatusError{What: what, Status: status, Target: []string{"ACTIVE"}}
	}
	return obj, nil
}

func loadBalancerOf(lb *loadbalancers.LoadBalancer) LoadBalancer {
	return LoadBalancer{
		ID: lb.ID, Name: lb.Name, Description: lb.Description, VIPAddress: lb.VipAddress,
		VIPPortID: lb.VipPortID, VIPSubnetID: lb.VipSubnetID, VIPNetworkID: lb.VipNetworkID,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus, Tags: lb.Tags,
	}
}

// LoadBalancerStatus is Octavia's status tree of a load balancer: ids,
// names and statuses of everything under it, members with their addresses,
// in one request (GET /v2/lbaas/loadbalancers/{id}/status).
type LoadBalancerStatus struct {
	ID                 string
	Name               string
	ProvisioningStatus string
	OperatingStatus    string
	Listeners          []ListenerStatus
}

// ListenerStatus is a listener in the status tree.
type ListenerStatus struct {
	ID                 string
	Name               string
	ProvisioningStatus string
	OperatingStatus    string
	Pools              []PoolStatus
}

// PoolStatus is a pool in the status tree; Monitor.ID is empty without one.
type PoolStatus struct {
	ID                 string
	Name               string
	ProvisioningStatus string
	OperatingStatus    string
	Monitor            MonitorStatus
	Members            []Member // ID, Name, Address, Port and the statuses
}

// MonitorStatus is a health monitor in the status tree.
type MonitorStatus struct {
	ID                 string
	Name               string
	Type               string
	ProvisioningStatus string
	OperatingStatus    string
}

type statusTreeBody struct {
	Statuses struct {
		LoadBalancer struct {
			statusFields
			Listeners []struct {
				statusFields
				Pools []struct {
					statusFields
					// Octavia sends "health_monitor"; its api-ref and
					// gophercloud say "healthmonitor": both are read.
					HealthMonitor  *monitorStatusFields `json:"health_monitor"`
					HealthMonitor2 *monitorStatusFields `json:"healthmonitor"`
					Members        []struct {
						statusFields
						Address string `json:"address"`
						Port    int    `json:"protocol_port"`
					} `json:"members"`
				} `json:"pools"`
			} `json:"listeners"`
		} `json:"loadbalancer"`
	} `json:"statuses"`
}

type statusFields struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	ProvisioningStatus string `json:"provisioning_status"`
	OperatingStatus    string `json:"operating_status"`
}

type monitorStatusFields struct {
	statusFields
	Type string `json:"type"`
}

// GetLoadBalancerStatus reads the status tree of a load balancer;
// IsNotFound(err) when it does not exist.
func (c *Client) GetLoadBalancerStatus(ctx context.Context, id string) (LoadBalancerStatus, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return LoadBalancerStatus{}, err
	}
	var body statusTreeBody
	resp, err := sc.Get(ctx, sc.ServiceURL("lbaas", "loadbalancers", id, "status"), &body, nil)
	if _, _, err = gophercloud.ParseResponse(resp, err); err != nil {
		return LoadBalancerStatus{}, fmt.Errorf("get status tree of load balancer %s: %w", id, err)
	}
	t := body.Statuses.LoadBalancer
	out := LoadBalancerStatus{ID: t.ID, Name: t.Name, ProvisioningStatus: t.ProvisioningStatus, OperatingStatus: t.OperatingStatus}
	for _, l := range t.Listeners {
		ls := ListenerStatus{ID: l.ID, Name: l.Name, ProvisioningStatus: l.ProvisioningStatus, OperatingStatus: l.OperatingStatus}
		for _, p := range l.Pools {
			ps := PoolStatus{ID: p.ID, Name: p.Name, ProvisioningStatus: p.ProvisioningStatus, OperatingStatus: p.OperatingStatus}
			hm := p.HealthMonitor
			if hm == nil {
				hm = p.HealthMonitor2
			}
			if hm != nil {
				ps.Monitor = MonitorStatus{ID: hm.ID, Name: hm.Name, Type: hm.Type, ProvisioningStatus: hm.ProvisioningStatus, OperatingStatus: hm.OperatingStatus}
			}
			for _, m := range p.Members {
				ps.Members = append(ps.Members, Member{
					ID: m.ID, Name: m.Name, Address: m.Address, Port: m.Port,
					ProvisioningStatus: m.ProvisioningStatus, OperatingStatus: m.OperatingStatus,
				})
			}
			ls.Pools = append(ls.Pools, ps)
		}
		out.Listeners = append(out.Listeners, ls)
	}
	return out, nil
}

// FirstPool is the status of the first listener's first pool (the shape
// CreateLoadBalancer makes); zero when there is none.
func (s LoadBalancerStatus) FirstPool() (ListenerStatus, PoolStatus) {
	if len(s.Listeners) == 0 {
		return ListenerStatus{}, PoolStatus{}
	}
	l := s.Listeners[0]
	if len(l.Pools) == 0 {
		return l, PoolStatus{}
	}
	return l, l.Pools[0]
}

// FailedChild is an object under a load balancer that Octavia left in
// provisioning_status ERROR while the load balancer itself may be ACTIVE:
// a listener, pool, health monitor or member it could not configure.
type FailedChild struct {
	Kind    string // "listener", "pool", "health monitor" or "member"
	ID      string
	Name    string
	Address string // members only: address:port
}

func (f FailedChild) String() string {
	s := f.Kind + " " + f.Name
	if f.Name == "" {
		s = f.Kind + " " + f.ID
	} else if f.ID != "" {
		s += " (" + f.ID + ")"
	}
	if f.Address != "" {
		s += " at " + f.Address
	}
	return s
}

// FailedChild returns the first object of the status tree in
// provisioning_status ERROR, parents before children.
func (s LoadBalancerStatus) FailedChild() (FailedChild, bool) {
	for _, l := range s.Listeners {
		if l.ProvisioningStatus == "ERROR" {
			return FailedChild{Kind: "listener", ID: l.ID, Name: l.Name}, true
		}
		for _, p := range l.Pools {
			if p.ProvisioningStatus == "ERROR" {
				return FailedChild{Kind: "pool", ID: p.ID, Name: p.Name}, true
			}
			if p.Monitor.ProvisioningStatus == "ERROR" {
				return FailedChild{Kind: "health monitor", ID: p.Monitor.ID, Name: p.Monitor.Name}, true
			}
			for _, m := range p.Members {
				if m.ProvisioningStatus == "ERROR" {
					return FailedChild{Kind: "member", ID: m.ID, Name: m.Name,
						Address: net.JoinHostPort(m.Address, strconv.Itoa(m.Port))}, true
				}
			}
		}
	}
	return FailedChild{}, false
}
