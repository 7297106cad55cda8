package core

import (
	"fmt"
	"net/http"
	"strconv"
)

// Service names the API family a request belongs to; error bodies differ per family.
type Service int

// The services, by error format.
const (
	Identity Service = iota
	Compute
	Image
	Volume
	Network
	Admin
)

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

// Error is an error answer in the shape of the service that gives it.
type Error struct {
	Code        int
	Message     string
	NeutronType string // NeutronError type, e.g. "PortNotFound"
	RetryAfter  int    // seconds, for 429/413
}

// Errf builds an error answer with a formatted message.
func Errf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NeutronErrf builds a Neutron error with its exception type name.
func NeutronErrf(code int, typ, format string, args ...any) *Error {
	return &Error{Code: code, NeutronType: typ, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// WriteError renders e in the error envelope of svc.
func WriteError(w http.ResponseWriter, svc Service, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	switch {
	case e.Code == http.StatusUnauthorized || svc == Identity || svc == Admin:
		// keystonemiddleware answers 401 for every service in Keystone's shape.
		WriteJSON(w, e.Code, map[string]any{"error": map[string]any{
			"code": e.Code, "title": http.StatusText(e.Code), "message": e.Message,
		}})
	case svc == Network:
		typ := e.NeutronType
		if typ == "" {
			typ = neutronDefaultType(e.Code)
		}
		WriteJSON(w, e.Code, map[string]any{"NeutronError": map[string]any{
			"type": typ, "message": e.Message, "detail": "",
		}})
	case svc == Image:
		// Glance raises webob exceptions with the message as explanation;
		// webob renders them for JSON clients with its plain body template.
		WriteJSON(w, e.Code, map[string]any{
			"message": e.Message + "<br /><br />\n\n\n",
			"code":    fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code)),
			"title":   http.StatusText(e.Code),
		})
	default:
		name, ok := novaFaultNames[e.Code]
		if !ok {
			name = "computeFault"
		}
		body := map[string]any{"code": e.Code, "message": e.Message}
		if e.RetryAfter > 0 {
			body["retryAfter"] = strconv.Itoa(e.RetryAfter)
		}
		WriteJSON(w, e.Code, map[string]any{name: body})
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
