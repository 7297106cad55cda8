package openstack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func newRetryClient(maxRetries int, base time.Duration) *http.Client {
	return &http.Client{Transport: &retryTransport{
		next: &logTransport{next: http.DefaultTransport, log: nopLogger{}}, log: nopLogger{}, maxRetries: maxRetries, baseDelay: base, maxDelay: 5 * time.Second,
	}}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	var first time.Time
	var gap time.Duration
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) != `{"x":1}` {
			t.Errorf("attempt %d: body %q was not replayed", calls.Load()+1, body)
		}
		if calls.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		gap = time.Since(first)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	resp, err := newRetryClient(3, time.Millisecond).Post(srv.URL, "application/json", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || calls.Load() != 2 {
		t.Fatalf("status %d after %d calls", resp.StatusCode, calls.Load())
	}
	if gap < 900*time.Millisecond {
		t.Errorf("retried after %v; Retry-After said 1 s", gap)
	}
}

func TestRetry503ThenSuccess(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	resp, err := newRetryClient(5, time.Millisecond).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || calls.Load() != 3 {
		t.Fatalf("status %d after %d calls, want 200 after 3", resp.StatusCode, calls.Load())
	}
}

func TestRetryBoundedByMaxRetries(t *testing.T) {
	for _, max := range []int{0, 2} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(http.StatusBadGateway)
		}))
		resp, err := newRetryClient(max, time.Millisecond).Get(srv.URL)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || int(calls.Load()) != max+1 {
			t.Errorf("max_retries=%d: status %d after %d calls, want 502 after %d", max, resp.StatusCode, calls.Load(), max+1)
		}
	}
}

func TestRetryDoesNotRetryOtherErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	resp, err := newRetryClient(3, time.Millisecond).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls.Load() != 1 {
		t.Errorf("500 was retried %d times", calls.Load()-1)
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	_, err := newRetryClient(10, time.Millisecond).Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v: the context deadline was not honoured", time.Since(start))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d, ok := parseRetryAfter("7", now); !ok || d != 7*time.Second {
		t.Errorf("seconds: %v %v", d, ok)
	}
	if d, ok := parseRetryAfter(now.Add(3*time.Second).Format(http.TimeFormat), now); !ok || d != 3*time.Second {
		t.Errorf("date: %v %v", d, ok)
	}
	if _, ok := parseRetryAfter("soon", now); ok {
		t.Error("garbage accepted")
	}
}

func TestRedactBody(t *testing.T) {
	in := `{"auth":{"identity":{"methods":["password","token"],"password":{"user":{"name":"u","password":"hunter2"}},
	"token":{"id":"tok123"}}},"server":{"adminPass":"ap","user_data":"ud","name":"db-1"},
	"keypair":{"private_key":"-----BEGIN","public_key":"ssh-ed25519 AAA"},
	"application_credential":{"secret":"sec"}}`
	out := redactBody([]byte(in))
	for _, secret := range []string{"hunter2", "tok123", `"ap"`, `"ud"`, "-----BEGIN", `"sec"`} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted body still contains %s: %s", secret, out)
		}
	}
	mustContain(t, out, "db-1", "ssh-ed25519 AAA", `"name":"u"`)
	h := http.Header{"X-Auth-Token": {"tok"}, "Content-Type": {"application/json"}}
	if got := redactHeaders(h); got["X-Auth-Token"] != "***" || got["Content-Type"] != "application/json" {
		t.Errorf("headers: %v", got)
	}
}

// A proxy's 502 or 504 can come after the service made the object: a POST
// answered so must not be sent again, or the cloud holds two.
func TestRetryNeverRepostsAfterGatewayError(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusGatewayTimeout} {
		var created atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := created.Add(1) // the service creates the object, then the proxy fails
			if n == 1 {
				w.WriteHeader(status)
				return
			}
			w.WriteHeader(http.StatusCreated)
		}))
		resp, err := newRetryClient(3, time.Millisecond).Post(srv.URL, "application/json", strings.NewReader(`{"server":{"name":"db-1"}}`))
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if created.Load() != 1 {
			t.Errorf("status %d: POST sent %d times, the cloud now holds %d objects", status, created.Load(), created.Load())
		}
		if resp.StatusCode != status {
			t.Errorf("status %d: caller saw %d, want the gateway error", status, resp.StatusCode)
		}
	}
}

// 429 and 503 say the request was not taken: a POST is retried on them.
func TestRetryRepostsAfterNotTaken(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(status)
				return
			}
			w.WriteHeader(http.StatusCreated)
		}))
		resp, err := newRetryClient(3, time.Millisecond).Post(srv.URL, "application/json", strings.NewReader(`{}`))
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || calls.Load() != 2 {
			t.Errorf("status %d: got %d after %d calls, want 201 after 2", status, resp.StatusCode, calls.Load())
		}
	}
}
