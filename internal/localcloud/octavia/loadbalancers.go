package octavia

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
)

// checkLB is Octavia's test of the load balancer's provisioning status
// before a child changes (MUTABLE_STATUSES = ACTIVE): ImmutableObject (409)
// otherwise. The caller holds s.mu and then sets it PENDING_UPDATE.
func checkLB(lb *loadBalancer) *apiError {
	if lb.ProvisioningStatus != active {
		return immutable(lb.ID)
	}
	return nil
}

// lbFor returns a load balancer the caller may see; the caller holds s.mu.
func (s *Service) lbFor(q *request, id string) (*loadBalancer, *apiError) {
	lb := s.lbs[id]
	if lb == nil {
		return nil, notFound(resLB, id)
	}
	if e := q.owned(&lb.meta); e != nil {
		return nil, e
	}
	return lb, nil
}

func (s *Service) createLB(q *request) *apiError {
	o, e := readBody(q.r, "loadbalancer")
	if e != nil {
		return e
	}
	if e := q.bodyProject(o); e != nil {
		return e
	}
	name, desc := o.str("name", 255), o.str("description", 255)
	admin := o.boolean("admin_state_up")
	subnetID, networkID, portID := o.uuid("vip_subnet_id"), o.uuid("vip_network_id"), o.uuid("vip_port_id")
	vip := o.ip("vip_address")
	qos := o.str("vip_qos_policy_id", 36)
	provider, flavor, az := o.str("provider", 64), o.str("flavor_id", 36), o.str("availability_zone", 255)
	tagList := o.strList("tags")
	if o.err != nil {
		return o.err
	}
	if portID != nil {
		return errorf(http.StatusBadRequest, "Port %s not found.", *portID)
	}
	if subnetID == nil && networkID == nil {
		return validation("VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")
	}
	if subnetID != nil && *subnetID != s.deps.SubnetID {
		return errorf(http.StatusBadRequest, "Subnet %s not found.", *subnetID)
	}
	if networkID != nil && *networkID != s.deps.NetworkID {
		return errorf(http.StatusBadRequest, "Network %s not found.", *networkID)
	}
	if provider != nil && *provider != "amphora" && *provider != "octavia" {
		return errorf(http.StatusBadRequest, "Provider '%s' is not enabled.", *provider)
	}
	if flavor != nil && *flavor != "" {
		return errorf(http.StatusBadRequest, "Flavor %s not found.", *flavor)
	}
	if az != nil && *az != "" {
		return errorf(http.StatusBadRequest, "Availability Zone %s not found.", *az)
	}
	var addr netip.Addr
	if vip != nil {
		addr = *vip
		if e := s.checkVIP(addr); e != nil {
			return e
		}
	}
	graph, e := s.parseTree(q, o)
	if e != nil {
		return e
	}

	id := newID()
	amp, err := s.drv.plug(q.r.Context(), id, addr)
	if err != nil {
		if errors.Is(err, errAddrInUse) {
			return errorf(http.StatusConflict, "IP address %s already allocated in subnet %s.", addr, s.deps.SubnetID)
		}
		s.logf("octavia: plug vip: %v", err)
		return errorf(http.StatusInternalServerError, "Error plugging the VIP of load balancer %s.", id)
	}
	amp.crashed = func() { s.crashed(id, amp) }
	vipPortID := newID()
	if s.deps.CreateVIPPort != nil {
		if vipPortID, err = s.deps.CreateVIPPort(id, q.project, amp.vip); err != nil {
			_ = amp.Close()
			s.logf("octavia: create vip port: %v", err)
			return errorf(http.StatusInternalServerError, "Error creating the VIP port of load balancer %s.", id)
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = amp.Close()
		s.deleteVIPPort(vipPortID)
		return errorf(http.StatusServiceUnavailable, "The service is shutting down.")
	}
	defer s.mu.Unlock()
	s.seq++
	lb := &loadBalancer{
		meta: meta{
			ID: id, ProjectID: q.project, Name: deref(name), Description: deref(desc),
			AdminStateUp: admin == nil || *admin, ProvisioningStatus: pendingCreate, op: offline,
			CreatedAt: s.now(), seq: s.seq,
		},
		VIPAddress: amp.vip.String(), VIPPortID: vipPortID,
		VIPSubnetID: s.deps.SubnetID, VIPNetworkID: s.deps.NetworkID,
		VIPQoSPolicyID: qos, Provider: "amphora", amp: amp,
	}
	if tagList != nil {
		lb.Tags = *tagList
	}
	s.lbs[id] = lb
	s.schedule(id)
	if graph.empty() {
		writeJSON(q.w, http.StatusCreated, map[string]any{"loadbalancer": s.lbView(lb)})
		return nil
	}
	s.buildTree(q, lb, graph)
	s.armChildFault(lb)
	writeJSON(q.w, http.StatusCreated, map[string]any{"loadbalancer": s.treeView(lb)})
	return nil
}

// checkVIP accepts a requested VIP only inside the subnet's host range.
func (s *Service) checkVIP(a netip.Addr) *apiError {
	sub := s.drv.subnet()
	if !sub.Contains(a) || a == sub.Masked().Addr() || (a.Is4() && a.As4()[3] == 255) ||
		(s.deps.Network != nil && a == s.deps.Network.Gateway()) {
		return validation("IP address %s is not a valid address in subnet %s (%s).", a, s.deps.SubnetID, sub)
	}
	return nil
}

func (s *Service) showLB(q *request, id string) *apiError {
	s.refresh(q.r.Context(), id)
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, id)
	if e != nil {
		return e
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"loadbalancer": s.lbView(lb)})
	return nil
}

// visible returns the ids of the caller's objects in creation order.
func visible[T any](q *request, objs map[string]*T, m func(*T) *meta) []*T {
	var out []*T
	for _, o := range objs {
		if m(o).ProjectID == q.project {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *T) int { return int(m(a).seq - m(b).seq) })
	return out
}

func (s *Service) projectLBs(q *request) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, lb := range s.lbs {
		if lb.ProjectID == q.project {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *Service) listLBs(q *request) *apiError {
	s.refresh(q.r.Context(), s.projectLBs(q)...)
	s.mu.Lock()
	var views []map[string]any
	for _, lb := range visible(q, s.lbs, func(l *loadBalancer) *meta { return &l.meta }) {
		views = append(views, s.lbView(lb))
	}
	s.mu.Unlock()
	return writeList(q, "loadbalancers", views)
}

func (s *Service) updateLB(q *request, id string) *apiError {
	o, e := readBody(q.r, "loadbalancer")
	if e != nil {
		return e
	}
	name, desc := o.str("name", 255), o.str("description", 255)
	admin := o.boolean("admin_state_up")
	qos := o.str("vip_qos_policy_id", 36)
	tagList := o.strList("tags")
	if o.err != nil {
		return o.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, id)
	if e != nil {
		return e
	}
	if lb.ProvisioningStatus != active {
		return pendingState(lb.ProvisioningStatus, lb.ID)
	}
	if name != nil {
		lb.Name = *name
	}
	if desc != nil {
		lb.Description = *desc
	}
	if admin != nil {
		lb.AdminStateUp = *admin
	}
	if o.present("vip_qos_policy_id") {
		lb.VIPQoSPolicyID = qos
	}
	if tagList != nil {
		lb.Tags = *tagList
	}
	s.touch(&lb.meta, pendingUpdate)
	s.schedule(lb.ID)
	writeJSON(q.w, http.StatusOK, map[string]any{"loadbalancer": s.lbView(lb)})
	return nil
}

func (s *Service) deleteLB(q *request, id string) *apiError {
	cascade, _ := strconv.ParseBool(q.r.URL.Query().Get("cascade"))
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, id)
	if e != nil {
		return e
	}
	if lb.ProvisioningStatus != active && lb.ProvisioningStatus != provError {
		return pendingState(lb.ProvisioningStatus, lb.ID)
	}
	if !cascade && (len(lb.Listeners) > 0 || len(lb.Pools) > 0) {
		return validation("Cannot delete Load Balancer %s - it has children", lb.ID)
	}
	lb.ProvisioningStatus = pendingDelete
	for _, lid := range lb.Listeners {
		if l := s.listeners[lid]; l != nil {
			l.ProvisioningStatus = pendingDelete
		}
	}
	for _, pid := range lb.Pools {
		p := s.pools[pid]
		if p == nil {
			continue
		}
		p.ProvisioningStatus = pendingDelete
		for _, mid := range p.Members {
			if m := s.members[mid]; m != nil {
				m.ProvisioningStatus = pendingDelete
			}
		}
		if hm := s.monitors[p.MonitorID]; hm != nil {
			hm.ProvisioningStatus = pendingDelete
		}
	}
	s.schedule(lb.ID)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) failoverLB(q *request, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, id)
	if e != nil {
		return e
	}
	if lb.ProvisioningStatus != active {
		return pendingState(lb.ProvisioningStatus, lb.ID)
	}
	s.touch(&lb.meta, pendingUpdate)
	s.schedule(lb.ID)
	q.w.WriteHeader(http.StatusAccepted)
	return nil
}

// statusTree is GET /loadbalancers/{id}/status. The monitor's key is
// "health_monitor", as a real Octavia sends it (the api-ref sample and
// gophercloud say "healthmonitor").
func (s *Service) statusTree(q *request, id string) *apiError {
	s.refresh(q.r.Context(), id)
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, id)
	if e != nil {
		return e
	}
	poolStatus := func(p *pool) map[string]any {
		hmStatus := map[string]any{}
		if hm := s.monitors[p.MonitorID]; hm != nil {
			hmStatus = map[string]any{
				"id": hm.ID, "name": hm.Name, "type": hm.Type,
				"provisioning_status": hm.ProvisioningStatus, "operating_status": monitorOp(hm),
			}
		}
		members := []map[string]any{}
		for _, mid := range p.Members {
			if m := s.members[mid]; m != nil {
				members = append(members, map[string]any{
					"id": m.ID, "name": m.Name, "address": m.Address, "protocol_port": m.Port,
					"provisioning_status": m.ProvisioningStatus, "operating_status": s.memberOp(lb, p, m),
				})
			}
		}
		return map[string]any{
			"id": p.ID, "name": p.Name,
			"provisioning_status": p.ProvisioningStatus, "operating_status": s.poolOp(lb, p),
			"health_monitor": hmStatus, "members": members,
		}
	}
	listeners := []map[string]any{}
	for _, lid := range lb.Listeners {
		l := s.listeners[lid]
		if l == nil {
			continue
		}
		pools := []map[string]any{}
		if p := s.pools[l.DefaultPoolID]; p != nil {
			pools = append(pools, poolStatus(p))
		}
		listeners = append(listeners, map[string]any{
			"id": l.ID, "name": l.Name,
			"provisioning_status": l.ProvisioningStatus, "operating_status": s.listenerOp(lb, l),
			"pools": pools, "l7policies": []any{},
		})
	}
	pools := []map[string]any{}
	for _, pid := range lb.Pools {
		if p := s.pools[pid]; p != nil {
			pools = append(pools, poolStatus(p))
		}
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"statuses": map[string]any{"loadbalancer": map[string]any{
		"id": lb.ID, "name": lb.Name,
		"provisioning_status": lb.ProvisioningStatus, "operating_status": s.lbOp(lb),
		"listeners": listeners, "pools": pools,
	}}})
	return nil
}

func statsBody(fs ...frontendCounters) map[string]any {
	var sum frontendCounters
	for _, f := range fs {
		sum.cur += f.cur
		sum.total += f.total
		sum.reqErrs += f.reqErrs
		sum.in += f.in
		sum.out += f.out
	}
	return map[string]any{"stats": map[string]any{
		"active_connections": sum.cur, "total_connections": sum.total,
		"bytes_in": sum.in, "bytes_out": sum.out, "request_errors": sum.reqErrs,
	}}
}

// lbStats is GET /loadbalancers/{id}/stats, summed over the listeners'
// frontends (counters restart when HAProxy reloads).
func (s *Service) lbStats(q *request, id string) *apiError {
	s.refresh(q.r.Context(), id)
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, id)
	if e != nil {
		return e
	}
	var fs []frontendCounters
	for _, lid := range lb.Listeners {
		fs = append(fs, lb.frontend[lid])
	}
	writeJSON(q.w, http.StatusOK, statsBody(fs...))
	return nil
}

// nonEmptyList reports whether a body field holds a non-empty JSON array.
func nonEmptyList(o *object, k string) bool {
	v, ok := o.fields[k]
	if !ok {
		return false
	}
	var l []json.RawMessage
	return json.Unmarshal(v, &l) == nil && len(l) > 0
}
