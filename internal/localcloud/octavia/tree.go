package octavia

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Single-call create: POST /loadbalancers with "listeners" (each with an
// inline "default_pool", or {"name": ...} naming one of "pools") and "pools"
// (each with "members" and a "healthmonitor"). Everything is created
// PENDING_CREATE together and settles with the load balancer.

type treePool struct {
	name     string
	protocol string
	f        poolFields
	hm       *monitor
	members  []memberFields
}

type treeListener struct {
	protocol string
	port     int
	f        listenerFields
	o        *object
	pool     *treePool // inline default_pool, or one of the "pools"
}

type tree struct {
	listeners []treeListener
	pools     []*treePool // standalone ones, from "pools"
}

func (t *tree) empty() bool { return len(t.listeners) == 0 && len(t.pools) == 0 }

func listItems(o *object, k string) ([]json.RawMessage, *apiError) {
	v, ok := o.value(k)
	if !ok {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, invalidInput(k, truncate(v), "Not a list")
	}
	return items, nil
}

func (s *Service) parseTreePool(q *request, o *object) (*treePool, *apiError) {
	if o.err != nil {
		return nil, o.err
	}
	if e := q.bodyProject(o); e != nil {
		return nil, e
	}
	for _, k := range []string{"loadbalancer_id", "listener_id"} {
		if o.present(k) {
			return nil, validation("%s is not allowed in a single-call create", k)
		}
	}
	protocol, f, e := parsePool(o)
	if e != nil {
		return nil, e
	}
	tp := &treePool{name: deref(f.name), protocol: *protocol, f: f}
	if raw, ok := o.value("healthmonitor"); ok {
		ho := newObject(raw, "healthmonitor")
		if ho.err != nil {
			return nil, ho.err
		}
		if ho.present("pool_id") {
			return nil, validation("pool_id is not allowed in a single-call create")
		}
		if tp.hm, e = parseMonitor(ho); e != nil {
			return nil, e
		}
	}
	items, e := listItems(o, "members")
	if e != nil {
		return nil, e
	}
	seen := map[string]bool{}
	for i, it := range items {
		mo := newObject(it, fmt.Sprintf("members[%d]", i))
		mf := s.readMemberFields(mo, true)
		if mo.err != nil {
			return nil, mo.err
		}
		k := memberKey(*mf.address, *mf.port)
		if seen[k] {
			return nil, errorf(http.StatusConflict, "Another member on this pool is already using ip %s on protocol_port %d", *mf.address, *mf.port)
		}
		seen[k] = true
		tp.members = append(tp.members, mf)
	}
	return tp, nil
}

// parseTree reads and checks the whole graph before anything is created.
func (s *Service) parseTree(q *request, o *object) (*tree, *apiError) {
	t := &tree{}
	items, e := listItems(o, "pools")
	if e != nil {
		return nil, e
	}
	byName := map[string]*treePool{}
	for i, it := range items {
		tp, e := s.parseTreePool(q, newObject(it, fmt.Sprintf("pools[%d]", i)))
		if e != nil {
			return nil, e
		}
		if tp.name != "" {
			byName[tp.name] = tp
		}
		t.pools = append(t.pools, tp)
	}
	if items, e = listItems(o, "listeners"); e != nil {
		return nil, e
	}
	ports := map[int]bool{}
	for i, it := range items {
		lo := newObject(it, fmt.Sprintf("listeners[%d]", i))
		if lo.err != nil {
			return nil, lo.err
		}
		if e := q.bodyProject(lo); e != nil {
			return nil, e
		}
		for _, k := range []string{"loadbalancer_id", "default_pool_id"} {
			if lo.present(k) {
				return nil, validation("%s is not allowed in a single-call create", k)
			}
		}
		protocol, port, f, e := parseListener(lo)
		if e != nil {
			return nil, e
		}
		if ports[*port] {
			return nil, errorf(http.StatusConflict, "Another Listener on this Load Balancer is already using protocol_port %d", *port)
		}
		ports[*port] = true
		tl := treeListener{protocol: *protocol, port: *port, f: f, o: lo}
		if raw, ok := lo.value("default_pool"); ok {
			po := newObject(raw, "default_pool")
			if po.err != nil {
				return nil, po.err
			}
			if name := po.str("name", 255); len(po.fields) == 1 && name != nil {
				if tl.pool = byName[*name]; tl.pool == nil {
					return nil, validation("default_pool %q of listener %d is not one of the pools.", *name, i)
				}
			} else if tl.pool, e = s.parseTreePool(q, po); e != nil {
				return nil, e
			}
			if !slices.Contains(poolProtocolsFor[tl.protocol], tl.pool.protocol) {
				return nil, validation("The pool protocol '%s' is invalid while the listener protocol is '%s'.", tl.pool.protocol, tl.protocol)
			}
		}
		t.listeners = append(t.listeners, tl)
	}
	return t, nil
}

// buildTree records the graph under a new load balancer; the caller holds s.mu.
func (s *Service) buildTree(q *request, lb *loadBalancer, t *tree) {
	made := map[*treePool]*pool{}
	addPool := func(tp *treePool) *pool {
		if p := made[tp]; p != nil {
			return p
		}
		p := s.addPool(q, lb, tp.protocol, tp.f)
		for _, mf := range tp.members {
			s.newMember(q, p, mf)
		}
		if tp.hm != nil {
			s.addMonitor(q, p, tp.hm)
		}
		made[tp] = p
		return p
	}
	for _, tp := range t.pools {
		addPool(tp)
	}
	for _, tl := range t.listeners {
		l := s.addListener(q, lb, tl.protocol, tl.port, tl.f, tl.o)
		if tl.pool != nil {
			l.DefaultPoolID = addPool(tl.pool).ID
		}
	}
}

// treeView is a load balancer with its whole graph inlined, as Octavia
// answers a single-call create.
func (s *Service) treeView(lb *loadBalancer) map[string]any {
	v := s.lbView(lb)
	var ls []map[string]any
	for _, id := range lb.Listeners {
		if l := s.listeners[id]; l != nil {
			lv := s.listenerView(l)
			lv["default_pool"] = nil
			if l.DefaultPoolID != "" {
				lv["default_pool"] = idRef{ID: l.DefaultPoolID}
			}
			lv["default_tls_container_id"] = nil
			ls = append(ls, lv)
		}
	}
	var ps []map[string]any
	for _, id := range lb.Pools {
		p := s.pools[id]
		if p == nil {
			continue
		}
		pv := s.poolView(p)
		ms := []map[string]any{}
		for _, mid := range p.Members {
			if m := s.members[mid]; m != nil {
				ms = append(ms, s.memberView(m))
			}
		}
		pv["members"] = ms
		if hm := s.monitors[p.MonitorID]; hm != nil {
			pv["healthmonitor"] = s.monitorView(hm)
		} else {
			pv["healthmonitor"] = nil
		}
		ps = append(ps, pv)
	}
	v["listeners"], v["pools"] = ls, ps
	if ls == nil {
		v["listeners"] = []any{}
	}
	if ps == nil {
		v["pools"] = []any{}
	}
	return v
}
