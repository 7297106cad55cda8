package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcopenstack "github.com/gophercloud/gophercloud/v2/openstack"
)

// Client is one lazily authenticated connection to an OpenStack cloud. The
// first call that needs the cloud authenticates; later calls reuse the token
// (gophercloud re-authenticates when it expires). A failed authentication is
// remembered and returned to every later caller, so a bad password produces
// one clear error rather than one login attempt per resource.
type Client struct {
	cfg Config

	// transport is the base HTTP transport; nil means a clone of
	// http.DefaultTransport with the configured TLS settings.
	transport http.RoundTripper
	// retryBase is the first retry delay when no Retry-After is given.
	retryBase time.Duration
	// pollInitial and pollMax bound the poll interval of every wait.
	pollInitial, pollMax time.Duration
	// lookups remembers resolved flavors, images and networks.
	lookups lookups
	// deletingServers and deletingVolumes share one list per poll among
	// the waits for deletes that run together.
	deletingServers, deletingVolumes presence
	// servers lets the waits for new servers share one list per poll.
	servers serverWatch
	// writes counts the requests that may have changed something.
	writes atomic.Uint64
	// logger receives the request log; nil logs nothing.
	logger Logger

	mu       sync.Mutex
	provider *gophercloud.ProviderClient
	endpoint gophercloud.EndpointOpts
	authErr  error
	services map[string]*gophercloud.ServiceClient
}

// Option changes how a Client is built; used by tests.
type Option func(*Client)

// WithTransport makes the client send its requests through rt (before the
// retry and logging layers are added).
func WithTransport(rt http.RoundTripper) Option { return func(c *Client) { c.transport = rt } }

// WithRetryBaseDelay sets the first retry delay (default 1 s).
func WithRetryBaseDelay(d time.Duration) Option { return func(c *Client) { c.retryBase = d } }

// WithPollInterval sets the first and the longest poll interval of the
// waits done by the helpers (default 0.5 s and 5 s).
func WithPollInterval(initial, max time.Duration) Option {
	return func(c *Client) { c.pollInitial, c.pollMax = initial, max }
}

// NewClient checks cfg and returns a client that has not talked to the cloud
// yet. It fails only on settings that are wrong whatever the cloud says.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, retryBase: time.Second, services: map[string]*gophercloud.ServiceClient{}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// The schedule of a wait for a delete: no cloud deletes a server, volume or
// load balancer within a second, and most take a few (a look at once can
// only say "deleting"), so the first look comes after deletePoll, the next
// ones every deletePoll until deleteSteady, then backing off. A shrink
// deletes a server, then its volume, on the apply's path.
const (
	deletePoll   = time.Second
	deleteSteady = 3 * time.Second
)

// The schedule of a wait for an object just created or changed (a server
// to boot, a volume to attach, a load balancer to build): the first look
// after a moment no cloud finishes in, then every createPoll for
// createSteady, then backing off. The transitions end within a second or
// two on a fast cloud, where a doubling interval finds them up to a second
// late; on a slow one the backoff keeps the request count down.
const (
	createPoll   = 250 * time.Millisecond
	createSteady = 3 * time.Second
	lbFirstLook  = 500 * time.Millisecond // Octavia's PENDING_* (an amphora)
	// A volume attach (reserved, attaching, in-use) takes a few steps of
	// Nova and Cinder: a look before half a second can only say attaching.
	attachFirstLook = 500 * time.Millisecond
)

// A boot (scheduling, networking, spawning, and a guest OS that starts)
// takes well over a second on any cloud: the first look comes after
// serverFirstLook, and the steady polling lasts until serverSteady, past
// the few seconds a fast cloud's boot takes, so the wait does not back off
// just as the servers turn ACTIVE (a doubling interval found them up to a
// second late). A create prepares each node as soon as its own server is
// ACTIVE, so the looks that find the first servers up count too.
const (
	serverFirstLook = 1500 * time.Millisecond
	serverSteady    = 6 * time.Second
)

// createWait gives w the schedule of a wait after a create, the first look
// after firstLook. A client built WithPollInterval (tests) keeps its own.
func (c *Client) createWait(w Wait, firstLook time.Duration) Wait {
	if c.pollInitial != 0 {
		return w
	}
	w.Initial, w.Steady, w.FirstLook = createPoll, createSteady, firstLook
	return w
}

// waitStatus is WaitForStatus with the client's poll intervals.
func (c *Client) waitStatus(ctx context.Context, w Wait, poll PollFunc) (string, error) {
	if w.Initial == 0 {
		w.Initial = c.pollInitial
	}
	if w.Initial == 0 && w.GoneOK {
		w.Initial, w.Steady, w.FirstLook = deletePoll, deleteSteady, deletePoll
	}
	if w.Max == 0 {
		w.Max = c.pollMax
	}
	return WaitForStatus(ctx, w, poll)
}

// waitFor is WaitFor with the client's poll intervals.
func (c *Client) waitFor(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	_, err := c.waitStatus(ctx, Wait{What: what, Target: []string{"done"}}, checkPoll(check))
	return err
}

// Config returns the configuration the client was built from.
func (c *Client) Config() Config { return c.cfg }

// Region is the region service endpoints are taken from (may be empty).
func (c *Client) Region() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.endpoint.Region
	}
	return c.cfg.Region
}

// Authenticate logs in if that has not happened yet and returns the provider
// client. Context errors are not remembered: a later call may try again.
func (c *Client) Authenticate(ctx context.Context) (*gophercloud.ProviderClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authenticateLocked(ctx)
}

func (c *Client) authenticateLocked(ctx context.Context) (*gophercloud.ProviderClient, error) {
	if c.provider != nil {
		return c.provider, nil
	}
	if c.authErr != nil {
		return nil, c.authErr
	}
	pc, eo, err := c.login(ctx)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			c.authErr = err
		}
		return nil, err
	}
	c.provider, c.endpoint = pc, eo
	return pc, nil
}

func (c *Client) login(ctx context.Context) (*gophercloud.ProviderClient, gophercloud.EndpointOpts, error) {
	r, err := c.cfg.Resolve()
	if err != nil {
		return nil, gophercloud.EndpointOpts{}, &AuthError{Failure: AuthConfigInvalid, URL: c.cfg.AuthURL, Err: err}
	}
	authURL := r.Auth.IdentityEndpoint
	if authURL == "" {
		return nil, r.Endpoint, &AuthError{Failure: AuthNotConfigured,
			Err: errors.New("no identity endpoint: set auth_url (OS_AUTH_URL) or cloud (OS_CLOUD) with a clouds.yaml entry")}
	}
	pc, err := gcopenstack.NewClient(authURL)
	if err != nil {
		return nil, r.Endpoint, &AuthError{Failure: AuthConfigInvalid, URL: authURL, Err: err}
	}
	base := c.transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = r.TLS
		base = t
	}
	log := newMaskingLogger(c.logger, []string{r.Auth.Password, r.Auth.TokenID, r.Auth.ApplicationCredentialSecret})
	pc.HTTPClient = http.Client{
		Transport: &writeCounter{n: &c.writes, next: &retryTransport{
			next:       &logTransport{next: base, log: log},
			log:        log,
			maxRetries: c.cfg.MaxRetries,
			baseDelay:  c.retryBase,
			maxDelay:   30 * time.Second,
		}},
	}
	if c.cfg.UserAgent != "" {
		pc.UserAgent.Prepend(c.cfg.UserAgent)
	}
	// Terraform's convention for tagging a provider's requests (the
	// OpenStack provider honours it too): tests count their own requests
	// on a shared cloud by it.
	if extra := strings.TrimSpace(os.Getenv("TF_APPEND_USER_AGENT")); extra != "" {
		pc.UserAgent.Prepend(extra)
	}
	if err := gcopenstack.Authenticate(ctx, pc, r.Auth); err != nil {
		if ctx.Err() != nil {
			return nil, r.Endpoint, fmt.Errorf("authenticate to OpenStack at %s: %w", authURL, ctx.Err())
		}
		return nil, r.Endpoint, classifyAuth(authURL, err)
	}
	return pc, r.Endpoint, nil
}

// Compute returns the Nova client, pinned to ComputeMicroversion.
func (c *Client) Compute(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, ServiceCompute, ComputeMicroversion, gcopenstack.NewComputeV2)
}

// BlockStorage returns the Cinder v3 client, pinned to BlockStorageMicroversion.
func (c *Client) BlockStorage(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, ServiceBlockStorage, BlockStorageMicroversion, gcopenstack.NewBlockStorageV3)
}

// Network returns the Neutron v2 client.
func (c *Client) Network(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, ServiceNetwork, "", gcopenstack.NewNetworkV2)
}

// LoadBalancer returns the Octavia v2 client.
func (c *Client) LoadBalancer(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, ServiceLoadBalancer, "", gcopenstack.NewLoadBalancerV2)
}

// Image returns the Glance v2 client.
func (c *Client) Image(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, ServiceImage, "", gcopenstack.NewImageV2)
}

type newServiceFunc func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)

// service builds (once) the client of one service: from the catalog, from a
// catalog alias, or from a URL given in endpoint_overrides.
func (c *Client) service(ctx context.Context, service, microversion string, build newServiceFunc) (*gophercloud.ServiceClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc, ok := c.services[service]; ok {
		return sc, nil
	}
	pc, err := c.authenticateLocked(ctx)
	if err != nil {
		return nil, err
	}
	eo := c.endpoint
	override := c.cfg.override(service)
	var sc *gophercloud.ServiceClient
	if strings.Contains(override, "://") {
		// The URL is the versioned base; no catalog lookup, no discovery.
		sc = &gophercloud.ServiceClient{
			ProviderClient: pc,
			Endpoint:       gophercloud.NormalizeURL(override),
			Type:           service,
		}
	} else {
		if override != "" {
			eo.Type = override
		}
		sc, err = buildWithoutDiscovery(pc, eo, service, build)
		if err != nil {
			if isEndpointNotFound(err) {
				name := service
				if override != "" {
					name = override
				}
				return nil, &ServiceMissingError{Service: name, Region: eo.Region, Interface: string(eo.Availability)}
			}
			return nil, fmt.Errorf("find the %s endpoint: %w", service, err)
		}
	}
	sc.Microversion = microversion
	c.services[service] = sc
	return sc, nil
}

// buildWithoutDiscovery builds a service client from the catalog. Neutron's,
// Octavia's and Glance's catalog URLs carry no version, and gophercloud
// then asks the endpoint for its versions (one GET per service per run)
// although the v2 API is the only one each has: their clients skip that
// request.
func buildWithoutDiscovery(pc *gophercloud.ProviderClient, eo gophercloud.EndpointOpts, service string, build newServiceFunc) (*gophercloud.ServiceClient, error) {
	if service != ServiceNetwork && service != ServiceLoadBalancer && service != ServiceImage {
		return build(pc, eo)
	}
	locate := pc.EndpointLocator
	pc.EndpointLocator = func(o gophercloud.EndpointOpts) (string, error) {
		o.Version = 0
		return locate(o)
	}
	defer func() { pc.EndpointLocator = locate }()
	return build(pc, eo)
}

// Writes is how many requests other than GET and HEAD the client has sent:
// what it listed before is still what it would list now, as far as this
// client knows, while Writes is unchanged.
func (c *Client) Writes() uint64 { return c.writes.Load() }

// writeCounter counts the requests that may change something.
type writeCounter struct {
	n    *atomic.Uint64
	next http.RoundTripper
}

func (w *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.n.Add(1)
	}
	return w.next.RoundTrip(r)
}
