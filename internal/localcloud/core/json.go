package core

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Time formats the services use on the wire.
const (
	NovaTime   = "2006-01-02T15:04:05Z"        // nova created/updated, neutron, keystone dates
	NoZTime    = "2006-01-02T15:04:05.000000"  // cinder, nova launched_at
	TokenTime  = "2006-01-02T15:04:05.000000Z" // keystone token expiry
	GlanceTime = "2006-01-02T15:04:05Z"
)

// FmtTime formats t in layout, or gives nil (JSON null) for the zero time.
func FmtTime(t time.Time, layout string) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(layout)
}

// WriteJSON answers code with v as JSON (an empty body for a nil v).
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if v == nil {
		if code != http.StatusNoContent {
			w.Header().Set("Content-Length", "0")
		}
		w.WriteHeader(code)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// ReadJSON decodes a request body into v; it reports a problem as a message
// for a 400 answer.
func ReadJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return fmt.Errorf("the request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed request body: %v", err)
	}
	return nil
}

// Authed wraps a service handler in token validation; a request without a
// valid project-scoped token is answered 401 in svc's error format. The
// identity service provides it; every other service registers through it.
type Authed func(svc Service, h http.HandlerFunc) http.HandlerFunc

// Lookup finds the record id names in m; on a miss it answers notFound(id)
// in svc's error format and reports false. Every service's "show, update,
// delete one" handler starts with it.
func Lookup[T any](w http.ResponseWriter, svc Service, m map[string]*T, id string, notFound func(id string) *Error) (*T, bool) {
	v, ok := m[id]
	if !ok {
		WriteError(w, svc, notFound(id))
	}
	return v, ok
}

// NilIfEmpty renders an empty string as JSON null, as the services do for
// unset optional fields.
func NilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
