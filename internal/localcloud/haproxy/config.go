// Package haproxy renders a load balancer's HAProxy configuration the way
// Octavia's amphora driver does (combined_listeners templates), runs one
// HAProxy master-worker process per load balancer, reloads it without
// cutting established connections, and reads its statistics and health-check
// results over the stats socket.
package haproxy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Octavia protocol, algorithm, monitor and persistence names.
const (
	ProtocolTCP             = "TCP"
	ProtocolHTTP            = "HTTP"
	ProtocolHTTPS           = "HTTPS"
	ProtocolProxy           = "PROXY"
	ProtocolTerminatedHTTPS = "TERMINATED_HTTPS"

	AlgorithmRoundRobin       = "ROUND_ROBIN"
	AlgorithmLeastConnections = "LEAST_CONNECTIONS"
	AlgorithmSourceIP         = "SOURCE_IP"

	MonitorTCP      = "TCP"
	MonitorHTTP     = "HTTP"
	MonitorHTTPS    = "HTTPS"
	MonitorTLSHello = "TLS-HELLO"

	PersistenceSourceIP   = "SOURCE_IP"
	PersistenceHTTPCookie = "HTTP_COOKIE"
	PersistenceAppCookie  = "APP_COOKIE"
)

// Octavia's defaults (octavia/common/constants.py and [haproxy_amphora]).
const (
	DefaultTimeoutClientData    = 50000 // ms
	DefaultTimeoutMemberConnect = 5000  // ms
	DefaultTimeoutMemberData    = 50000 // ms
	stickSize                   = "10k"
)

// MaxConn replaces Octavia's HAPROXY_MAX_MAXCONN (50000): HAProxy needs two
// file descriptors per connection and this machine's hard limit is 20000.
const MaxConn = 5000

// LoadBalancer is the part of an Octavia load balancer HAProxy sees.
type LoadBalancer struct {
	ID        string
	VIP       string // address the frontends bind to
	Enabled   bool   // admin_state_up; a disabled LB renders no proxies
	Listeners []Listener
}

// Listener is one frontend.
type Listener struct {
	ID                   string
	Protocol             string // TCP, HTTP, HTTPS (passthrough), TERMINATED_HTTPS is not supported
	Port                 int
	Enabled              bool
	ConnectionLimit      int // -1 or 0: unlimited (MaxConn)
	TimeoutClientData    int // ms; 0: Octavia's default
	TimeoutMemberConnect int // ms; 0: default
	TimeoutMemberData    int // ms; 0: default
	TimeoutTCPInspect    int // ms; 0: none
	// AllowedCIDRs limits the clients (empty: any). Octavia enforces it
	// with security-group rules on the VIP port; here HAProxy rejects other
	// sources as soon as they connect.
	AllowedCIDRs []string
	// DefaultPool is the pool traffic goes to (nil: none). Octavia renders one
	// backend per pool of the listener; without L7 policies that is the
	// default pool only.
	DefaultPool *Pool
}

// Pool is one backend.
type Pool struct {
	ID                 string
	Protocol           string // TCP, HTTP, HTTPS, PROXY
	Algorithm          string // ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP
	Enabled            bool
	SessionPersistence string // "", SOURCE_IP, HTTP_COOKIE, APP_COOKIE
	CookieName         string // for APP_COOKIE
	Monitor            *Monitor
	Members            []Member
}

// Monitor is a pool's health monitor.
type Monitor struct {
	Type           string // TCP, HTTP, HTTPS, TLS-HELLO
	Delay          int    // seconds between checks
	Timeout        int    // seconds
	MaxRetries     int    // rise: successes to go UP
	MaxRetriesDown int    // fall: failures to go DOWN
	HTTPMethod     string
	URLPath        string
	ExpectedCodes  string // "200", "200,202", "200-204"
	HTTPVersion    string // "", "1.0", "1.1"
	DomainName     string
	Enabled        bool
}

// Member is one server line.
type Member struct {
	ID             string
	Address        string
	Port           int
	Weight         int
	Backup         bool
	Enabled        bool
	MonitorAddress string
	MonitorPort    int
}

// Paths are the files the rendered configuration refers to.
type Paths struct {
	StatsSocket     string
	ServerStateFile string // "" leaves server states out
}

// BackendName is the proxy name Octavia gives a pool's backend
// ("<pool id>:<listener id>"); `show stat` reports it as pxname.
func BackendName(poolID, listenerID string) string { return poolID + ":" + listenerID }

var listenerModes = map[string]string{
	ProtocolTCP:             "tcp",
	ProtocolHTTP:            "http",
	ProtocolHTTPS:           "tcp",
	ProtocolTerminatedHTTPS: "http",
}

var poolModes = map[string]string{
	ProtocolTCP:   "tcp",
	ProtocolHTTP:  "http",
	ProtocolHTTPS: "tcp",
	ProtocolProxy: "proxy",
}

var balance = map[string]string{
	AlgorithmRoundRobin:       "roundrobin",
	AlgorithmLeastConnections: "leastconn",
	AlgorithmSourceIP:         "source",
}

// Render returns the HAProxy configuration for lb. It follows Octavia's
// combined_listeners templates (base.j2, haproxy.cfg.j2, macros.j2) with
// connection logging off, and differs where this machine requires it: no
// `daemon` (the master stays the child of its owner), MaxConn instead of
// 50000, and optional server-state-file lines so a reload keeps health states.
func Render(lb LoadBalancer, paths Paths) (string, error) {
	if err := validate(lb); err != nil {
		return "", fmt.Errorf("render haproxy config for load balancer %s: %w", lb.ID, err)
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("# Configuration for loadbalancer %s", lb.ID)
	w("global")
	w("    user nobody")
	w("    stats socket %s mode 0666 level user", paths.StatsSocket)
	if paths.ServerStateFile != "" {
		w("    server-state-file %s", paths.ServerStateFile)
	}
	w("    maxconn %d", globalMaxConn(lb))
	w("")
	w("defaults")
	w("    no log")
	if paths.ServerStateFile != "" {
		w("    load-server-state-from-file global")
	}
	w("    retries 3")
	w("    option redispatch")
	w("    option splice-request")
	w("    option splice-response")
	w("    option http-keep-alive")
	w("")
	if !lb.Enabled {
		return b.String(), nil
	}
	for _, l := range lb.Listeners {
		if !l.Enabled {
			continue
		}
		renderFrontend(w, lb, l)
		if p := l.DefaultPool; p != nil && p.Enabled {
			renderBackend(w, l, *p)
		}
	}
	return b.String(), nil
}

func globalMaxConn(lb LoadBalancer) int {
	sum := 0
	for _, l := range lb.Listeners {
		if !l.Enabled {
			continue
		}
		if l.ConnectionLimit <= 0 {
			return MaxConn
		}
		sum += l.ConnectionLimit
	}
	if sum <= 0 || sum > MaxConn {
		return MaxConn
	}
	return sum
}

func connLimit(l Listener) int {
	if l.ConnectionLimit <= 0 || l.ConnectionLimit > MaxConn {
		return MaxConn
	}
	return l.ConnectionLimit
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func renderFrontend(w func(string, ...any), lb LoadBalancer, l Listener) {
	w("frontend %s", l.ID)
	w("    maxconn %d", connLimit(l))
	w("    bind %s:%d", lb.VIP, l.Port)
	w("    mode %s", listenerModes[l.Protocol])
	if len(l.AllowedCIDRs) > 0 {
		w("    tcp-request connection reject if !{ src %s }", strings.Join(l.AllowedCIDRs, " "))
	}
	if p := l.DefaultPool; p != nil && p.Enabled {
		w("    default_backend %s", BackendName(p.ID, l.ID))
	}
	w("    timeout client %d", orDefault(l.TimeoutClientData, DefaultTimeoutClientData))
	if l.TimeoutTCPInspect > 0 {
		w("    tcp-request inspect-delay %d", l.TimeoutTCPInspect)
	}
	w("")
}

func renderBackend(w func(string, ...any), l Listener, p Pool) {
	w("backend %s", BackendName(p.ID, l.ID))
	mode := poolModes[p.Protocol]
	if p.Protocol == ProtocolProxy {
		mode = listenerModes[l.Protocol]
	}
	w("    mode %s", mode)
	w("    balance %s", balance[p.Algorithm])
	switch p.SessionPersistence {
	case PersistenceSourceIP:
		w("    stick-table type ip size %s", stickSize)
		w("    stick on src")
	case PersistenceAppCookie:
		w("    stick-table type string len 64 size %s", stickSize)
		w("    stick store-response res.cook(%s)", p.CookieName)
		w("    stick match req.cook(%s)", p.CookieName)
	case PersistenceHTTPCookie:
		w("    cookie SRV insert indirect nocache")
	}
	if m := p.Monitor; m != nil && m.Enabled {
		w("    timeout check %ds", m.Timeout)
		switch m.Type {
		case MonitorHTTP, MonitorHTTPS:
			switch {
			case m.HTTPVersion == "1.1" && m.DomainName != "":
				w(`    option httpchk %s %s HTTP/%s\r\nHost:\ %s`, m.HTTPMethod, m.URLPath, m.HTTPVersion, m.DomainName)
			case m.HTTPVersion != "":
				w(`    option httpchk %s %s HTTP/%s\r\n`, m.HTTPMethod, m.URLPath, m.HTTPVersion)
			default:
				w("    option httpchk %s %s", m.HTTPMethod, m.URLPath)
			}
			w("    http-check expect rstatus %s", strings.Join(ExpandExpectedCodes(m.ExpectedCodes), "|"))
		case MonitorTLSHello:
			w("    option ssl-hello-chk")
		}
	}
	w("    fullconn %d", connLimit(l))
	// Octavia always writes this (macros.j2): when every non-backup member is
	// down, ALL healthy backups take traffic at once, not just the first.
	w("    option allbackups")
	w("    timeout connect %d", orDefault(l.TimeoutMemberConnect, DefaultTimeoutMemberConnect))
	w("    timeout server %d", orDefault(l.TimeoutMemberData, DefaultTimeoutMemberData))
	for _, m := range p.Members {
		w("    %s", serverLine(p, m))
	}
	w("")
}

func serverLine(p Pool, m Member) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server %s %s:%d weight %d", m.ID, m.Address, m.Port, m.Weight)
	if hm := p.Monitor; hm != nil && hm.Enabled {
		b.WriteString(" check")
		if hm.Type == MonitorHTTPS {
			b.WriteString(" check-ssl verify none")
		}
		fmt.Fprintf(&b, " inter %ds fall %d rise %d", hm.Delay, hm.MaxRetriesDown, hm.MaxRetries)
		if m.MonitorAddress != "" {
			fmt.Fprintf(&b, " addr %s", m.MonitorAddress)
		}
		if m.MonitorPort != 0 {
			fmt.Fprintf(&b, " port %d", m.MonitorPort)
		}
	}
	if p.SessionPersistence == PersistenceHTTPCookie {
		fmt.Fprintf(&b, " cookie %s", m.ID)
	}
	if p.Protocol == ProtocolProxy {
		b.WriteString(" send-proxy")
	}
	if m.Backup {
		b.WriteString(" backup")
	}
	if !m.Enabled {
		b.WriteString(" disabled")
	}
	return b.String()
}

// ExpandExpectedCodes turns Octavia's expected_codes ("200", "200,202",
// "200-204") into a sorted list of single codes, as Octavia does before
// writing `http-check expect rstatus a|b|c`.
func ExpandExpectedCodes(codes string) []string {
	seen := map[int]bool{}
	for _, part := range strings.Fields(strings.ReplaceAll(codes, ",", " ")) {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for c := a; c <= z && c-a < 1000; c++ {
			seen[c] = true
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, strconv.Itoa(c))
	}
	slices.SortFunc(out, func(x, y string) int { a, _ := strconv.Atoi(x); b, _ := strconv.Atoi(y); return a - b })
	return out
}

// safeToken reports whether s can be written into the config as one token.
func safeToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n\\#'\"")
}

func validate(lb LoadBalancer) error {
	if !safeToken(lb.ID) || !safeToken(lb.VIP) {
		return fmt.Errorf("id %q or vip %q is not a plain token", lb.ID, lb.VIP)
	}
	for _, l := range lb.Listeners {
		if !safeToken(l.ID) {
			return fmt.Errorf("listener id %q is not a plain token", l.ID)
		}
		if _, ok := listenerModes[l.Protocol]; !ok {
			return fmt.Errorf("listener %s: protocol %q not supported", l.ID, l.Protocol)
		}
		if l.Port < 1 || l.Port > 65535 {
			return fmt.Errorf("listener %s: port %d out of range", l.ID, l.Port)
		}
		for _, c := range l.AllowedCIDRs {
			if _, err := netip.ParsePrefix(c); err != nil {
				return fmt.Errorf("listener %s: allowed cidr %q: %w", l.ID, c, err)
			}
		}
		p := l.DefaultPool
		if p == nil {
			continue
		}
		if !safeToken(p.ID) {
			return fmt.Errorf("pool id %q is not a plain token", p.ID)
		}
		if _, ok := poolModes[p.Protocol]; !ok {
			return fmt.Errorf("pool %s: protocol %q not supported", p.ID, p.Protocol)
		}
		if _, ok := balance[p.Algorithm]; !ok {
			return fmt.Errorf("pool %s: lb_algorithm %q not supported", p.ID, p.Algorithm)
		}
		if p.SessionPersistence == PersistenceAppCookie && !safeToken(p.CookieName) {
			return fmt.Errorf("pool %s: cookie name %q is not a plain token", p.ID, p.CookieName)
		}
		if m := p.Monitor; m != nil && m.Enabled {
			switch m.Type {
			case MonitorTCP, MonitorTLSHello:
			case MonitorHTTP, MonitorHTTPS:
				if !safeToken(m.HTTPMethod) || !safeToken(m.URLPath) {
					return fmt.Errorf("monitor of pool %s: http_method %q or url_path %q is not a plain token", p.ID, m.HTTPMethod, m.URLPath)
				}
				if len(ExpandExpectedCodes(m.ExpectedCodes)) == 0 {
					return fmt.Errorf("monitor of pool %s: expected_codes %q has no code", p.ID, m.ExpectedCodes)
				}
				if m.DomainName != "" && !safeToken(m.DomainName) {
					return fmt.Errorf("monitor of pool %s: domain_name %q is not a plain token", p.ID, m.DomainName)
				}
			default:
				return fmt.Errorf("monitor of pool %s: type %q not supported", p.ID, m.Type)
			}
			if m.Delay < 1 || m.MaxRetries < 1 || m.MaxRetriesDown < 1 {
				return fmt.Errorf("monitor of pool %s: delay, max_retries and max_retries_down must be positive", p.ID)
			}
		}
		for _, m := range p.Members {
			if !safeToken(m.ID) || !safeToken(m.Address) {
				return fmt.Errorf("member id %q or address %q is not a plain token", m.ID, m.Address)
			}
			if m.MonitorAddress != "" && !safeToken(m.MonitorAddress) {
				return fmt.Errorf("member %s: monitor_address %q is not a plain token", m.ID, m.MonitorAddress)
			}
		}
	}
	return nil
}
