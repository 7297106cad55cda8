package octavia

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

type memberFields struct {
	name        *string
	address     *string
	port        *int
	weight      *int
	admin       *bool
	backup      *bool
	subnetID    *string
	monAddr     *string
	monPort     *int
	tagList     *[]string
	clearMonAdr bool
	clearMonPrt bool
}

func (s *Service) readMemberFields(o *object, create bool) memberFields {
	if create {
		o.require("address")
		o.require("protocol_port")
	}
	f := memberFields{
		name: o.str("name", 255), weight: o.integer("weight", 0, 256), admin: o.boolean("admin_state_up"),
		backup: o.boolean("backup"), monPort: o.integer("monitor_port", 1, 65535), tagList: o.strList("tags"),
		clearMonAdr: o.isNull("monitor_address"), clearMonPrt: o.isNull("monitor_port"),
	}
	if a := o.ip("monitor_address"); a != nil {
		v := a.String()
		f.monAddr = &v
	}
	if create {
		if a := o.ip("address"); a != nil {
			v := a.String()
			f.address = &v
		}
		f.port = o.integer("protocol_port", 1, 65535)
		f.subnetID = o.uuid("subnet_id")
		if f.subnetID != nil && *f.subnetID != s.deps.SubnetID && o.err == nil {
			o.fail(errorf(http.StatusBadRequest, "Subnet %s not found.", *f.subnetID))
		}
	} else {
		for _, k := range []string{"address", "protocol_port", "subnet_id"} {
			if o.present(k) {
				o.fail(invalidInput(k, truncate(o.fields[k]), "This attribute cannot be updated."))
			}
		}
	}
	return f
}

func applyMemberFields(m *member, f memberFields) {
	if f.name != nil {
		m.Name = *f.name
	}
	if f.weight != nil {
		m.Weight = *f.weight
	}
	if f.admin != nil {
		m.AdminStateUp = *f.admin
	}
	if f.backup != nil {
		m.Backup = *f.backup
	}
	if f.monAddr != nil {
		m.MonitorAddress = f.monAddr
	} else if f.clearMonAdr {
		m.MonitorAddress = nil
	}
	if f.monPort != nil {
		m.MonitorPort = f.monPort
	} else if f.clearMonPrt {
		m.MonitorPort = nil
	}
	if f.tagList != nil {
		m.Tags = *f.tagList
	}
}

// newMember builds a member with Octavia's defaults (weight 1, up, not
// backup) and f applied; the caller holds s.mu.
func (s *Service) newMember(q *request, p *pool, f memberFields) *member {
	s.seq++
	m := &member{
		meta: meta{ID: newID(), ProjectID: q.project, AdminStateUp: true, ProvisioningStatus: pendingCreate,
			op: offline, CreatedAt: s.now(), seq: s.seq},
		PoolID: p.ID, Address: *f.address, Port: *f.port, Weight: 1, SubnetID: f.subnetID,
	}
	applyMemberFields(m, f)
	s.members[m.ID] = m
	p.Members = append(p.Members, m.ID)
	return m
}

func memberKey(address string, port int) string { return address + "/" + strconv.Itoa(port) }

func (s *Service) memberFor(q *request, poolID, id string) (*member, *pool, *loadBalancer, *apiError) {
	p, lb, e := s.poolFor(q, poolID)
	if e != nil {
		return nil, nil, nil, e
	}
	m := s.members[id]
	if m == nil || m.PoolID != p.ID {
		return nil, nil, nil, notFound(resMember, id)
	}
	return m, p, lb, nil
}

func (s *Service) createMember(q *request, poolID string) *apiError {
	o, e := readBody(q.r, "member")
	if e != nil {
		return e
	}
	if e := q.bodyProject(o); e != nil {
		return e
	}
	f := s.readMemberFields(o, true)
	if o.err != nil {
		return o.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, lb, e := s.poolFor(q, poolID)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	for _, mid := range p.Members {
		if m := s.members[mid]; m != nil && m.Address == *f.address && m.Port == *f.port {
			return errorf(http.StatusConflict, "Another member on this pool is already using ip %s on protocol_port %d", m.Address, m.Port)
		}
	}
	m := s.newMember(q, p, f)
	s.markPoolChange(lb, p)
	writeJSON(q.w, http.StatusCreated, map[string]any{"member": s.memberView(m)})
	return nil
}

func (s *Service) showMember(q *request, poolID, id string) *apiError {
	s.refresh(q.r.Context(), s.lbOfPool(poolID))
	s.mu.Lock()
	defer s.mu.Unlock()
	m, _, _, e := s.memberFor(q, poolID, id)
	if e != nil {
		return e
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"member": s.memberView(m)})
	return nil
}

func (s *Service) listMembers(q *request, poolID string) *apiError {
	s.refresh(q.r.Context(), s.lbOfPool(poolID))
	s.mu.Lock()
	p, _, e := s.poolFor(q, poolID)
	if e != nil {
		s.mu.Unlock()
		return e
	}
	var views []map[string]any
	for _, mid := range p.Members {
		if m := s.members[mid]; m != nil {
			views = append(views, s.memberView(m))
		}
	}
	s.mu.Unlock()
	return writeList(q, "members", views)
}

func (s *Service) updateMember(q *request, poolID, id string) *apiError {
	o, e := readBody(q.r, "member")
	if e != nil {
		return e
	}
	f := s.readMemberFields(o, false)
	if o.err != nil {
		return o.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, p, lb, e := s.memberFor(q, poolID, id)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	applyMemberFields(m, f)
	s.touch(&m.meta, pendingUpdate)
	s.markPoolChange(lb, p)
	writeJSON(q.w, http.StatusOK, map[string]any{"member": s.memberView(m)})
	return nil
}

func (s *Service) deleteMember(q *request, poolID, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, p, lb, e := s.memberFor(q, poolID, id)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	m.ProvisioningStatus = pendingDelete
	s.markPoolChange(lb, p)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// batchMembers is PUT /pools/{id}/members: the body is the pool's whole
// member list. Members are matched by address and protocol_port; listed ones
// are created or updated (omitted attributes take their defaults), unlisted
// ones deleted unless ?additive_only=true. 202, no body.
func (s *Service) batchMembers(q *request, poolID string) *apiError {
	additive, _ := strconv.ParseBool(q.r.URL.Query().Get("additive_only"))
	raw, e := readRoot(q.r)
	if e != nil {
		return e
	}
	list, ok := raw["members"]
	if !ok {
		return errorf(http.StatusBadRequest, "Missing argument: \"members\"")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return invalidInput("members", truncate(list), "Not a list")
	}
	var wanted []memberFields
	seen := map[string]bool{}
	for i, it := range items {
		o := newObject(it, fmt.Sprintf("members[%d]", i))
		if o.err == nil {
			if e := q.bodyProject(o); e != nil {
				return e
			}
		}
		f := s.readMemberFields(o, true)
		if o.err != nil {
			return o.err
		}
		k := memberKey(*f.address, *f.port)
		if seen[k] {
			return validation("Member %s:%d is listed more than once.", *f.address, *f.port)
		}
		seen[k] = true
		wanted = append(wanted, f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, lb, e := s.poolFor(q, poolID)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	existing := map[string]*member{}
	for _, mid := range p.Members {
		if m := s.members[mid]; m != nil {
			existing[memberKey(m.Address, m.Port)] = m
		}
	}
	for _, f := range wanted {
		k := memberKey(*f.address, *f.port)
		if m := existing[k]; m != nil {
			delete(existing, k)
			defaults := memberFields{name: new(string), weight: ptr(1), admin: ptr(true), backup: ptr(false),
				clearMonAdr: true, clearMonPrt: true, tagList: &[]string{}}
			applyMemberFields(m, defaults)
			applyMemberFields(m, f)
			s.touch(&m.meta, pendingUpdate)
			continue
		}
		s.newMember(q, p, f)
	}
	if !additive {
		for _, m := range existing {
			m.ProvisioningStatus = pendingDelete
		}
	}
	s.markPoolChange(lb, p)
	q.w.WriteHeader(http.StatusAccepted)
	return nil
}

func ptr[T any](v T) *T { return &v }
