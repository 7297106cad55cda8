package openstack

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestAuthRejectedNamesCauseAndURL(t *testing.T) {
	f := newFakeCloud(t)
	f.authStatus = http.StatusUnauthorized
	c := f.client(t)

	_, err := c.Compute(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("want *AuthError, got %T: %v", err, err)
	}
	if ae.Failure != AuthRejected {
		t.Errorf("failure = %q, want %q", ae.Failure, AuthRejected)
	}
	mustContain(t, err.Error(), "authentication failed", f.URL+"/v3")
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error leaks the password: %v", err)
	}

	// The failure is remembered: no second login attempt.
	if _, err2 := c.Network(context.Background()); !errors.Is(err2, ae) && err2 != error(ae) {
		t.Errorf("second call: got %v, want the cached error", err2)
	}
	if n := f.authCalls.Load(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

func TestAuthUnreachableNamesURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/v3"
	_ = l.Close() // nothing listens there now

	c, err := NewClient(Config{AuthURL: url, UserName: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Authenticate(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Failure != AuthUnreachable {
		t.Fatalf("want AuthUnreachable, got %v", err)
	}
	mustContain(t, err.Error(), "unreachable", url)
}

func TestAuthTLS(t *testing.T) {
	f := newFakeCloud(t)
	tlsSrv := httptest.NewUnstartedServer(f.Mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	cfg := f.config()
	cfg.AuthURL = tlsSrv.URL + "/v3"

	t.Run("untrusted certificate", func(t *testing.T) {
		c, _ := NewClient(cfg)
		_, err := c.Authenticate(context.Background())
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Failure != AuthTLS {
			t.Fatalf("want AuthTLS, got %v", err)
		}
		mustContain(t, err.Error(), "TLS", cfg.AuthURL)
	})

	t.Run("cacert_file trusts it", func(t *testing.T) {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		der := tlsSrv.Certificate().Raw
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := cfg
		cfg.CACertFile = ca
		c, _ := NewClient(cfg)
		if _, err := c.Authenticate(context.Background()); err != nil {
			t.Fatalf("with the CA: %v", err)
		}
	})

	t.Run("insecure skips the check", func(t *testing.T) {
		cfg := cfg
		yes := true
		cfg.Insecure = &yes
		c, _ := NewClient(cfg)
		if _, err := c.Authenticate(context.Background()); err != nil {
			t.Fatalf("insecure: %v", err)
		}
	})
}

func TestServiceMissingFromCatalog(t *testing.T) {
	f := newFakeCloud(t, "compute", "network")
	c := f.client(t)
	if _, err := c.Compute(context.Background()); err != nil {
		t.Fatalf("compute: %v", err)
	}
	_, err := c.LoadBalancer(context.Background())
	var sm *ServiceMissingError
	if !errors.As(err, &sm) {
		t.Fatalf("want *ServiceMissingError, got %T: %v", err, err)
	}
	mustContain(t, err.Error(), "load-balancer", "catalog")
}

func TestNotConfigured(t *testing.T) {
	c, err := NewClient(Config{})
	if err != nil {
		t.Fatalf("NewClient with nothing set must succeed (auth is lazy): %v", err)
	}
	_, err = c.Compute(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Failure != AuthNotConfigured {
		t.Fatalf("want AuthNotConfigured, got %v", err)
	}
	mustContain(t, err.Error(), "auth_url", "OS_AUTH_URL", "cloud")
}

func TestCanceledAuthIsNotCached(t *testing.T) {
	f := newFakeCloud(t)
	c := f.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Authenticate(ctx); err == nil {
		t.Fatal("want an error from a canceled context")
	}
	if _, err := c.Authenticate(context.Background()); err != nil {
		t.Fatalf("after cancel, a new attempt must be made: %v", err)
	}
}

func TestServiceClients(t *testing.T) {
	f := newFakeCloud(t)
	c := f.client(t)
	ctx := context.Background()
	compute, err := c.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if compute.Microversion != ComputeMicroversion || compute.Endpoint != f.URL+"/compute/v2.1/" {
		t.Errorf("compute: microversion %q endpoint %q", compute.Microversion, compute.Endpoint)
	}
	bs, err := c.BlockStorage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bs.Microversion != BlockStorageMicroversion {
		t.Errorf("block storage microversion %q", bs.Microversion)
	}
	nw, err := c.Network(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := nw.ResourceBaseURL(); got != f.URL+"/network/v2.0/" {
		t.Errorf("network base %q", got)
	}
	lb, err := c.LoadBalancer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := lb.ResourceBaseURL(); got != f.URL+"/lb/v2.0/" {
		t.Errorf("load balancer base %q", got)
	}
	again, _ := c.Compute(ctx)
	if again != compute {
		t.Error("service clients must be built once")
	}
	if n := f.authCalls.Load(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

func TestEndpointOverrides(t *testing.T) {
	f := newFakeCloud(t, "compute", "network")
	cfg := f.config()
	cfg.EndpointOverrides = map[string]string{"load-balancer": "http://127.0.0.1:9876/v2.0/", "compute": "compute"}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := c.LoadBalancer(context.Background())
	if err != nil {
		t.Fatalf("override URL must bypass the catalog: %v", err)
	}
	if lb.ResourceBaseURL() != "http://127.0.0.1:9876/v2.0/" {
		t.Errorf("lb base = %q", lb.ResourceBaseURL())
	}
	if _, err := c.Compute(context.Background()); err != nil {
		t.Fatalf("override with a service type: %v", err)
	}

	cfg.EndpointOverrides = map[string]string{"dns": "http://x/"}
	if _, err := NewClient(cfg); err == nil || !strings.Contains(err.Error(), "dns") {
		t.Errorf("unknown override key: got %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := map[string]struct {
		cfg  Config
		want string
	}{
		"password and token": {Config{Password: "p", Token: "t"}, "mutually exclusive"},
		"cert without key":   {Config{ClientCert: "c.pem"}, "cert and key"},
		"negative retries":   {Config{MaxRetries: -1}, "max_retries"},
		"bad endpoint type":  {Config{EndpointType: "private"}, "endpoint_type"},
		"secret alone":       {Config{ApplicationCredentialSecret: "s"}, "application_credential_id"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if _, err := NewClient(tc.cfg); err == nil {
				t.Error("NewClient must refuse it too")
			}
		})
	}
	if err := (Config{EndpointType: "internalURL"}).Validate(); err != nil {
		t.Errorf("internalURL: %v", err)
	}
}

func TestResolveFromCloudsYAML(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clouds.yaml")
	yaml := `clouds:
  lab:
    auth:
      auth_url: http://keystone.example:5000/v3
      username: alice
      password: from-yaml
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionTwo
    interface: internal
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", file)
	for _, k := range []string{"OS_CLOUD", "OS_REGION_NAME", "OS_INTERFACE", "OS_CACERT", "OS_CERT", "OS_KEY"} {
		t.Setenv(k, "")
	}

	r, err := Config{Cloud: "lab"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.Auth.IdentityEndpoint != "http://keystone.example:5000/v3" || r.Auth.Username != "alice" || r.Auth.Password != "from-yaml" {
		t.Errorf("auth = %+v", r.Auth)
	}
	if r.Endpoint.Region != "RegionTwo" || r.Endpoint.Availability != "internal" {
		t.Errorf("endpoint = %+v", r.Endpoint)
	}
	if r.Auth.Scope == nil || r.Auth.Scope.ProjectName != "demo" {
		t.Errorf("scope = %+v", r.Auth.Scope)
	}

	// Explicit settings win over the file.
	r, err = Config{Cloud: "lab", Password: "explicit", Region: "RegionThree"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.Auth.Password != "explicit" || r.Endpoint.Region != "RegionThree" {
		t.Errorf("explicit values lost: password=%q region=%q", r.Auth.Password, r.Endpoint.Region)
	}

	if _, err := (Config{Cloud: "nope"}).Resolve(); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown cloud: %v", err)
	}
}

func TestResolveWithoutCloudDefaultsDomains(t *testing.T) {
	r, err := Config{AuthURL: "http://k/v3", UserName: "u", Password: "p", ProjectName: "demo"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.Auth.DomainID != "default" || r.Auth.Scope == nil || r.Auth.Scope.DomainID != "default" {
		t.Errorf("auth = %+v scope = %+v", r.Auth, r.Auth.Scope)
	}
	r, _ = Config{AuthURL: "http://k/v3", ApplicationCredentialID: "id", ApplicationCredentialSecret: "s"}.Resolve()
	if r.Auth.Scope != nil {
		t.Errorf("application credentials carry their own scope; got %+v", r.Auth.Scope)
	}
}

func TestConcurrentFirstCallsAuthenticateOnce(t *testing.T) {
	f := newFakeCloud(t)
	c := f.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = c.Compute(context.Background())
			} else {
				_, err = c.Network(context.Background())
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := f.authCalls.Load(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

// An expired token (401 from a service) makes gophercloud log in again once.
func TestExpiredTokenReauthenticates(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("GET /compute/v2.1/os-keypairs/kp", sequence(
		status(401, map[string]any{"error": map[string]any{"code": 401, "message": "token expired"}}),
		status(200, map[string]any{"keypair": map[string]any{"name": "kp", "public_key": "ssh-ed25519 AAA"}}),
	))
	c := f.client(t)
	if _, err := c.GetKeyPair(context.Background(), "kp"); err != nil {
		t.Fatal(err)
	}
	if n := f.authCalls.Load(); n != 2 {
		t.Errorf("auth calls = %d, want 2 (login, then re-login after the 401)", n)
	}
}
