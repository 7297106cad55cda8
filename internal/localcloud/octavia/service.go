// Package octavia serves the Octavia v2 load-balancer API of the local cloud.
// Every load balancer is a network namespace holding its VIP on the cloud's
// one subnet, with a real HAProxy in it whose configuration is rendered the
// way Octavia's amphora driver renders it. Changes go through Octavia's
// provisioning state machine (PENDING_* for TransitionDelay, then ACTIVE;
// 409 for any change while the load balancer is PENDING_*), and operating
// statuses come from HAProxy's own health checks.
package octavia

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// Deps is what the service needs from the rest of the local cloud.
type Deps struct {
	// Authenticate validates the request's X-Auth-Token and returns the
	// project it is scoped to. An error gives 401.
	Authenticate func(r *http.Request) (projectID string, err error)
	// Network is where VIP namespaces go. Nil: VIPs are loopback addresses
	// (127.77.x.y) on this machine, for tests of the API alone.
	Network *host.Network
	// SubnetID and NetworkID are the Neutron ids of the one subnet and
	// network; vip_subnet_id / vip_network_id / member subnet_id must match.
	SubnetID, NetworkID string
	// StateDir holds one directory per load balancer (config, stats socket).
	StateDir string
	// Now is the clock for created_at / updated_at; nil: time.Now.
	Now func() time.Time
	// TransitionDelay is how long objects stay PENDING_* at least; 0: 1s.
	TransitionDelay time.Duration
	// EndpointURL is the public URL of the service root, for version
	// discovery links; empty: derived from the request's Host.
	EndpointURL string
	// FailoverAfter, if positive, is how long after an HAProxy crash the
	// load balancer fails over by itself (PENDING_UPDATE, a new HAProxy,
	// ACTIVE), as Octavia's health manager does when heartbeats stop. Zero:
	// only PUT .../failover (or any change) restarts it.
	FailoverAfter time.Duration
	// Logf, if set, receives background errors (failed reloads and stops).
	Logf func(format string, args ...any)
	// CreateVIPPort, if set, makes a Neutron port for a new load balancer's
	// VIP (already plugged at addr) and returns its id, which becomes
	// vip_port_id, so floating IPs can target the VIP. DeleteVIPPort removes
	// it once the VIP is gone. Nil: vip_port_id is a random id of no port.
	// Both are called without the service's lock held.
	CreateVIPPort func(lbID, projectID string, addr netip.Addr) (portID string, err error)
	DeleteVIPPort func(portID string) error
}

// Service is the Octavia API. It is an http.Handler for paths below the
// service root: "/", "/v2/lbaas/...", "/v2.0/lbaas/...".
type Service struct {
	deps   Deps
	drv    driver
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	seq       int64
	lbs       map[string]*loadBalancer
	listeners map[string]*listener
	pools     map[string]*pool
	members   map[string]*member
	monitors  map[string]*monitor
	// childFaults are armed by FailNextChild, taken by fully populated creates.
	childFaults []childFault
}

// New returns the service. It starts nothing until load balancers are made.
func New(deps Deps) *Service {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.TransitionDelay <= 0 {
		deps.TransitionDelay = time.Second
	}
	if deps.StateDir == "" {
		deps.StateDir = filepath.Join(os.TempDir(), "pxc-octavia")
	}
	if deps.Authenticate == nil {
		deps.Authenticate = func(*http.Request) (string, error) { return "", errors.New("no authenticator") }
	}
	s := &Service{
		deps:      deps,
		lbs:       map[string]*loadBalancer{},
		listeners: map[string]*listener{},
		pools:     map[string]*pool{},
		members:   map[string]*member{},
		monitors:  map[string]*monitor{},
	}
	if deps.Network != nil {
		s.drv = &hostDriver{net: deps.Network, stateDir: deps.StateDir}
	} else {
		s.drv = &loopbackDriver{stateDir: deps.StateDir}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Close deletes every load balancer at once: HAProxy processes stopped,
// namespaces and state directories removed. Pending transitions are dropped.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()

	s.mu.Lock()
	var amps []*amphora
	var ports []string
	for _, lb := range s.lbs {
		if lb.amp != nil {
			amps = append(amps, lb.amp)
		}
		ports = append(ports, lb.VIPPortID)
	}
	s.lbs = map[string]*loadBalancer{}
	s.listeners = map[string]*listener{}
	s.pools = map[string]*pool{}
	s.members = map[string]*member{}
	s.monitors = map[string]*monitor{}
	s.mu.Unlock()

	var errs []error
	for _, a := range amps {
		if err := a.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range ports {
		s.deleteVIPPort(p)
	}
	return errors.Join(errs...)
}

// DeleteAll deletes every load balancer at once, whatever its state, and
// returns when their HAProxy processes, namespaces and state directories are
// gone. Unlike Close, the service stays usable (the cloud's reset).
func (s *Service) DeleteAll(ctx context.Context) error {
	s.mu.Lock()
	var amps []*amphora
	var ports []string
	for _, lb := range s.lbs {
		if lb.amp != nil {
			amps = append(amps, lb.amp)
		}
		ports = append(ports, lb.VIPPortID)
		s.forgetLB(lb)
	}
	s.mu.Unlock()
	var errs []error
	for _, a := range amps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delete all load balancers: %w", err)
		}
		if err := a.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range ports {
		s.deleteVIPPort(p)
	}
	return errors.Join(errs...)
}

// Inventory lists every object the service holds, as "<kind>/<id>" with
// kind loadbalancer, listener, pool, member or healthmonitor, sorted. Tests
// assert it is empty after cleaning up.
func (s *Service) Inventory() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.lbs {
		out = append(out, "loadbalancer/"+id)
	}
	for id := range s.listeners {
		out = append(out, "listener/"+id)
	}
	for id := range s.pools {
		out = append(out, "pool/"+id)
	}
	for id := range s.members {
		out = append(out, "member/"+id)
	}
	for id := range s.monitors {
		out = append(out, "healthmonitor/"+id)
	}
	slices.Sort(out)
	return out
}

// SetLoadBalancerError injects a fault: the load balancer goes to
// provisioning_status ERROR (as after a failed amphora), its HAProxy keeps
// running. Like in Octavia, it can then only be deleted.
func (s *Service) SetLoadBalancerError(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, ok := s.lbs[id]
	if !ok {
		return fmt.Errorf("set load balancer %s to ERROR: not found", id)
	}
	lb.ProvisioningStatus = provError
	return nil
}

// KillHAProxy injects a fault: the load balancer's HAProxy is SIGKILLed,
// as if the amphora died. The load balancer's operating_status turns ERROR;
// a failover (or any change) starts a new HAProxy.
func (s *Service) KillHAProxy(id string) error {
	s.mu.Lock()
	lb, ok := s.lbs[id]
	var amp *amphora
	if ok {
		amp = lb.amp
	}
	s.mu.Unlock()
	if amp == nil {
		return fmt.Errorf("kill haproxy of load balancer %s: not found", id)
	}
	return amp.kill()
}

// VIPAddress returns a load balancer's VIP ("" when unknown).
func (s *Service) VIPAddress(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb, ok := s.lbs[id]; ok {
		return lb.VIPAddress
	}
	return ""
}

// deleteVIPPort removes a VIP's Neutron port (if the cloud made one); call
// it without s.mu held.
func (s *Service) deleteVIPPort(portID string) {
	if s.deps.DeleteVIPPort == nil || portID == "" {
		return
	}
	if err := s.deps.DeleteVIPPort(portID); err != nil {
		s.logf("octavia: delete vip port %s: %v", portID, err)
	}
}

func (s *Service) logf(format string, args ...any) {
	if s.deps.Logf != nil {
		s.deps.Logf(format, args...)
	}
}

func (s *Service) now() time.Time { return s.deps.Now().UTC().Truncate(time.Second) }

// request is one authenticated API call.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	project string
	base    string // public URL of the service root, for links
}

// ServeHTTP routes below the service root.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-openstack-request-id", "req-"+newID())
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "" || path == "/v2" || path == "/v2.0" {
		if r.Method != http.MethodGet {
			writeFault(w, errorf(http.StatusMethodNotAllowed, "The method specified is not allowed for this resource."))
			return
		}
		s.versions(w, r)
		return
	}
	var rest string
	switch {
	case strings.HasPrefix(path, "/v2.0/lbaas/"):
		rest = strings.TrimPrefix(path, "/v2.0/lbaas/")
	case strings.HasPrefix(path, "/v2/lbaas/"):
		rest = strings.TrimPrefix(path, "/v2/lbaas/")
	default:
		writeFault(w, errorf(http.StatusNotFound, "The resource could not be found."))
		return
	}
	project, err := s.deps.Authenticate(r)
	if err != nil {
		writeFault(w, errorf(http.StatusUnauthorized, "The request you have made requires authentication."))
		return
	}
	req := &request{w: w, r: r, project: project, base: s.endpoint(r)}
	seg := strings.Split(rest, "/")
	if e := s.route(req, seg); e != nil {
		writeFault(w, e)
	}
}

func methodNotAllowed() *apiError {
	return errorf(http.StatusMethodNotAllowed, "The method specified is not allowed for this resource.")
}

func (s *Service) route(q *request, seg []string) *apiError {
	m := q.r.Method
	switch seg[0] {
	case "loadbalancers":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listLBs(q)
		case len(seg) == 1 && m == http.MethodPost:
			return s.createLB(q)
		case len(seg) == 2 && m == http.MethodGet:
			return s.showLB(q, seg[1])
		case len(seg) == 2 && m == http.MethodPut:
			return s.updateLB(q, seg[1])
		case len(seg) == 2 && m == http.MethodDelete:
			return s.deleteLB(q, seg[1])
		case len(seg) == 3 && seg[2] == "status" && m == http.MethodGet:
			return s.statusTree(q, seg[1])
		case len(seg) == 3 && seg[2] == "stats" && m == http.MethodGet:
			return s.lbStats(q, seg[1])
		case len(seg) == 3 && seg[2] == "failover" && m == http.MethodPut:
			return s.failoverLB(q, seg[1])
		}
	case "listeners":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listListeners(q)
		case len(seg) == 1 && m == http.MethodPost:
			return s.createListener(q)
		case len(seg) == 2 && m == http.MethodGet:
			return s.showListener(q, seg[1])
		case len(seg) == 2 && m == http.MethodPut:
			return s.updateListener(q, seg[1])
		case len(seg) == 2 && m == http.MethodDelete:
			return s.deleteListener(q, seg[1])
		case len(seg) == 3 && seg[2] == "stats" && m == http.MethodGet:
			return s.listenerStats(q, seg[1])
		}
	case "pools":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listPools(q)
		case len(seg) == 1 && m == http.MethodPost:
			return s.createPool(q)
		case len(seg) == 2 && m == http.MethodGet:
			return s.showPool(q, seg[1])
		case len(seg) == 2 && m == http.MethodPut:
			return s.updatePool(q, seg[1])
		case len(seg) == 2 && m == http.MethodDelete:
			return s.deletePool(q, seg[1])
		case len(seg) == 3 && seg[2] == "members" && m == http.MethodGet:
			return s.listMembers(q, seg[1])
		case len(seg) == 3 && seg[2] == "members" && m == http.MethodPost:
			return s.createMember(q, seg[1])
		case len(seg) == 3 && seg[2] == "members" && m == http.MethodPut:
			return s.batchMembers(q, seg[1])
		case len(seg) == 4 && seg[2] == "members" && m == http.MethodGet:
			return s.showMember(q, seg[1], seg[3])
		case len(seg) == 4 && seg[2] == "members" && m == http.MethodPut:
			return s.updateMember(q, seg[1], seg[3])
		case len(seg) == 4 && seg[2] == "members" && m == http.MethodDelete:
			return s.deleteMember(q, seg[1], seg[3])
		}
	case "healthmonitors":
		switch {
		case len(seg) == 1 && m == http.MethodGet:
			return s.listMonitors(q)
		case len(seg) == 1 && m == http.MethodPost:
			return s.createMonitor(q)
		case len(seg) == 2 && m == http.MethodGet:
			return s.showMonitor(q, seg[1])
		case len(seg) == 2 && m == http.MethodPut:
			return s.updateMonitor(q, seg[1])
		case len(seg) == 2 && m == http.MethodDelete:
			return s.deleteMonitor(q, seg[1])
		}
	default:
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}
	if knownPath(seg) {
		return methodNotAllowed()
	}
	return errorf(http.StatusNotFound, "The resource could not be found.")
}

// knownPath reports whether a path exists for some method (405 rather than 404).
func knownPath(seg []string) bool {
	switch len(seg) {
	case 1, 2:
		return true
	case 3:
		switch seg[0] + "/" + seg[2] {
		case "loadbalancers/status", "loadbalancers/stats", "loadbalancers/failover", "listeners/stats", "pools/members":
			return true
		}
	case 4:
		return seg[0] == "pools" && seg[2] == "members"
	}
	return false
}

// endpoint is the public URL of the service root.
func (s *Service) endpoint(r *http.Request) string {
	if base := strings.TrimSuffix(s.deps.EndpointURL, "/"); base != "" {
		return base
	}
	return "http://" + r.Host
}

func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	base := s.endpoint(r)
	link := []map[string]string{{"href": base + "/v2", "rel": "self"}}
	writeJSON(w, http.StatusOK, map[string]any{"versions": []map[string]any{
		{"id": "v2.0", "status": "SUPPORTED", "updated": "2016-12-11T00:00:00Z", "links": link},
		{"id": "v2.1", "status": "SUPPORTED", "updated": "2018-04-20T00:00:00Z", "links": link},
		{"id": "v2.2", "status": "CURRENT", "updated": "2018-07-31T00:00:00Z", "links": link},
	}})
}

// owned checks that the caller's project owns an object (403 otherwise,
// as Octavia's policy check answers).
func (q *request) owned(m *meta) *apiError {
	if m.ProjectID != q.project {
		return forbidden()
	}
	return nil
}

// bodyProject checks a project_id given in a create body.
func (q *request) bodyProject(o *object) *apiError {
	if p := o.str("project_id", 36); p != nil && *p != q.project {
		return forbidden()
	}
	return nil
}
