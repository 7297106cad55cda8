package octavia

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
)

var (
	monitorTypes     = []string{"HTTP", "HTTPS", "PING", "SCTP", "TCP", "TLS-HELLO", "UDP-CONNECT"}
	supportedMonitor = []string{haproxy.MonitorHTTP, haproxy.MonitorHTTPS, haproxy.MonitorTCP, haproxy.MonitorTLSHello}
	httpMethods      = []string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
	// Octavia's expected_codes pattern: "200", "200,202", "200-204".
	expectedCodesRE = regexp.MustCompile(`^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$`)
	// url_path: an absolute path without spaces (it goes into the config).
	urlPathRE = regexp.MustCompile(`^/[^\s\\#'"]*$`)
	domainRE  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
)

var httpOnlyFields = []string{"http_method", "url_path", "expected_codes", "http_version", "domain_name"}

func (s *Service) monitorFor(q *request, id string) (*monitor, *pool, *loadBalancer, *apiError) {
	hm := s.monitors[id]
	if hm == nil {
		return nil, nil, nil, notFound(resMonitor, id)
	}
	if e := q.owned(&hm.meta); e != nil {
		return nil, nil, nil, e
	}
	p := s.pools[hm.PoolID]
	return hm, p, s.lbs[p.LBID], nil
}

type monitorFields struct {
	name                                 *string
	admin                                *bool
	delay, timeout, retries, retriesDown *int
	method, path, codes, domain          *string
	version                              *float64
	tagList                              *[]string
}

func readMonitorFields(o *object) monitorFields {
	f := monitorFields{
		name: o.str("name", 255), admin: o.boolean("admin_state_up"),
		// HAProxy needs a positive check interval; Octavia's minimum is 0.
		delay:       o.integer("delay", 1, 1<<31-1),
		timeout:     o.integer("timeout", 0, 1<<31-1),
		retries:     o.integer("max_retries", 1, 10),
		retriesDown: o.integer("max_retries_down", 1, 10),
		method:      o.enum("http_method", httpMethods...),
		path:        o.str("url_path", 2048),
		codes:       o.str("expected_codes", 64),
		version:     o.float("http_version"),
		domain:      o.str("domain_name", 255),
		tagList:     o.strList("tags"),
	}
	if f.path != nil && !urlPathRE.MatchString(*f.path) {
		o.fail(invalidInput("url_path", *f.path, "Value should be a valid URL path"))
	}
	if f.codes != nil && !expectedCodesRE.MatchString(*f.codes) {
		o.fail(invalidInput("expected_codes", *f.codes, "Value should match the pattern "+expectedCodesRE.String()))
	}
	if f.version != nil && *f.version != 1.0 && *f.version != 1.1 {
		o.fail(invalidInput("http_version", *f.version, "Value should be one of: 1.0, 1.1"))
	}
	if f.domain != nil && !domainRE.MatchString(*f.domain) {
		o.fail(invalidInput("domain_name", *f.domain, "Value should be a valid domain name"))
	}
	return f
}

// checkMonitor validates the combination of a monitor's type and fields.
func checkMonitor(hm *monitor) *apiError {
	isHTTP := hm.Type == haproxy.MonitorHTTP || hm.Type == haproxy.MonitorHTTPS
	if !isHTTP && (hm.HTTPMethod != nil || hm.URLPath != nil || hm.ExpectedCodes != nil || hm.HTTPVersion != nil || hm.DomainName != nil) {
		return validation("The %s attributes are only valid for HTTP and HTTPS health monitors.", strings.Join(httpOnlyFields, ", "))
	}
	if hm.DomainName != nil && (hm.HTTPVersion == nil || *hm.HTTPVersion != 1.1) {
		return validation("http_version 1.1 is required for domain_name.")
	}
	return nil
}

func applyMonitorFields(hm *monitor, f monitorFields, o *object) {
	if f.name != nil {
		hm.Name = *f.name
	}
	if f.admin != nil {
		hm.AdminStateUp = *f.admin
	}
	for _, x := range []struct {
		dst *int
		v   *int
	}{{&hm.Delay, f.delay}, {&hm.Timeout, f.timeout}, {&hm.MaxRetries, f.retries}, {&hm.MaxRetriesDown, f.retriesDown}} {
		if x.v != nil {
			*x.dst = *x.v
		}
	}
	set := func(dst **string, v *string, k string) {
		if v != nil {
			*dst = v
		} else if o.isNull(k) {
			*dst = nil
		}
	}
	set(&hm.HTTPMethod, f.method, "http_method")
	set(&hm.URLPath, f.path, "url_path")
	set(&hm.ExpectedCodes, f.codes, "expected_codes")
	set(&hm.DomainName, f.domain, "domain_name")
	if f.version != nil {
		hm.HTTPVersion = f.version
	} else if o.isNull("http_version") {
		hm.HTTPVersion = nil
	}
	if f.tagList != nil {
		hm.Tags = *f.tagList
	}
}

// parseMonitor reads and checks a new health monitor (Octavia's defaults
// filled in); the caller sets its identity and pool.
func parseMonitor(o *object) (*monitor, *apiError) {
	for _, k := range []string{"type", "delay", "timeout", "max_retries"} {
		o.require(k)
	}
	typ := o.enum("type", monitorTypes...)
	f := readMonitorFields(o)
	if o.err != nil {
		return nil, o.err
	}
	if !slices.Contains(supportedMonitor, *typ) {
		return nil, validation("health monitor type %s is not supported by this local cloud (supported: HTTP, HTTPS, TCP, TLS-HELLO)", *typ)
	}
	hm := &monitor{meta: meta{AdminStateUp: true}, Type: *typ, MaxRetriesDown: 3}
	applyMonitorFields(hm, f, o)
	if e := checkMonitor(hm); e != nil {
		return nil, e
	}
	if *typ == haproxy.MonitorHTTP || *typ == haproxy.MonitorHTTPS {
		if hm.HTTPMethod == nil {
			hm.HTTPMethod = ptr("GET")
		}
		if hm.URLPath == nil {
			hm.URLPath = ptr("/")
		}
		if hm.ExpectedCodes == nil {
			hm.ExpectedCodes = ptr("200")
		}
	}
	return hm, nil
}

func (s *Service) createMonitor(q *request) *apiError {
	o, e := readBody(q.r, "healthmonitor")
	if e != nil {
		return e
	}
	if e := q.bodyProject(o); e != nil {
		return e
	}
	o.require("pool_id")
	poolID := o.uuid("pool_id")
	hm, e := parseMonitor(o)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, lb, e := s.poolFor(q, *poolID)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	if p.MonitorID != "" {
		return errorf(http.StatusConflict, "This pool already has a health monitor")
	}
	s.addMonitor(q, p, hm)
	s.markPoolChange(lb, p)
	writeJSON(q.w, http.StatusCreated, map[string]any{"healthmonitor": s.monitorView(hm)})
	return nil
}

// addMonitor records a parsed monitor as the pool's (PENDING_CREATE); the
// caller holds s.mu.
func (s *Service) addMonitor(q *request, p *pool, hm *monitor) {
	s.seq++
	hm.meta = meta{ID: newID(), ProjectID: q.project, Name: hm.Name, AdminStateUp: hm.AdminStateUp, Tags: hm.Tags,
		ProvisioningStatus: pendingCreate, CreatedAt: s.now(), seq: s.seq}
	hm.PoolID = p.ID
	s.monitors[hm.ID] = hm
	p.MonitorID = hm.ID
}

func (s *Service) showMonitor(q *request, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	hm, _, _, e := s.monitorFor(q, id)
	if e != nil {
		return e
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"healthmonitor": s.monitorView(hm)})
	return nil
}

func (s *Service) listMonitors(q *request) *apiError {
	s.mu.Lock()
	var views []map[string]any
	for _, hm := range visible(q, s.monitors, func(m *monitor) *meta { return &m.meta }) {
		v := s.monitorView(hm)
		v["pool_id"] = hm.PoolID
		views = append(views, v)
	}
	s.mu.Unlock()
	return writeList(q, "healthmonitors", views, "pool_id")
}

func (s *Service) updateMonitor(q *request, id string) *apiError {
	o, e := readBody(q.r, "healthmonitor")
	if e != nil {
		return e
	}
	f := readMonitorFields(o)
	if o.err != nil {
		return o.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	hm, p, lb, e := s.monitorFor(q, id)
	if e != nil {
		return e
	}
	next := *hm
	applyMonitorFields(&next, f, o)
	if e := checkMonitor(&next); e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	*hm = next
	s.touch(&hm.meta, pendingUpdate)
	s.markPoolChange(lb, p)
	writeJSON(q.w, http.StatusOK, map[string]any{"healthmonitor": s.monitorView(hm)})
	return nil
}

func (s *Service) deleteMonitor(q *request, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	hm, p, lb, e := s.monitorFor(q, id)
	if e != nil {
		return e
	}
	if e := checkLB(lb); e != nil {
		return e
	}
	hm.ProvisioningStatus = pendingDelete
	s.markPoolChange(lb, p)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
