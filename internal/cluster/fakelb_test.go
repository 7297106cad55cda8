package cluster

import (
	"context"
	"slices"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Octavia, in memory: every object is ACTIVE at once; members get their
// health check verdict at once too (in single_writer mode only the first
// member passes the /writer check).

func (f *fakeCloud) WaitLoadBalancerActive(_ context.Context, id string) (openstack.LoadBalancer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("WaitLoadBalancerActive", id); err != nil {
		return openstack.LoadBalancer{}, err
	}
	lb, ok := f.lbs[id]
	if !ok {
		return lb, errNotFound
	}
	lb.ProvisioningStatus, lb.OperatingStatus = "ACTIVE", "ONLINE"
	f.lbs[id] = lb
	return lb, nil
}

func (f *fakeCloud) GetLoadBalancer(_ context.Context, id string) (openstack.LoadBalancer, error) {
	return lookup(f, "GetLoadBalancer", id, f.lbs)
}

func (f *fakeCloud) ListLoadBalancers(_ context.Context, name string) ([]openstack.LoadBalancer, error) {
	return list(f, "ListLoadBalancers", name, f.lbs, func(lb openstack.LoadBalancer) bool { return name == "" || lb.Name == name })
}

func (f *fakeCloud) DeleteLoadBalancer(_ context.Context, id string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("DeleteLoadBalancer", id); err != nil {
		return err
	}
	delete(f.lbs, id)
	for lid, lbID := range f.lbOf {
		if lbID == id {
			delete(f.pools, f.listeners[lid].DefaultPoolID)
			delete(f.listeners, lid)
			delete(f.lbOf, lid)
		}
	}
	return nil
}

func (f *fakeCloud) GetListener(_ context.Context, id string) (openstack.Listener, error) {
	return lookup(f, "GetListener", id, f.listeners)
}

func (f *fakeCloud) ListListeners(_ context.Context, lbID string) ([]openstack.Listener, error) {
	return list(f, "ListListeners", lbID, f.listeners, func(l openstack.Listener) bool { return f.lbOf[l.ID] == lbID })
}

func (f *fakeCloud) UpdateListener(_ context.Context, _, id string, in openstack.ListenerUpdate) (openstack.Listener, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdateListener", id); err != nil {
		return openstack.Listener{}, err
	}
	l := f.listeners[id]
	if in.TimeoutClientDataMs != nil {
		l.TimeoutClientDataMs = *in.TimeoutClientDataMs
	}
	if in.TimeoutMemberDataMs != nil {
		l.TimeoutMemberDataMs = *in.TimeoutMemberDataMs
	}
	f.listeners[id] = l
	return l, nil
}

func (f *fakeCloud) GetPool(_ context.Context, id string) (openstack.Pool, error) {
	return lookup(f, "GetPool", id, f.pools)
}

func (f *fakeCloud) UpdatePool(_ context.Context, _, id string, in openstack.PoolUpdate) (openstack.Pool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("UpdatePool", id); err != nil {
		return openstack.Pool{}, err
	}
	p := f.pools[id]
	p.LBMethod = in.LBMethod
	f.pools[id] = p
	return p, nil
}

func (f *fakeCloud) SetPoolMembers(_ context.Context, _, poolID string, specs []openstack.MemberSpec) ([]openstack.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("SetPoolMembers", poolID); err != nil {
		return nil, err
	}
	f.batches = append(f.batches, slices.Clone(specs))
	p := f.judgedMembers(f.pools[poolID], specs, true)
	f.pools[poolID] = p
	return slices.Clone(p.Members), nil
}

func (f *fakeCloud) ListPoolMembers(_ context.Context, poolID string) ([]openstack.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListPoolMembers", poolID); err != nil {
		return nil, err
	}
	return slices.Clone(f.pools[poolID].Members), nil
}

// singleWriter says whether the pool's load balancer was made in
// single_writer mode (its description says so).
func (f *fakeCloud) singleWriter(poolID string) bool {
	for lid, l := range f.listeners {
		if l.DefaultPoolID == poolID {
			_, mode, _ := parseLBDescription(f.lbs[f.lbOf[lid]].Description)
			return mode == ModeSingleWriter
		}
	}
	return false
}

// StartLoadBalancer is the fully populated create: the listener, its pool,
// monitor and members are made with the load balancer, which then reads
// PENDING_CREATE until WaitLoadBalancerActive.
func (f *fakeCloud) StartLoadBalancer(_ context.Context, in openstack.LoadBalancerCreate) (openstack.LoadBalancer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("StartLoadBalancer", in.Name); err != nil {
		return openstack.LoadBalancer{}, err
	}
	lb := openstack.LoadBalancer{
		ID: f.id("lb"), Name: in.Name, Description: in.Description, VIPSubnetID: in.VIPSubnetID,
		VIPAddress: "10.9.0.200", VIPPortID: f.id("vip-port"), ProvisioningStatus: "PENDING_CREATE", OperatingStatus: "OFFLINE",
	}
	f.lbs[lb.ID] = lb
	if err := f.answer("StartLoadBalancer", in.Name); err != nil {
		return openstack.LoadBalancer{}, err
	}
	if in.Listener == nil {
		return lb, nil
	}
	li := in.Listener
	l := openstack.Listener{ID: f.id("listener"), Name: li.Name, Protocol: li.Protocol, Port: li.Port,
		TimeoutClientDataMs: li.TimeoutClientDataMs, TimeoutMemberDataMs: li.TimeoutMemberDataMs}
	if pc := li.DefaultPool; pc != nil {
		p := openstack.Pool{ID: f.id("pool"), Name: pc.Name, Protocol: pc.Protocol, LBMethod: pc.LBMethod}
		if pc.Monitor != nil {
			p.MonitorID = f.id("monitor")
		}
		l.DefaultPoolID = p.ID
		f.pools[p.ID] = p
		f.listeners[l.ID] = l
		f.lbOf[l.ID] = lb.ID
		f.pools[p.ID] = f.judgedMembers(p, pc.Members, false)
		return lb, nil
	}
	f.listeners[l.ID] = l
	f.lbOf[l.ID] = lb.ID
	return lb, nil
}

// judgedMembers gives the pool these members with their health check
// verdicts (single_writer: only the first passes, or writerName). Members keep their ids
// (Octavia matches them by address and port); with firstCheckLater a
// member new to the pool is OFFLINE until its first check, which runs
// after the next status tree read (see GetLoadBalancerStatus).
func (f *fakeCloud) judgedMembers(p openstack.Pool, specs []openstack.MemberSpec, firstCheckLater bool) openstack.Pool {
	old := map[string]openstack.Member{}
	for _, m := range p.Members {
		old[memberKey(m.Address, m.Port)] = m
	}
	p.Members = nil
	for i, s := range specs {
		status := "ONLINE"
		writer := i == 0
		if f.writerName != "" {
			writer = s.Name == f.writerName
		}
		if p.MonitorID != "" && !writer && f.singleWriter(p.ID) {
			status = "ERROR"
		}
		up := s.AdminStateUp == nil || *s.AdminStateUp
		if !up { // Octavia checks no disabled member
			status = "OFFLINE"
			f.log.add("MemberDisabled " + s.Name)
		}
		prev, known := old[memberKey(s.Address, s.Port)]
		id := prev.ID
		if !known {
			id = f.id("member")
			if firstCheckLater && up && p.MonitorID != "" {
				f.firstCheck[id] = status
				status = "OFFLINE"
			}
		} else if _, unchecked := f.firstCheck[id]; unchecked && up {
			f.firstCheck[id] = status
			status = "OFFLINE"
		}
		p.Members = append(p.Members, openstack.Member{
			ID: id, Name: s.Name, Address: s.Address, Port: s.Port, MonitorPort: s.MonitorPort, Backup: s.Backup,
			OperatingStatus: status, ProvisioningStatus: "ACTIVE", AdminStateUp: up,
		})
	}
	return p
}

// runFirstChecks gives every unchecked member its verdict, unless the
// checks are stalled; the caller holds f.mu.
func (f *fakeCloud) runFirstChecks() {
	if f.checksStalled {
		return
	}
	for id, pool := range f.pools {
		for i, m := range pool.Members {
			if verdict, ok := f.firstCheck[m.ID]; ok {
				pool.Members[i].OperatingStatus = verdict
				delete(f.firstCheck, m.ID)
			}
		}
		f.pools[id] = pool
	}
}

// GetLoadBalancerStatus is Octavia's status tree.
func (f *fakeCloud) GetLoadBalancerStatus(_ context.Context, id string) (openstack.LoadBalancerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("GetLoadBalancerStatus", id); err != nil {
		return openstack.LoadBalancerStatus{}, err
	}
	lb, ok := f.lbs[id]
	if !ok {
		return openstack.LoadBalancerStatus{}, errNotFound
	}
	st := openstack.LoadBalancerStatus{ID: lb.ID, Name: lb.Name, ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus}
	for lid, lbID := range f.lbOf {
		if lbID != id {
			continue
		}
		l := f.listeners[lid]
		ls := openstack.ListenerStatus{ID: l.ID, Name: l.Name, ProvisioningStatus: "ACTIVE", OperatingStatus: "ONLINE"}
		if p, ok := f.pools[l.DefaultPoolID]; ok {
			ps := openstack.PoolStatus{ID: p.ID, Name: p.Name, ProvisioningStatus: "ACTIVE", OperatingStatus: "ONLINE",
				Members: slices.Clone(p.Members)}
			ps.Monitor.ID = p.MonitorID
			if p.MonitorID != "" {
				ps.Monitor.Name, ps.Monitor.ProvisioningStatus = p.Name+"-monitor", "ACTIVE"
				if f.failChild == "health monitor" {
					ps.Monitor.ProvisioningStatus = "ERROR"
				}
			}
			for i, m := range ps.Members {
				if m.Name == f.failChild {
					ps.Members[i].ProvisioningStatus, ps.Members[i].OperatingStatus = "ERROR", "OFFLINE"
				}
			}
			ls.Pools = append(ls.Pools, ps)
		}
		st.Listeners = append(st.Listeners, ls)
	}
	f.runFirstChecks()
	return st, nil
}
