package octavia

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
)

// touch marks an object changed.
func (s *Service) touch(m *meta, status string) {
	m.ProvisioningStatus = status
	m.failing = false // changed again: configured anew
	m.UpdatedAt = s.now()
}

// listenersOfPool are the listeners that use a pool as default pool.
func (s *Service) listenersOfPool(p *pool) []*listener {
	var out []*listener
	lb := s.lbs[p.LBID]
	if lb == nil {
		return nil
	}
	for _, id := range lb.Listeners {
		if l := s.listeners[id]; l != nil && l.DefaultPoolID == p.ID {
			out = append(out, l)
		}
	}
	return out
}

// markPoolParents puts the listeners of a pool to PENDING_UPDATE, as
// Octavia's _test_lb_and_listener_statuses does.
func (s *Service) markPoolParents(p *pool) {
	for _, l := range s.listenersOfPool(p) {
		if l.ProvisioningStatus == active {
			l.ProvisioningStatus = pendingUpdate
		}
	}
}

// schedule applies the load balancer's pending change after the transition
// delay. The caller holds s.mu and has put the load balancer in PENDING_*.
func (s *Service) schedule(lbID string) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.deps.TransitionDelay):
		case <-s.ctx.Done():
			return
		}
		s.apply(lbID)
	}()
}

// crashed is the health manager: after FailoverAfter, an ACTIVE load
// balancer whose HAProxy died fails over.
func (s *Service) crashed(lbID string, amp *amphora) {
	s.logf("octavia: haproxy of load balancer %s exited", lbID)
	if s.deps.FailoverAfter <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(s.deps.FailoverAfter):
		case <-s.ctx.Done():
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		lb := s.lbs[lbID]
		if lb == nil || lb.amp != amp || lb.ProvisioningStatus != active {
			return // gone, or a pending change restarts it anyway
		}
		s.touch(&lb.meta, pendingUpdate)
		s.schedule(lbID)
	}()
}

// apply makes HAProxy match the model, then settles every PENDING_* object
// of the load balancer: to ACTIVE, ERROR, or gone after a delete.
func (s *Service) apply(lbID string) {
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	s.mu.Lock()
	lb := s.lbs[lbID]
	if lb == nil {
		s.mu.Unlock()
		return
	}
	amp := lb.amp
	status := lb.ProvisioningStatus
	cfg := s.haproxyModel(lb)
	s.mu.Unlock()

	if status == pendingDelete {
		if amp != nil {
			if err := amp.Close(); err != nil {
				s.logf("octavia: delete load balancer %s: %v", lbID, err)
			}
		}
		// The port goes before the load balancer leaves the list, so a
		// "nothing left" check never sees a port without its load balancer.
		s.deleteVIPPort(lb.VIPPortID)
		s.mu.Lock()
		s.forgetLB(lb)
		s.mu.Unlock()
		return
	}
	var err error
	if amp == nil {
		err = errNotRunning
	} else {
		err = amp.Apply(ctx, cfg)
	}
	if err != nil {
		s.logf("octavia: apply load balancer %s: %v", lbID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lbs[lbID] != lb {
		return
	}
	s.settle(lb, status, err)
}

// settle ends a transition. Octavia's flows revert a failed child change
// with the child in ERROR and the load balancer back to ACTIVE; a failed
// create leaves the load balancer in ERROR.
func (s *Service) settle(lb *loadBalancer, status string, err error) {
	done := func(m *meta) {
		switch m.ProvisioningStatus {
		case pendingCreate, pendingUpdate:
			if err != nil || m.failing {
				m.ProvisioningStatus = provError
			} else {
				m.ProvisioningStatus = active
			}
		}
	}
	for _, lid := range append([]string(nil), lb.Listeners...) {
		if l := s.listeners[lid]; l != nil {
			if l.ProvisioningStatus == pendingDelete && err == nil {
				s.forgetListener(lb, l)
				continue
			}
			if l.ProvisioningStatus == pendingDelete {
				l.ProvisioningStatus = provError
			}
			done(&l.meta)
		}
	}
	for _, pid := range append([]string(nil), lb.Pools...) {
		p := s.pools[pid]
		if p == nil {
			continue
		}
		if p.ProvisioningStatus == pendingDelete && err == nil {
			s.forgetPool(lb, p)
			continue
		}
		for _, mid := range append([]string(nil), p.Members...) {
			m := s.members[mid]
			if m == nil {
				continue
			}
			if m.ProvisioningStatus == pendingDelete && err == nil {
				s.forgetMember(p, m)
				continue
			}
			if m.ProvisioningStatus == pendingDelete {
				m.ProvisioningStatus = provError
			}
			done(&m.meta)
		}
		if hm := s.monitors[p.MonitorID]; hm != nil {
			if hm.ProvisioningStatus == pendingDelete && err == nil {
				delete(s.monitors, hm.ID)
				p.MonitorID = ""
			} else {
				if hm.ProvisioningStatus == pendingDelete {
					hm.ProvisioningStatus = provError
				}
				done(&hm.meta)
			}
		}
		if p.ProvisioningStatus == pendingDelete {
			p.ProvisioningStatus = provError
		}
		done(&p.meta)
	}
	if status == pendingCreate && err != nil {
		lb.ProvisioningStatus = provError
		lb.op = opError
		return
	}
	if lb.ProvisioningStatus == pendingCreate || lb.ProvisioningStatus == pendingUpdate {
		lb.ProvisioningStatus = active
	}
	lb.statsAt = time.Time{} // read fresh statuses next time
}

func (s *Service) forgetLB(lb *loadBalancer) {
	for _, pid := range lb.Pools {
		if p := s.pools[pid]; p != nil {
			s.forgetPool(lb, p)
		}
	}
	for _, lid := range lb.Listeners {
		delete(s.listeners, lid)
	}
	delete(s.lbs, lb.ID)
}

func (s *Service) forgetListener(lb *loadBalancer, l *listener) {
	delete(s.listeners, l.ID)
	lb.Listeners = remove(lb.Listeners, l.ID)
}

func (s *Service) forgetPool(lb *loadBalancer, p *pool) {
	for _, mid := range p.Members {
		delete(s.members, mid)
	}
	if p.MonitorID != "" {
		delete(s.monitors, p.MonitorID)
	}
	for _, lid := range lb.Listeners {
		if l := s.listeners[lid]; l != nil && l.DefaultPoolID == p.ID {
			l.DefaultPoolID = ""
		}
	}
	delete(s.pools, p.ID)
	lb.Pools = remove(lb.Pools, p.ID)
}

func (s *Service) forgetMember(p *pool, m *member) {
	delete(s.members, m.ID)
	p.Members = remove(p.Members, m.ID)
}

func remove(ids []string, id string) []string {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// haproxyModel is what HAProxy should run for lb: everything but objects
// being deleted (Octavia's jinja_cfg skips PENDING_DELETE the same way).
func (s *Service) haproxyModel(lb *loadBalancer) haproxy.LoadBalancer {
	out := haproxy.LoadBalancer{ID: lb.ID, Enabled: lb.AdminStateUp}
	for _, lid := range lb.Listeners {
		l := s.listeners[lid]
		if l == nil || l.ProvisioningStatus == pendingDelete {
			continue
		}
		hl := haproxy.Listener{
			ID: l.ID, Protocol: l.Protocol, Port: l.Port, Enabled: l.AdminStateUp,
			ConnectionLimit:      l.ConnectionLimit,
			TimeoutClientData:    l.TimeoutClientData,
			TimeoutMemberConnect: l.TimeoutMemberConnect,
			TimeoutMemberData:    l.TimeoutMemberData,
			TimeoutTCPInspect:    l.TimeoutTCPInspect,
			AllowedCIDRs:         l.AllowedCIDRs,
		}
		if p := s.pools[l.DefaultPoolID]; p != nil && p.ProvisioningStatus != pendingDelete {
			hl.DefaultPool = s.haproxyPool(p)
		}
		out.Listeners = append(out.Listeners, hl)
	}
	return out
}

func (s *Service) haproxyPool(p *pool) *haproxy.Pool {
	hp := &haproxy.Pool{ID: p.ID, Protocol: p.Protocol, Algorithm: p.Algorithm, Enabled: p.AdminStateUp}
	if p.Persistence != nil {
		hp.SessionPersistence = p.Persistence.Type
		hp.CookieName = p.Persistence.CookieName
	}
	if hm := s.monitors[p.MonitorID]; hm != nil && hm.ProvisioningStatus != pendingDelete && !hm.failing {
		hp.Monitor = &haproxy.Monitor{
			Type: hm.Type, Delay: hm.Delay, Timeout: hm.Timeout,
			MaxRetries: hm.MaxRetries, MaxRetriesDown: hm.MaxRetriesDown,
			HTTPMethod: deref(hm.HTTPMethod), URLPath: deref(hm.URLPath),
			ExpectedCodes: deref(hm.ExpectedCodes), DomainName: deref(hm.DomainName),
			Enabled: hm.AdminStateUp,
		}
		if hm.HTTPVersion != nil {
			if *hm.HTTPVersion == 1.1 {
				hp.Monitor.HTTPVersion = "1.1"
			} else {
				hp.Monitor.HTTPVersion = "1.0"
			}
		}
	}
	for _, mid := range p.Members {
		m := s.members[mid]
		if m == nil || m.ProvisioningStatus == pendingDelete || m.failing {
			continue
		}
		hm := haproxy.Member{
			ID: m.ID, Address: m.Address, Port: m.Port, Weight: m.Weight,
			Backup: m.Backup, Enabled: m.AdminStateUp, MonitorAddress: deref(m.MonitorAddress),
		}
		if m.MonitorPort != nil {
			hm.MonitorPort = *m.MonitorPort
		}
		hp.Members = append(hp.Members, hm)
	}
	return hp
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// refresh reads HAProxy's statistics of the given load balancers, at most
// every 250 ms each. It must be called without s.mu held.
func (s *Service) refresh(ctx context.Context, lbIDs ...string) {
	type job struct {
		lb  *loadBalancer
		amp *amphora
	}
	var jobs []job
	s.mu.Lock()
	for _, id := range lbIDs {
		if lb := s.lbs[id]; lb != nil && lb.amp != nil && time.Since(lb.statsAt) > 250*time.Millisecond {
			jobs = append(jobs, job{lb, lb.amp})
		}
	}
	s.mu.Unlock()
	for _, j := range jobs {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		rows, err := j.amp.Stats(ctx)
		cancel()
		statuses := map[string]string{}
		fronts := map[string]frontendCounters{}
		for _, r := range rows {
			st := r.Status
			// Before its first check HAProxy calls a server UP; Octavia's
			// answer would be ONLINE for a member nobody has checked yet.
			// Keep the last known status instead (OFFLINE for a new member).
			if r.CheckStatus == "INI" && strings.HasPrefix(st, "UP") {
				st = "INI"
			}
			statuses[r.Proxy+"/"+r.Server] = st
			if r.Server == "FRONTEND" {
				fronts[r.Proxy] = frontendCounters{cur: r.CurrentConn, total: r.TotalConn, reqErrs: r.RequestErrs, in: r.BytesIn, out: r.BytesOut}
			}
		}
		s.mu.Lock()
		j.lb.stats, j.lb.frontend, j.lb.statsErr, j.lb.statsAt = statuses, fronts, err, time.Now()
		s.mu.Unlock()
	}
}

// memberOp maps HAProxy's server status to Octavia's member operating
// status, as the amphora health daemon and update_db do.
func memberOp(status string) string {
	switch {
	case status == "UP" || strings.HasPrefix(status, "UP "):
		return online // "UP 1/3": up, failing checks but not yet down
	case status == "DOWN" || strings.HasPrefix(status, "DOWN "):
		return opError
	case status == "MAINT" || strings.HasPrefix(status, "MAINT"):
		return offline
	case status == "DRAIN" || status == "NOLB":
		return draining
	case status == "no check":
		return noMonitor
	}
	return ""
}

// The *Op functions compute operating statuses; the caller holds s.mu and
// has called refresh for the load balancer.

func (s *Service) lbOp(lb *loadBalancer) string {
	switch {
	case lb.ProvisioningStatus == pendingCreate:
		return offline
	case !lb.AdminStateUp:
		return offline
	case errors.Is(lb.statsErr, errNotRunning) && !lb.pending():
		return opError // HAProxy died: nothing answers on the VIP
	case lb.statsErr != nil || lb.stats == nil:
		if lb.op != "" {
			return lb.op
		}
		return offline
	}
	op := online
	n, errs := 0, 0
	for _, lid := range lb.Listeners {
		l := s.listeners[lid]
		if l == nil || !l.AdminStateUp || l.ProvisioningStatus == pendingCreate {
			continue
		}
		n++
		switch s.listenerOp(lb, l) {
		case opError:
			errs++
			op = degraded
		case degraded:
			op = degraded
		}
	}
	if n > 0 && errs == n {
		op = opError
	}
	lb.op = op
	return op
}

func (s *Service) listenerOp(lb *loadBalancer, l *listener) string {
	if !lb.AdminStateUp || !l.AdminStateUp || l.ProvisioningStatus == pendingCreate {
		return offline
	}
	st, ok := lb.stats[l.ID+"/FRONTEND"]
	if !ok {
		if l.op != "" {
			return l.op
		}
		return offline
	}
	op := offline
	switch st {
	case "OPEN":
		op = online
	case "FULL":
		op = degraded
	}
	if p := s.pools[l.DefaultPoolID]; p != nil && op == online {
		switch s.poolOp(lb, p) {
		case opError:
			op = opError
		case degraded:
			op = degraded
		}
	}
	l.op = op
	return op
}

// backendsOf are the HAProxy backends a pool is rendered as.
func (s *Service) backendsOf(lb *loadBalancer, p *pool) []string {
	if !lb.AdminStateUp || !p.AdminStateUp {
		return nil
	}
	var out []string
	for _, l := range s.listenersOfPool(p) {
		if l.AdminStateUp {
			out = append(out, haproxy.BackendName(p.ID, l.ID))
		}
	}
	return out
}

func (s *Service) poolOp(lb *loadBalancer, p *pool) string {
	backends := s.backendsOf(lb, p)
	if len(backends) == 0 || p.ProvisioningStatus == pendingCreate {
		return offline
	}
	st, ok := lb.stats[backends[0]+"/BACKEND"]
	if !ok {
		if p.op != "" {
			return p.op
		}
		return offline
	}
	op := online
	if st != "UP" && len(p.Members) > 0 {
		op = opError
	}
	if op == online {
		for _, mid := range p.Members {
			if m := s.members[mid]; m != nil && s.memberOp(lb, p, m) == opError {
				op = degraded
				break
			}
		}
	}
	p.op = op
	return op
}

func (s *Service) memberOp(lb *loadBalancer, p *pool, m *member) string {
	if !m.AdminStateUp || m.ProvisioningStatus == pendingCreate {
		return offline
	}
	backends := s.backendsOf(lb, p)
	if len(backends) == 0 {
		return offline
	}
	op := ""
	for _, b := range backends {
		if st, ok := lb.stats[b+"/"+m.ID]; ok {
			if o := memberOp(st); o != "" && (op == "" || o == opError) {
				op = o
			}
		}
	}
	if op == "" {
		if m.op != "" {
			return m.op
		}
		return offline
	}
	m.op = op
	return op
}

func monitorOp(hm *monitor) string {
	if hm.AdminStateUp && !hm.failing {
		return online
	}
	return offline
}
