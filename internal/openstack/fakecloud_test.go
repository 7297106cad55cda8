package openstack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeCloud is a Keystone that hands out a catalog pointing at itself, plus
// a mux on which each test registers the service calls it expects.
type fakeCloud struct {
	*httptest.Server
	Mux        *http.ServeMux
	authCalls  atomic.Int32
	services   []string // catalog entries; default: all five
	authStatus int      // 0: 201
}

const fakeToken = "tok-0123456789abcdef"

func newFakeCloud(t *testing.T, services ...string) *fakeCloud {
	t.Helper()
	f := &fakeCloud{Mux: http.NewServeMux(), services: services}
	if len(services) == 0 {
		f.services = []string{"compute", "volumev3", "network", "load-balancer", "image"}
	}
	f.Mux.HandleFunc("POST /v3/auth/tokens", f.handleAuth)
	// Version documents for the unversioned endpoints gophercloud probes.
	for _, p := range []string{"/network/", "/lb/", "/image/"} {
		id := "v2.0"
		f.Mux.HandleFunc("GET "+p+"{$}", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"versions": []any{map[string]any{"id": id, "status": "CURRENT",
				"links": []any{map[string]any{"rel": "self", "href": "http://" + r.Host + p + id + "/"}}}}})
		})
	}
	f.Server = httptest.NewServer(f.requireToken(f.Mux))
	t.Cleanup(f.Close)
	return f
}

// requireToken rejects service calls without the token, like a real cloud.
func (f *fakeCloud) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/auth/tokens" && r.Header.Get("X-Auth-Token") != fakeToken {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "message": "bad token"}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeCloud) handleAuth(w http.ResponseWriter, r *http.Request) {
	f.authCalls.Add(1)
	if f.authStatus != 0 {
		writeJSON(w, f.authStatus, map[string]any{"error": map[string]any{"code": f.authStatus, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
		return
	}
	urls := map[string]string{
		"compute":       f.URL + "/compute/v2.1/",
		"volumev3":      f.URL + "/volume/v3/proj/",
		"network":       f.URL + "/network/",
		"load-balancer": f.URL + "/lb/",
		"image":         f.URL + "/image/",
	}
	var catalog []any
	for _, s := range f.services {
		catalog = append(catalog, map[string]any{
			"type": s, "name": s, "id": s,
			"endpoints": []any{map[string]any{"id": s + "-pub", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": urls[s]}},
		})
	}
	w.Header().Set("X-Subject-Token", fakeToken)
	writeJSON(w, 201, map[string]any{"token": map[string]any{
		"expires_at": "2099-01-01T00:00:00.000000Z",
		"methods":    []string{"password"},
		"project":    map[string]any{"id": "proj", "name": "demo", "domain": map[string]any{"id": "default"}},
		"user":       map[string]any{"id": "u1", "name": "demo", "domain": map[string]any{"id": "default"}},
		"catalog":    catalog,
	}})
}

func (f *fakeCloud) config() Config {
	return Config{AuthURL: f.URL + "/v3", UserName: "demo", Password: "s3cret-pw", ProjectName: "demo"}
}

func (f *fakeCloud) client(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(f.config(), WithRetryBaseDelay(time.Millisecond), WithPollInterval(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// sequence answers successive requests with the given handlers; the last one
// repeats.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(hs) {
			i = len(hs) - 1
		}
		hs[i](w, r)
	}
}

func status(code int, body any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, code, body) }
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q\n  does not contain %q", s, sub)
		}
	}
}
