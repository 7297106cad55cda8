package localcloud

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// service names the API family a request belongs to; error bodies differ per family.
type service int

const (
	svcIdentity service = iota
	svcCompute
	svcImage
	svcVolume
	svcNetwork
	svcAdmin
)

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newHexID returns a 32-character hex id, the form Keystone uses for its objects.
func newHexID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// randomSecret returns n random bytes as URL-safe text.
func randomSecret(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Time formats the services use on the wire.
const (
	novaTime   = "2006-01-02T15:04:05Z"        // nova created/updated, neutron, keystone dates
	noZTime    = "2006-01-02T15:04:05.000000"  // cinder, nova launched_at
	tokenTime  = "2006-01-02T15:04:05.000000Z" // keystone token expiry
	glanceTime = "2006-01-02T15:04:05Z"
)

func fmtTime(t time.Time, layout string) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(layout)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
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

// readJSON decodes a request body into v; it reports a problem as a message
// for a 400 answer.
func readJSON(r *http.Request, v any) error {
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

// novaFaultNames maps HTTP codes to the fault names nova and cinder use
// (nova/api/openstack/wsgi.py).
var novaFaultNames = map[int]string{
	400: "badRequest",
	401: "unauthorized",
	403: "forbidden",
	404: "itemNotFound",
	405: "badMethod",
	409: "conflictingRequest",
	413: "overLimit",
	415: "badMediaType",
	429: "overLimit",
	501: "notImplemented",
	503: "serviceUnavailable",
}

// apiError is an error answer in the shape of the service that gives it.
type apiError struct {
	code       int
	message    string
	neutronTyp string // NeutronError type, e.g. "PortNotFound"
	retryAfter int    // seconds, for 429/413
}

func errf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

// nerrf builds a Neutron error with its exception type name.
func nerrf(code int, typ, format string, args ...any) *apiError {
	return &apiError{code: code, neutronTyp: typ, message: fmt.Sprintf(format, args...)}
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.code, e.message) }

// writeError renders e in the error envelope of svc.
func writeError(w http.ResponseWriter, svc service, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	switch {
	case e.code == http.StatusUnauthorized || svc == svcIdentity || svc == svcAdmin:
		// keystonemiddleware answers 401 for every service in Keystone's shape.
		writeJSON(w, e.code, map[string]any{"error": map[string]any{
			"code": e.code, "title": http.StatusText(e.code), "message": e.message,
		}})
	case svc == svcNetwork:
		typ := e.neutronTyp
		if typ == "" {
			typ = neutronDefaultType(e.code)
		}
		writeJSON(w, e.code, map[string]any{"NeutronError": map[string]any{
			"type": typ, "message": e.message, "detail": "",
		}})
	case svc == svcImage:
		// Glance answers with webob's plain error page; JSON clients see the text.
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(e.code)
		_, _ = fmt.Fprintf(w, "%d %s\n\n%s\n", e.code, http.StatusText(e.code), e.message)
	default:
		name, ok := novaFaultNames[e.code]
		if !ok {
			name = "computeFault"
		}
		body := map[string]any{"code": e.code, "message": e.message}
		if e.retryAfter > 0 {
			body["retryAfter"] = strconv.Itoa(e.retryAfter)
		}
		writeJSON(w, e.code, map[string]any{name: body})
	}
}

func neutronDefaultType(code int) string {
	switch code {
	case 400:
		return "HTTPBadRequest"
	case 403:
		return "HTTPForbidden"
	case 404:
		return "HTTPNotFound"
	case 409:
		return "HTTPConflict"
	case 429:
		return "HTTPTooManyRequests"
	case 503:
		return "HTTPServiceUnavailable"
	}
	return "HTTPInternalServerError"
}

// microversion is a "major.minor" API version.
type microversion struct{ major, minor int }

func (v microversion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v microversion) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

func parseMicroversion(s string) (microversion, bool) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return microversion{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return microversion{}, false
	}
	return microversion{a, b}, true
}

// negotiateMicroversion reads the version a client asks of a service:
// legacyHeader (nova only; empty for cinder, which ignores its legacy header)
// and "OpenStack-API-Version: <svcType> X.Y". It returns 400 for a malformed
// value and 406 for one outside min..max, as nova and cinder do.
func negotiateMicroversion(r *http.Request, svcType, legacyHeader string, min, max microversion) (microversion, *apiError) {
	raw := ""
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(h, ",") {
			f := strings.Fields(part)
			if len(f) == 2 && strings.EqualFold(f[0], svcType) {
				raw = f[1]
			}
		}
	}
	if raw == "" && legacyHeader != "" {
		raw = r.Header.Get(legacyHeader)
	}
	if raw == "" {
		return min, nil
	}
	if strings.EqualFold(raw, "latest") {
		return max, nil
	}
	v, ok := parseMicroversion(raw)
	if !ok {
		return microversion{}, errf(400, "API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", raw)
	}
	if !v.atLeast(min.major, min.minor) || !max.atLeast(v.major, v.minor) {
		return microversion{}, errf(406, "Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, min, max)
	}
	return v, nil
}

// pathValue is r.PathValue with a shorter name.
func pv(r *http.Request, name string) string { return r.PathValue(name) }
