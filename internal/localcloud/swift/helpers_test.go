package swift

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	projectA = "e3cd678b11784734bc366148aa37580e"
	projectB = "0b2bd1e3a5c24bd1a0b0c0b0d0e0f001"
	accountA = "AUTH_" + projectA
	tokenA   = "token-a"
)

func tokens(r *http.Request) (string, error) {
	switch r.Header.Get("X-Auth-Token") {
	case tokenA:
		return projectA, nil
	case "token-b":
		return projectB, nil
	}
	return "", errors.New("bad token")
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a service behind an HTTP server.
type env struct {
	svc   *Service
	srv   *httptest.Server
	clock *clock
	dir   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Now()}, dir: t.TempDir()}
	e.start(t)
	return e
}

// start (re)starts the service on e.dir.
func (e *env) start(t *testing.T) {
	t.Helper()
	svc, err := New(Deps{Authenticate: tokens, StateDir: e.dir, Now: e.clock.now, AuthURL: "http://keystone/v3",
		ExpirerInterval: time.Hour, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.srv = httptest.NewServer(svc)
	t.Cleanup(func() {
		e.srv.Close()
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
}

// url is the account's URL followed by path.
func (e *env) url(path string) string { return e.srv.URL + "/v1/" + accountA + path }

// do sends a request with token A (unless headers set X-Auth-Token, "" removes it)
// and returns the response with its body read.
func (e *env) do(t *testing.T, method, url string, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tokenA)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	if method == http.MethodPut && body == "" {
		req.Body = http.NoBody
		req.ContentLength = 0
		req.Header.Set("Content-Length", "0")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

// expect sends a request and fails unless the status is code.
func (e *env) expect(t *testing.T, code int, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	resp, data := e.do(t, method, url, body, headers...)
	if resp.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body %q", method, url, resp.StatusCode, code, data)
	}
	return resp, data
}
