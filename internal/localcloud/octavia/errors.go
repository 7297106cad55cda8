package octavia

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an error with the HTTP status Octavia answers it with.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Octavia's resource names in messages (octavia/common/data_models and
// exceptions: "%(resource)s %(id)s not found.").
const (
	resLB       = "Load Balancer"
	resListener = "Listener"
	resPool     = "Pool"
	resMember   = "Member"
	resMonitor  = "Health Monitor"
)

func notFound(resource, id string) *apiError {
	return errorf(http.StatusNotFound, "%s %s not found.", resource, id)
}

// immutable is exceptions.ImmutableObject.
func immutable(lbID string) *apiError {
	return errorf(http.StatusConflict, "%s %s is immutable and cannot be updated.", resLB, lbID)
}

// pendingState is exceptions.LBPendingStateError.
func pendingState(state, lbID string) *apiError {
	return errorf(http.StatusConflict, "Invalid state %s of loadbalancer resource %s", state, lbID)
}

func validation(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "Validation failure: "+format, args...)
}

func invalidInput(field string, value any, reason string) *apiError {
	return errorf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: '%v'. %s", field, value, reason)
}

func forbidden() *apiError {
	return errorf(http.StatusForbidden, "Policy does not allow this request to be performed.")
}

// writeFault writes WSME's error body: {"faultcode", "faultstring", "debuginfo"}.
func writeFault(w http.ResponseWriter, e *apiError) {
	faultcode := "Client"
	if e.code >= 500 {
		faultcode = "Server"
	}
	writeJSON(w, e.code, map[string]any{
		"faultcode":   faultcode,
		"faultstring": e.msg,
		"debuginfo":   nil,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}
