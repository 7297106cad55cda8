package octavia

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

const (
	projectA  = "e3cd678b11784734bc366148aa37580e"
	projectB  = "0b2bd1e3a5c24bd1a0b0c0b0d0e0f001"
	subnetID  = "d4af86e1-0051-488c-b7a0-527f97490c9a"
	networkID = "d0d217df-3958-4fbf-a3c2-8dad2908c709"
)

// env is a running service behind an HTTP server, with one gophercloud
// client per project.
type env struct {
	svc *Service
	srv *httptest.Server
	a   *gophercloud.ServiceClient // project A
	b   *gophercloud.ServiceClient // project B
}

func tokens(r *http.Request) (string, error) {
	switch r.Header.Get("X-Auth-Token") {
	case "token-a":
		return projectA, nil
	case "token-b":
		return projectB, nil
	}
	return "", errors.New("bad token")
}

func requireHAProxy(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the rendered config drops privileges to nobody, as Octavia's does")
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("haproxy not installed")
		}
		t.Skip("haproxy not installed")
	}
}

// newEnv starts the service on loopback VIPs (no host network), or on net.
func newEnv(t *testing.T, network *host.Network) *env {
	t.Helper()
	requireHAProxy(t)
	srv := httptest.NewServer(nil)
	svc := New(Deps{
		EndpointURL:     srv.URL + "/load-balancer",
		Authenticate:    tokens,
		Network:         network,
		SubnetID:        subnetID,
		NetworkID:       networkID,
		StateDir:        t.TempDir(),
		TransitionDelay: 100 * time.Millisecond,
		Logf:            t.Logf,
	})
	srv.Config.Handler = http.StripPrefix("/load-balancer", svc)
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Close(); err != nil {
			t.Errorf("close octavia: %v", err)
		}
	})
	base := srv.URL + "/load-balancer/"
	return &env{svc: svc, srv: srv, a: newEnvClient(base, "token-a"), b: newEnvClient(base, "token-b")}
}

// newEnvClient is a gophercloud load-balancer client for the endpoint base,
// set up the way openstack.NewLoadBalancerV2 does (ResourceBase base+"v2.0/").
func newEnvClient(base, token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base, ResourceBase: base + "v2.0/"}
}

// raw sends a request with token-a (or the given token) and decodes the
// JSON answer.
func (e *env) raw(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+"/load-balancer"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// wantFault checks an Octavia (WSME) error body.
func wantFault(t *testing.T, code int, body map[string]any, wantCode int, contains string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("status %d, want %d (body %v)", code, wantCode, body)
	}
	fs, _ := body["faultstring"].(string)
	if body["faultcode"] != "Client" || !strings.Contains(fs, contains) {
		t.Fatalf("fault body %v, want faultcode Client and faultstring containing %q", body, contains)
	}
	if v, ok := body["debuginfo"]; !ok || v != nil {
		t.Fatalf("fault body %v lacks debuginfo: null", body)
	}
}

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	if !gophercloud.ResponseCodeIs(err, code) {
		t.Fatalf("got %v, want HTTP %d", err, code)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("wait for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) waitActive(t *testing.T, lbID string) *loadbalancers.LoadBalancer {
	t.Helper()
	var lb *loadbalancers.LoadBalancer
	waitFor(t, "load balancer "+lbID+" ACTIVE", 20*time.Second, func() (bool, error) {
		var err error
		lb, err = loadbalancers.Get(context.Background(), e.a, lbID).Extract()
		if err != nil {
			return false, err
		}
		if lb.ProvisioningStatus == "ERROR" {
			return false, fmt.Errorf("load balancer went to ERROR")
		}
		return lb.ProvisioningStatus == "ACTIVE", nil
	})
	return lb
}

func (e *env) waitGone(t *testing.T, lbID string) {
	t.Helper()
	waitFor(t, "load balancer "+lbID+" gone", 20*time.Second, func() (bool, error) {
		_, err := loadbalancers.Get(context.Background(), e.a, lbID).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return true, nil
		}
		return false, err
	})
}

func (e *env) createLB(t *testing.T, name string) *loadbalancers.LoadBalancer {
	t.Helper()
	lb, err := loadbalancers.Create(context.Background(), e.a, loadbalancers.CreateOpts{Name: name, VipSubnetID: subnetID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return e.waitActive(t, lb.ID)
}

// memberStatuses reads the status tree and returns member id -> operating status.
func (e *env) memberStatuses(t *testing.T, lbID string) (map[string]string, map[string]any) {
	t.Helper()
	code, body := e.raw(t, "GET", "/v2/lbaas/loadbalancers/"+lbID+"/status", "token-a", "")
	if code != 200 {
		t.Fatalf("status tree: %d %v", code, body)
	}
	out := map[string]string{}
	lb := body["statuses"].(map[string]any)["loadbalancer"].(map[string]any)
	for _, l := range lb["listeners"].([]any) {
		for _, p := range l.(map[string]any)["pools"].([]any) {
			for _, m := range p.(map[string]any)["members"].([]any) {
				mm := m.(map[string]any)
				out[mm["id"].(string)] = mm["operating_status"].(string)
			}
		}
	}
	return out, lb
}

func memberStatus(t *testing.T, c *gophercloud.ServiceClient, poolID, memberID string) string {
	t.Helper()
	m, err := pools.GetMember(context.Background(), c, poolID, memberID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return m.OperatingStatus
}

// backend is a TCP server that greets with its name, with an HTTP health
// endpoint whose answer the test flips.
type backend struct {
	name       string
	port       int
	healthPort int
	healthy    atomic.Bool
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.healthy.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	b.port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s\n", name)
			c.Close()
		}
	}()
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.healthPort = hl.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})}
	go srv.Serve(hl)
	t.Cleanup(func() { srv.Close() })
	return b
}

// greet connects to addr and returns the first line the member sends.
func greet(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}
