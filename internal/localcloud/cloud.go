package localcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/aptrepo"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/cinder"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/neutron"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/nova"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// Config configures a Cloud. Zero values take the defaults documented per field.
type Config struct {
	// Listen is the TCP address of the API listener; default "127.0.0.1:0"
	// (a free port). Only loopback addresses are accepted.
	Listen string
	// StateDir holds the state file, volume files and host directories. Required.
	StateDir string
	// Region is the catalog region; default "RegionOne".
	Region string
	// User, Project and Domain name the seeded identity; defaults "admin",
	// "admin", "Default". Password empty: generated at first start and kept
	// in the state file.
	User, Project, Domain, Password string
	// Hypervisors is the number of simulated compute hosts that server
	// group policies are checked against; default 3.
	Hypervisors int
	// AvailabilityZones are the zones hypervisors are spread over (round
	// robin); default ["nova"].
	AvailabilityZones []string
	// StepDelay is the pause between the steps of an asynchronous status
	// change (BUILD -> ACTIVE, creating -> available, ...); default 150ms.
	StepDelay time.Duration
	// InitLessServers boots servers as init-less hosts (sshd as PID 1 over
	// the machine's filesystem, a synthesised console; fast, for the guest
	// library's tests) instead of their Glance image with systemd as PID 1
	// and cloud-init (package image builds the images once per machine).
	InitLessServers bool
	// TokenTTL is how long a Keystone token is valid; default 1h.
	TokenTTL time.Duration
	// NetPrefix starts kernel object names (bridge, namespaces); default "lc".
	NetPrefix string
	// LoadBalancer, if set, builds the load-balancer (Octavia) service mounted
	// at /load-balancer. The main binary wires package octavia in here.
	LoadBalancer func(LoadBalancerDeps) (LoadBalancerService, error)
	// Logger receives one line per request and lifecycle events; default discards.
	Logger *slog.Logger
}

// LoadBalancerDeps is what the cloud hands to the load-balancer service.
type LoadBalancerDeps struct {
	// Authenticate validates X-Auth-Token and returns the token's project.
	Authenticate func(r *http.Request) (projectID string, err error)
	Network      *host.Network
	NetworkID    string
	SubnetID     string
	StateDir     string
	// EndpointURL is the service root in the catalog, for version links.
	EndpointURL string
	// CreateVIPPort records a Neutron port (device_owner Octavia) for a load
	// balancer's VIP, whose address the service already holds; floating IPs
	// can then target it. DeleteVIPPort removes it (and disassociates its
	// floating IPs). Both take the cloud's lock: do not call them while
	// holding a lock the cloud might wait for.
	CreateVIPPort func(lbID, projectID string, addr netip.Addr) (portID string, err error)
	DeleteVIPPort func(portID string) error
}

// LoadBalancerService serves the Octavia v2 API below the service root
// (/v2/lbaas/..., /v2.0/lbaas/..., / for version discovery).
type LoadBalancerService interface {
	http.Handler
	Close() error
}

// Cloud is a running local cloud.
type Cloud struct {
	// Store is the shared state (records, hosts, disks, the lock and the
	// asynchronous transitions) every service works on.
	*state.Store
	cfg Config

	ln      net.Listener
	httpSrv *http.Server
	baseURL string

	lb       LoadBalancerService
	objects  *objectStore    // Swift, also served on the bridge gateway (objectstore.go)
	packages *aptrepo.Server // the Debian mirror on the bridge gateway (packagesource.go)

	keystone *keystone.Service
	neutron  *neutron.Service
	cinder   *cinder.Service
	nova     *nova.Service

	faults      []*fault // guarded by Mu
	requests    requestLog
	shutdownReq chan struct{}

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

// Start creates the network, restores or creates the state and serves the
// APIs until Close.
func Start(ctx context.Context, cfg Config) (*Cloud, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("start local cloud: StateDir is required")
	}
	setDefaults(&cfg)
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	st, err := state.Load(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	listenHost, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", cfg.Listen, err)
	}
	if ip := net.ParseIP(listenHost); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("listen address %q: only loopback addresses are allowed", cfg.Listen)
	}

	c := &Cloud{
		Store: state.NewStore(cfg.StateDir, st, cfg.StepDelay, cfg.Logger),
		cfg:   cfg,
		done:  make(chan struct{}),
	}
	c.St.Identity.Seed(cfg.Password)

	if err := c.startNetwork(ctx); err != nil {
		c.Cancel()
		return nil, err
	}
	if err := c.Persist(); err != nil {
		_ = c.Store.Network.Close()
		c.Cancel()
		return nil, err
	}

	c.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = c.Store.Network.Close()
		c.Cancel()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	c.baseURL = "http://" + c.ln.Addr().String()
	if err := c.listenObjectStore(); err != nil {
		_ = c.ln.Close()
		_ = c.Store.Network.Close()
		c.Cancel()
		return nil, err
	}
	c.keystone = keystone.New(keystone.Config{
		BaseURL: c.baseURL, Region: cfg.Region, User: cfg.User, Project: cfg.Project,
		Domain: cfg.Domain, TokenTTL: cfg.TokenTTL, LoadBalancer: cfg.LoadBalancer != nil,
		ObjectStoreURL: c.objects.baseURL,
	}, &c.Mu, &c.St.Identity, c.Save)
	if err := c.startObjectStore(); err != nil {
		_ = c.stopObjectStore()
		_ = c.ln.Close()
		_ = c.Store.Network.Close()
		c.Cancel()
		return nil, fmt.Errorf("start object store: %w", err)
	}
	c.neutron = neutron.New(c.Store, c.baseURL, cfg.AvailabilityZones, c.keystone.Authed)
	c.neutron.EnsureDefaultSecurityGroup()
	c.cinder = cinder.New(c.Store, c.baseURL, cfg.AvailabilityZones, c.keystone.Authed)
	c.nova = nova.New(c.Store, nova.Config{Hypervisors: cfg.Hypervisors, AvailabilityZones: cfg.AvailabilityZones,
		InitLess: cfg.InitLessServers, Logf: func(format string, args ...any) { c.Log.Warn(fmt.Sprintf(format, args...), "service", "nova") }},
		c.baseURL, c.keystone.Authed, c.neutron)
	c.Save()

	if cfg.LoadBalancer != nil {
		c.lb, err = cfg.LoadBalancer(LoadBalancerDeps{
			Authenticate:  c.keystone.AuthenticateRequest,
			Network:       c.Store.Network,
			NetworkID:     c.St.NetworkID,
			SubnetID:      c.St.SubnetID,
			StateDir:      filepath.Join(cfg.StateDir, "octavia"),
			EndpointURL:   c.baseURL + "/load-balancer",
			CreateVIPPort: c.neutron.CreateVIPPort,
			DeleteVIPPort: c.neutron.DeleteVIPPort,
		})
		if err != nil {
			_ = c.stopObjectStore()
			_ = c.ln.Close()
			_ = c.Store.Network.Close()
			c.Cancel()
			return nil, fmt.Errorf("start load-balancer service: %w", err)
		}
	}

	if err := c.startPackageSource(ctx); err != nil {
		if c.lb != nil {
			_ = c.lb.Close()
		}
		_ = c.stopObjectStore()
		_ = c.ln.Close()
		_ = c.Store.Network.Close()
		c.Cancel()
		return nil, err
	}
	c.GoDaemon(c.nova.SyncPowerStates)
	c.httpSrv = &http.Server{Handler: c.routes(), ReadHeaderTimeout: 10 * time.Second}
	c.serveObjectStore(c.httpSrv.Handler)
	go func() {
		defer close(c.done)
		if err := c.httpSrv.Serve(c.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.Log.Error("api listener stopped", "err", err)
		}
	}()
	c.Log.Info("local cloud ready", "url", c.baseURL, "subnet", c.Store.Network.Subnet().String())
	return c, nil
}

func setDefaults(cfg *Config) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Region == "" {
		cfg.Region = "RegionOne"
	}
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if cfg.Project == "" {
		cfg.Project = "admin"
	}
	if cfg.Domain == "" {
		cfg.Domain = "Default"
	}
	if cfg.Hypervisors <= 0 {
		cfg.Hypervisors = 3
	}
	if len(cfg.AvailabilityZones) == 0 {
		cfg.AvailabilityZones = []string{"nova"}
	}
	if cfg.StepDelay <= 0 {
		cfg.StepDelay = 150 * time.Millisecond
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.NetPrefix == "" {
		cfg.NetPrefix = "lc"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(discard{}, nil))
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// startNetwork creates the bridge behind the one network and subnet, and the
// project's default security group.
func (c *Cloud) startNetwork(ctx context.Context) error {
	hostsDir, err := filepath.Abs(filepath.Join(c.cfg.StateDir, "hosts"))
	if err != nil {
		return fmt.Errorf("hosts dir: %w", err)
	}
	if err := os.MkdirAll(hostsDir, 0o700); err != nil { // host wants an absolute path
		return fmt.Errorf("create hosts dir: %w", err)
	}
	n, err := host.NewNetwork(ctx, host.NetworkOptions{Prefix: c.cfg.NetPrefix, StateDir: hostsDir})
	if err != nil {
		return fmt.Errorf("create network: %w", err)
	}
	c.Store.Network = n
	if c.Public, err = n.AddExternalSubnet(ctx); err != nil {
		_ = n.Close()
		return fmt.Errorf("create external network: %w", err)
	}
	if c.St.NetworkID == "" {
		c.St.NetworkID = core.NewUUID()
		c.St.SubnetID = core.NewUUID()
	}
	if c.St.PublicNetID == "" {
		c.St.PublicNetID = core.NewUUID()
		c.St.PublicSubnetID = core.NewUUID()
	}
	return nil
}

// URL is the base URL of the API listener, e.g. http://127.0.0.1:41234.
func (c *Cloud) URL() string { return c.baseURL }

// AuthURL is the Keystone v3 endpoint clients authenticate against.
func (c *Cloud) AuthURL() string { return c.baseURL + "/identity/v3" }

// Credentials returns the seeded user's name, password, project and domain.
func (c *Cloud) Credentials() (user, password, project, domain string) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	return c.cfg.User, c.St.Password, c.cfg.Project, c.cfg.Domain
}

// PublicNetworkID names the external network (floating IPs); PublicSubnet
// is its subnet, a second /24 on the same bridge.
func (c *Cloud) PublicNetworkID() string    { return c.St.PublicNetID }
func (c *Cloud) PublicSubnet() netip.Prefix { return c.Public }

// NetworkID and SubnetID name the ready-made network and subnet.
func (c *Cloud) NetworkID() string { return c.St.NetworkID }
func (c *Cloud) SubnetID() string  { return c.St.SubnetID }

// ServerInit says how servers boot: "systemd" (their Glance image, systemd
// as PID 1) or "none" (init-less hosts, Config.InitLessServers).
func (c *Cloud) ServerInit() string {
	if c.cfg.InitLessServers {
		return "none"
	}
	return "systemd"
}

// Network is the bridge the servers are on (tests reach hosts through it).
func (c *Cloud) Network() *host.Network { return c.Store.Network }

// Done is closed when the API listener has stopped.
func (c *Cloud) Done() <-chan struct{} { return c.done }

// Close deletes every server, volume, port and load balancer, stops the
// listener and removes the network. The state file is left describing only
// what survives a restart (identity, keypairs, security and server groups).
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.shutdown() })
	return c.closeErr
}

func (c *Cloud) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if c.httpSrv != nil {
		shCtx, shCancel := context.WithTimeout(ctx, 5*time.Second)
		if err := c.httpSrv.Shutdown(shCtx); err != nil {
			errs = append(errs, fmt.Errorf("stop api listener: %w", err))
		}
		shCancel()
	}
	c.Stop()
	if err := c.stopObjectStore(); err != nil {
		errs = append(errs, err)
	}
	if err := c.stopPackageSource(); err != nil {
		errs = append(errs, err)
	}
	if c.lb != nil {
		if err := c.lb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop load-balancer service: %w", err))
		}
	}
	if err := c.deleteEverything(ctx); err != nil {
		errs = append(errs, err)
	}
	if c.Store.Network != nil {
		if err := c.Store.Network.Close(); err != nil {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
	}
	return errors.Join(errs...)
}

// deleteEverything removes every host, disk, server, volume and port record.
func (c *Cloud) deleteEverything(ctx context.Context) error {
	c.Mu.Lock()
	hosts := c.Hosts
	disks := c.Disks
	c.Hosts = map[string]*host.Host{}
	c.Disks = map[string]*host.Disk{}
	c.St.Servers = map[string]*state.Server{}
	c.St.Volumes = map[string]*state.Volume{}
	c.St.Ports = map[string]*state.Port{}
	// Floating IP aliases live in the hosts' and VIPs' namespaces and go with them.
	c.St.FloatingIPs = map[string]*state.FloatingIP{}
	for _, g := range c.St.ServerGroups {
		g.Members = []string{}
	}
	c.Mu.Unlock()
	var errs []error
	for id, h := range hosts {
		if err := h.Close(); err != nil {
			errs = append(errs, fmt.Errorf("remove host of server %s: %w", id, err))
		}
		c.Store.Network.ReleaseAddr(h.Addr())
	}
	for id, d := range disks {
		if err := d.Close(); err != nil {
			errs = append(errs, fmt.Errorf("remove disk of volume %s: %w", id, err))
		}
	}
	c.Mu.Lock()
	if err := c.Persist(); err != nil {
		errs = append(errs, err)
	}
	c.Mu.Unlock()
	return errors.Join(errs...)
}

// routes builds the HTTP handler of every service.
func (c *Cloud) routes() http.Handler {
	mux := http.NewServeMux()
	c.keystone.Routes(mux)
	c.nova.Routes(mux)
	glance.New(c.baseURL).Routes(mux, c.keystone.Authed)
	c.cinder.Routes(mux)
	c.neutron.Routes(mux)
	c.adminRoutes(mux)
	c.objectStoreRoutes(mux)
	if c.lb != nil {
		lb := http.StripPrefix("/load-balancer", c.lb)
		mux.Handle("/load-balancer/", lb)
		mux.Handle("/load-balancer", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			c.lb.ServeHTTP(w, r2)
		}))
	}
	return c.withCommon(c.withJSONNotFound(mux))
}

// withJSONNotFound answers paths no route knows with the service's own 404
// body (the mux would answer text/plain).
func (c *Cloud) withJSONNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" && !strings.HasPrefix(r.URL.Path, "/load-balancer") {
			svc := serviceOf(r.URL.Path)
			e := core.Errf(http.StatusNotFound, "The resource could not be found.")
			if svc == core.Network {
				e = core.NeutronErrf(http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
			}
			core.WriteError(w, svc, e)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// serviceOf tells which service a path belongs to.
func serviceOf(path string) core.Service {
	switch {
	case strings.HasPrefix(path, "/identity"):
		return core.Identity
	case strings.HasPrefix(path, "/compute"):
		return core.Compute
	case strings.HasPrefix(path, "/image"):
		return core.Image
	case strings.HasPrefix(path, "/volume"):
		return core.Volume
	case strings.HasPrefix(path, "/network"):
		return core.Network
	}
	return core.Admin
}

// withCommon adds request ids, logging and fault injection.
func (c *Cloud) withCommon(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := "req-" + core.NewUUID()
		w.Header().Set("X-Openstack-Request-Id", reqID)
		if strings.HasPrefix(r.URL.Path, "/compute") {
			w.Header().Set("X-Compute-Request-Id", reqID)
		}
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		start := time.Now()
		if !strings.HasPrefix(r.URL.Path, "/_admin") {
			if f := c.matchFault(r); f != nil {
				rec.code = f.Status
				e := &core.Error{Code: f.Status, Message: f.message()}
				if f.Status == 429 || f.Status == 413 {
					e.RetryAfter = f.RetryAfter
				}
				if isObjectStorePath(r.URL.Path) {
					writeObjectStoreFault(w, r, e)
				} else if serviceOf(r.URL.Path) == core.Admin { // load balancer: Octavia's WSME body
					writeOctaviaFault(w, e)
				} else {
					core.WriteError(w, serviceOf(r.URL.Path), e)
				}
				c.Log.Info("api", "method", r.Method, "path", r.URL.Path, "status", f.Status, "injected", true)
				c.requests.add(r, f.Status)
				return
			}
		}
		next.ServeHTTP(rec, r)
		c.requests.add(r, rec.code)
		c.Log.Info("api", "method", r.Method, "path", r.URL.Path, "status", rec.code, "ms", time.Since(start).Milliseconds())
	})
}

func writeOctaviaFault(w http.ResponseWriter, e *core.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	code := "Client"
	if e.Code >= 500 {
		code = "Server"
	}
	core.WriteJSON(w, e.Code, map[string]any{"faultcode": code, "faultstring": e.Message, "debuginfo": nil})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// RemoveState deletes the state file in dir (after `localcloud down` has
// cleaned up what it described).
func RemoveState(dir string) error { return state.RemoveState(dir) }

// ErrStaleState says a previous process left servers, volumes or ports whose
// hosts and devices no longer exist.
var ErrStaleState = state.ErrStaleState
