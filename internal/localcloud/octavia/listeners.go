package octavia

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
)

var listenerProtocols = []string{"HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS"}

// supportedListenerProtocols are the ones this cloud's HAProxy renders.
var supportedListenerProtocols = []string{haproxy.ProtocolHTTP, haproxy.ProtocolHTTPS, haproxy.ProtocolTCP}

// poolProtocolsFor is Octavia's VALID_LISTENER_POOL_PROTOCOL_MAP (the part
// this cloud supports).
var poolProtocolsFor = map[string][]string{
	haproxy.ProtocolTCP:   {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
	haproxy.ProtocolHTTP:  {"HTTP", "PROXY", "PROXYV2"},
	haproxy.ProtocolHTTPS: {"HTTPS", "PROXY", "PROXYV2", "TCP"},
}

const maxTimeout = 24 * 60 * 60 * 1000 * 7 // ms, Octavia's MAX_TIMEOUT

func (s *Service) listenerFor(q *request, id string) (*listener, *loadBalancer, *apiError) {
	l := s.listeners[id]
	if l == nil {
		return nil, nil, notFound(resListener, id)
	}
	if e := q.owned(&l.meta); e != nil {
		return nil, nil, e
	}
	return l, s.lbs[l.LBID], nil
}

// listenerFields are the attributes a create or update may set.
type listenerFields struct {
	name, desc                           *string
	admin                                *bool
	connLimit                            *int
	defaultPoolID                        *string
	tClient, tConnect, tMember, tInspect *int
	headers                              *map[string]string
	cidrs, tagList                       *[]string
}

func readListenerFields(o *object) listenerFields {
	f := listenerFields{
		name: o.str("name", 255), desc: o.str("description", 255), admin: o.boolean("admin_state_up"),
		connLimit:     o.integer("connection_limit", -1, 1<<31-1),
		defaultPoolID: o.uuid("default_pool_id"),
		tClient:       o.integer("timeout_client_data", 0, maxTimeout),
		tConnect:      o.integer("timeout_member_connect", 0, maxTimeout),
		tMember:       o.integer("timeout_member_data", 0, maxTimeout),
		tInspect:      o.integer("timeout_tcp_inspect", 0, maxTimeout),
		headers:       o.strMap("insert_headers"),
		cidrs:         o.strList("allowed_cidrs"),
		tagList:       o.strList("tags"),
	}
	if f.cidrs != nil {
		for _, c := range *f.cidrs {
			if _, err := netip.ParsePrefix(c); err != nil {
				o.fail(invalidInput("allowed_cidrs", c, "Value should be a valid CIDR"))
			}
		}
	}
	for _, k := range []string{"default_tls_container_ref", "client_ca_tls_container_ref", "client_crl_container_ref"} {
		if _, ok := o.value(k); ok {
			o.fail(validation("%s: TLS termination is not supported by this local cloud", k))
		}
	}
	if nonEmptyList(o, "l7policies") {
		o.fail(validation("l7policies are not supported by this local cloud"))
	}
	return f
}

// setDefaultPool checks that a pool can be the listener's default pool.
func (s *Service) defaultPoolOK(q *request, lb *loadBalancer, protocol, poolID string) *apiError {
	p := s.pools[poolID]
	if p == nil || p.LBID != lb.ID {
		return notFound(resPool, poolID)
	}
	if e := q.owned(&p.meta); e != nil {
		return e
	}
	if !slices.Contains(poolProtocolsFor[protocol], p.Protocol) {
		return validation("The pool protocol '%s' is invalid while the listener protocol is '%s'.", p.Protocol, protocol)
	}
	return nil
}

// parseListener reads and checks a new listener's attributes.
func parseListener(o *object) (*string, *int, listenerFields, *apiError) {
	o.require("protocol")
	o.require("protocol_port")
	protocol := o.enum("protocol", listenerProtocols...)
	port := o.integer("protocol_port", 1, 65535)
	f := readListenerFields(o)
	if o.err != nil {
		return nil, nil, f, o.err
	}
	if !slices.Contains(supportedListenerProtocols, *protocol) {
		return nil, nil, f, validation("listener protocol %s is not supported by this local cloud (supported: TCP, HTTP, HTTPS)", *protocol)
	}
	return protocol, port, f, nil
}

func (s *Service) createListener(q *request) *apiError {
	o, e := readBody(q.r, "listener")
	if e != nil {
		return e
	}
	if e := q.bodyProject(o); e != nil {
		return e
	}
	o.require("loadbalancer_id")
	lbID := o.uuid("loadbalancer_id")
	if _, ok := o.value("default_pool"); ok {
		o.fail(validation("default_pool: a pool can be created with the listener only within a load balancer create (single-call create)"))
	}
	protocol, port, f, e := parseListener(o)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, e := s.lbFor(q, *lbID)
	if e != nil {
		return e
	}
	if f.defaultPoolID != nil {
		if e := s.defaultPoolOK(q, lb, *protocol, *f.defaultPoolID); e != nil {
			return e
		}
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	for _, lid := range lb.Listeners {
		if l := s.listeners[lid]; l != nil && l.Port == *port {
			return errorf(http.StatusConflict, "Another Listener on this Load Balancer is already using protocol_port %d", *port)
		}
	}
	l := s.addListener(q, lb, *protocol, *port, f, o)
	lb.ProvisioningStatus = pendingUpdate
	s.schedule(lb.ID)
	writeJSON(q.w, http.StatusCreated, map[string]any{"listener": s.listenerView(l)})
	return nil
}

// addListener records a new listener (PENDING_CREATE) with Octavia's
// defaults and f applied; the caller holds s.mu.
func (s *Service) addListener(q *request, lb *loadBalancer, protocol string, port int, f listenerFields, o *object) *listener {
	s.seq++
	l := &listener{
		meta: meta{ID: newID(), ProjectID: q.project, AdminStateUp: true, ProvisioningStatus: pendingCreate,
			op: offline, CreatedAt: s.now(), seq: s.seq},
		LBID: lb.ID, Protocol: protocol, Port: port, ConnectionLimit: -1,
		TimeoutClientData: haproxy.DefaultTimeoutClientData, TimeoutMemberConnect: haproxy.DefaultTimeoutMemberConnect,
		TimeoutMemberData: haproxy.DefaultTimeoutMemberData,
	}
	applyListenerFields(l, f, o)
	s.listeners[l.ID] = l
	lb.Listeners = append(lb.Listeners, l.ID)
	return l
}

func applyListenerFields(l *listener, f listenerFields, o *object) {
	if f.name != nil {
		l.Name = *f.name
	}
	if f.desc != nil {
		l.Description = *f.desc
	}
	if f.admin != nil {
		l.AdminStateUp = *f.admin
	}
	if f.connLimit != nil {
		l.ConnectionLimit = *f.connLimit
	}
	if f.defaultPoolID != nil {
		l.DefaultPoolID = *f.defaultPoolID
	} else if o.isNull("default_pool_id") {
		l.DefaultPoolID = ""
	}
	// A null timeout means Octavia's default.
	timeout := func(dst *int, v *int, k string, def int) {
		if v != nil {
			*dst = *v
		} else if o.isNull(k) {
			*dst = def
		}
	}
	timeout(&l.TimeoutClientData, f.tClient, "timeout_client_data", haproxy.DefaultTimeoutClientData)
	timeout(&l.TimeoutMemberConnect, f.tConnect, "timeout_member_connect", haproxy.DefaultTimeoutMemberConnect)
	timeout(&l.TimeoutMemberData, f.tMember, "timeout_member_data", haproxy.DefaultTimeoutMemberData)
	timeout(&l.TimeoutTCPInspect, f.tInspect, "timeout_tcp_inspect", 0)
	if f.headers != nil {
		l.InsertHeaders = *f.headers
	}
	if f.cidrs != nil {
		l.AllowedCIDRs = *f.cidrs
	} else if o.isNull("allowed_cidrs") {
		l.AllowedCIDRs = nil
	}
	if f.tagList != nil {
		l.Tags = *f.tagList
	}
}

func (s *Service) showListener(q *request, id string) *apiError {
	s.mu.Lock()
	l := s.listeners[id]
	s.mu.Unlock()
	if l != nil {
		s.refresh(q.r.Context(), l.LBID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, _, e := s.listenerFor(q, id)
	if e != nil {
		return e
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"listener": s.listenerView(l)})
	return nil
}

func (s *Service) listListeners(q *request) *apiError {
	s.refresh(q.r.Context(), s.projectLBs(q)...)
	s.mu.Lock()
	var views []map[string]any
	for _, l := range visible(q, s.listeners, func(l *listener) *meta { return &l.meta }) {
		v := s.listenerView(l)
		v["loadbalancer_id"] = l.LBID // filter only
		views = append(views, v)
	}
	s.mu.Unlock()
	return writeList(q, "listeners", views, "loadbalancer_id")
}

func (s *Service) updateListener(q *request, id string) *apiError {
	o, e := readBody(q.r, "listener")
	if e != nil {
		return e
	}
	f := readListenerFields(o)
	if o.err != nil {
		return o.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, lb, e := s.listenerFor(q, id)
	if e != nil {
		return e
	}
	if f.defaultPoolID != nil {
		if e := s.defaultPoolOK(q, lb, l.Protocol, *f.defaultPoolID); e != nil {
			return e
		}
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	applyListenerFields(l, f, o)
	s.touch(&l.meta, pendingUpdate)
	lb.ProvisioningStatus = pendingUpdate
	s.schedule(lb.ID)
	writeJSON(q.w, http.StatusOK, map[string]any{"listener": s.listenerView(l)})
	return nil
}

func (s *Service) deleteListener(q *request, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, lb, e := s.listenerFor(q, id)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	l.ProvisioningStatus = pendingDelete
	lb.ProvisioningStatus = pendingUpdate
	s.schedule(lb.ID)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) listenerStats(q *request, id string) *apiError {
	s.mu.Lock()
	l := s.listeners[id]
	s.mu.Unlock()
	if l != nil {
		s.refresh(q.r.Context(), l.LBID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, lb, e := s.listenerFor(q, id)
	if e != nil {
		return e
	}
	writeJSON(q.w, http.StatusOK, statsBody(lb.frontend[l.ID]))
	return nil
}
