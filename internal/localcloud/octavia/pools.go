package octavia

import (
	"net/http"
	"slices"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
)

var (
	poolProtocols      = []string{"HTTP", "HTTPS", "PROXY", "PROXYV2", "SCTP", "TCP", "UDP"}
	supportedPoolProto = []string{haproxy.ProtocolHTTP, haproxy.ProtocolHTTPS, haproxy.ProtocolProxy, haproxy.ProtocolTCP}
	algorithms         = []string{"LEAST_CONNECTIONS", "ROUND_ROBIN", "SOURCE_IP", "SOURCE_IP_PORT"}
	persistenceTypes   = []string{"APP_COOKIE", "HTTP_COOKIE", "SOURCE_IP"}
)

func (s *Service) poolFor(q *request, id string) (*pool, *loadBalancer, *apiError) {
	p := s.pools[id]
	if p == nil {
		return nil, nil, notFound(resPool, id)
	}
	if e := q.owned(&p.meta); e != nil {
		return nil, nil, e
	}
	return p, s.lbs[p.LBID], nil
}

type poolFields struct {
	name, desc, algorithm *string
	admin                 *bool
	persistence           *sessionPersistence
	clearPersistence      bool
	tagList               *[]string
}

func readPoolFields(o *object) poolFields {
	f := poolFields{
		name: o.str("name", 255), desc: o.str("description", 255), admin: o.boolean("admin_state_up"),
		algorithm: o.enum("lb_algorithm", algorithms...),
		tagList:   o.strList("tags"),
	}
	if f.algorithm != nil && *f.algorithm == "SOURCE_IP_PORT" {
		o.fail(errorf(http.StatusBadRequest, "Provider 'amphora' does not support a requested option: Load balancing algorithm SOURCE_IP_PORT is not supported"))
	}
	if raw, ok := o.value("session_persistence"); ok {
		sp := newObject(raw, "session_persistence")
		sp.require("type")
		t := sp.enum("type", persistenceTypes...)
		cookie := sp.str("cookie_name", 255)
		if sp.err != nil {
			o.fail(sp.err)
		} else {
			switch {
			case *t == haproxy.PersistenceAppCookie && cookie == nil:
				o.fail(validation("Field cookie_name must be specified when using the APP_COOKIE session persistence type."))
			case *t != haproxy.PersistenceAppCookie && cookie != nil:
				o.fail(validation("Field cookie_name can only be specified with session persistence of type APP_COOKIE."))
			}
			f.persistence = &sessionPersistence{Type: *t, CookieName: deref(cookie)}
		}
	} else if o.isNull("session_persistence") {
		f.clearPersistence = true
	}
	if tls := o.boolean("tls_enabled"); tls != nil && *tls {
		o.fail(validation("tls_enabled: TLS to members is not supported by this local cloud"))
	}
	for _, k := range []string{"tls_container_ref", "ca_tls_container_ref", "crl_container_ref"} {
		if _, ok := o.value(k); ok {
			o.fail(validation("%s: TLS to members is not supported by this local cloud", k))
		}
	}
	return f
}

// persistenceOK checks a persistence type against the pool protocol.
func persistenceOK(sp *sessionPersistence, protocol string) *apiError {
	if sp != nil && sp.Type != haproxy.PersistenceSourceIP && protocol != haproxy.ProtocolHTTP {
		return validation("Session persistence of type %s is not compatible with protocol %s.", sp.Type, protocol)
	}
	return nil
}

// parsePool reads and checks the attributes of a new pool.
func parsePool(o *object) (*string, poolFields, *apiError) {
	o.require("lb_algorithm")
	o.require("protocol")
	protocol := o.enum("protocol", poolProtocols...)
	f := readPoolFields(o)
	if o.err != nil {
		return nil, f, o.err
	}
	if !slices.Contains(supportedPoolProto, *protocol) {
		return nil, f, validation("pool protocol %s is not supported by this local cloud (supported: TCP, HTTP, HTTPS, PROXY)", *protocol)
	}
	if e := persistenceOK(f.persistence, *protocol); e != nil {
		return nil, f, e
	}
	return protocol, f, nil
}

func (s *Service) createPool(q *request) *apiError {
	o, e := readBody(q.r, "pool")
	if e != nil {
		return e
	}
	if e := q.bodyProject(o); e != nil {
		return e
	}
	lbID, listenerID := o.uuid("loadbalancer_id"), o.uuid("listener_id")
	if nonEmptyList(o, "members") || o.present("healthmonitor") && !o.isNull("healthmonitor") {
		return validation("members and healthmonitor can be created with a pool only within a load balancer create (single-call create)")
	}
	protocol, f, e := parsePool(o)
	if e != nil {
		return e
	}
	if lbID == nil && listenerID == nil {
		return validation("Either loadbalancer_id or listener_id must be specified.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var lb *loadBalancer
	var l *listener
	if listenerID != nil {
		if l, lb, e = s.listenerFor(q, *listenerID); e != nil {
			return e
		}
		if lbID != nil && *lbID != lb.ID {
			return validation("Listener %s does not belong to Load Balancer %s.", l.ID, *lbID)
		}
		if !slices.Contains(poolProtocolsFor[l.Protocol], *protocol) {
			return validation("The pool protocol '%s' is invalid while the listener protocol is '%s'.", *protocol, l.Protocol)
		}
	} else if lb, e = s.lbFor(q, *lbID); e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	if l != nil && l.DefaultPoolID != "" {
		return errorf(http.StatusConflict, "Listener %s already has a default pool", l.ID)
	}
	p := s.addPool(q, lb, *protocol, f)
	if l != nil {
		l.DefaultPoolID = p.ID
		l.ProvisioningStatus = pendingUpdate
	}
	lb.ProvisioningStatus = pendingUpdate
	s.schedule(lb.ID)
	writeJSON(q.w, http.StatusCreated, map[string]any{"pool": s.poolView(p)})
	return nil
}

// addPool records a new pool (PENDING_CREATE); the caller holds s.mu.
func (s *Service) addPool(q *request, lb *loadBalancer, protocol string, f poolFields) *pool {
	s.seq++
	p := &pool{
		meta: meta{ID: newID(), ProjectID: q.project, AdminStateUp: true, ProvisioningStatus: pendingCreate,
			op: offline, CreatedAt: s.now(), seq: s.seq},
		LBID: lb.ID, Protocol: protocol, Algorithm: *f.algorithm,
	}
	applyPoolFields(p, f)
	s.pools[p.ID] = p
	lb.Pools = append(lb.Pools, p.ID)
	return p
}

func applyPoolFields(p *pool, f poolFields) {
	if f.name != nil {
		p.Name = *f.name
	}
	if f.desc != nil {
		p.Description = *f.desc
	}
	if f.admin != nil {
		p.AdminStateUp = *f.admin
	}
	if f.algorithm != nil {
		p.Algorithm = *f.algorithm
	}
	if f.persistence != nil {
		p.Persistence = f.persistence
	} else if f.clearPersistence {
		p.Persistence = nil
	}
	if f.tagList != nil {
		p.Tags = *f.tagList
	}
}

func (s *Service) lbOfPool(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pools[id]; p != nil {
		return p.LBID
	}
	return ""
}

func (s *Service) showPool(q *request, id string) *apiError {
	s.refresh(q.r.Context(), s.lbOfPool(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	p, _, e := s.poolFor(q, id)
	if e != nil {
		return e
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"pool": s.poolView(p)})
	return nil
}

func (s *Service) listPools(q *request) *apiError {
	s.refresh(q.r.Context(), s.projectLBs(q)...)
	s.mu.Lock()
	var views []map[string]any
	for _, p := range visible(q, s.pools, func(p *pool) *meta { return &p.meta }) {
		v := s.poolView(p)
		v["loadbalancer_id"] = p.LBID
		views = append(views, v)
	}
	s.mu.Unlock()
	return writeList(q, "pools", views, "loadbalancer_id")
}

// markPoolChange puts a pool, its listeners and its load balancer to
// PENDING_UPDATE; the caller holds s.mu and has checked the load balancer.
func (s *Service) markPoolChange(lb *loadBalancer, p *pool) {
	if p.ProvisioningStatus != pendingCreate {
		s.touch(&p.meta, pendingUpdate)
	}
	s.markPoolParents(p)
	lb.ProvisioningStatus = pendingUpdate
	s.schedule(lb.ID)
}

func (s *Service) updatePool(q *request, id string) *apiError {
	o, e := readBody(q.r, "pool")
	if e != nil {
		return e
	}
	f := readPoolFields(o)
	if o.err != nil {
		return o.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, lb, e := s.poolFor(q, id)
	if e != nil {
		return e
	}
	if e := persistenceOK(f.persistence, p.Protocol); e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	applyPoolFields(p, f)
	s.markPoolChange(lb, p)
	writeJSON(q.w, http.StatusOK, map[string]any{"pool": s.poolView(p)})
	return nil
}

func (s *Service) deletePool(q *request, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, lb, e := s.poolFor(q, id)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	s.markPoolParents(p)
	p.ProvisioningStatus = pendingDelete
	for _, mid := range p.Members {
		if m := s.members[mid]; m != nil {
			m.ProvisioningStatus = pendingDelete
		}
	}
	if hm := s.monitors[p.MonitorID]; hm != nil {
		hm.ProvisioningStatus = pendingDelete
	}
	lb.ProvisioningStatus = pendingUpdate
	s.schedule(lb.ID)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
