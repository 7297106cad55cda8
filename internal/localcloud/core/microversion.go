package core

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Microversion is a "major.minor" API version.
type Microversion struct{ Major, Minor int }

func (v Microversion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast tells whether v is major.minor or later.
func (v Microversion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseMicroversion reads "X.Y".
func ParseMicroversion(s string) (Microversion, bool) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return Microversion{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return Microversion{}, false
	}
	return Microversion{a, b}, true
}

// NegotiateMicroversion reads the version a client asks of a service:
// legacyHeader (nova only; empty for cinder, which ignores its legacy header)
// and "OpenStack-API-Version: <svcType> X.Y". It returns 400 for a malformed
// value and 406 for one outside min..max, as nova and cinder do.
func NegotiateMicroversion(r *http.Request, svcType, legacyHeader string, min, max Microversion) (Microversion, *Error) {
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
	v, ok := ParseMicroversion(raw)
	if !ok {
		return Microversion{}, Errf(400, "API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", raw)
	}
	if !v.AtLeast(min.Major, min.Minor) || !max.AtLeast(v.Major, v.Minor) {
		return Microversion{}, Errf(406, "Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, min, max)
	}
	return v, nil
}

// VersionedHandler is a Nova or Cinder handler; mv is the negotiated microversion.
type VersionedHandler func(w http.ResponseWriter, r *http.Request, mv Microversion)

// VersionedShow answers GET on one Nova or Cinder record, rendered for the
// request's microversion, or its 404 (find answers it). mu guards the records.
func VersionedShow[T any](mu sync.Locker, singular string, find func(w http.ResponseWriter, r *http.Request) (*T, bool), body func(v *T, mv Microversion) map[string]any) VersionedHandler {
	return func(w http.ResponseWriter, r *http.Request, mv Microversion) {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := find(w, r); ok {
			WriteJSON(w, 200, map[string]any{singular: body(v, mv)})
		}
	}
}

// VersionedAPI is how a microversioned service (Nova, Cinder) negotiates:
// its error format, its name in OpenStack-API-Version, its legacy header
// (nova's X-OpenStack-Nova-API-Version; empty for cinder, which ignores its
// own) and its range.
type VersionedAPI struct {
	Service      Service
	Type         string
	LegacyHeader string
	Min, Max     Microversion
}

// Negotiate reads the version a request asks for and sets the version
// headers the service puts on every answer; on a bad version it answers
// 400/406 and reports false.
func (a VersionedAPI) Negotiate(w http.ResponseWriter, r *http.Request) (Microversion, bool) {
	mv, e := NegotiateMicroversion(r, a.Type, a.LegacyHeader, a.Min, a.Max)
	if e != nil {
		WriteError(w, a.Service, e)
		return Microversion{}, false
	}
	vary := "OpenStack-API-Version"
	if a.LegacyHeader != "" {
		w.Header().Set(a.LegacyHeader, mv.String())
		vary += ", " + a.LegacyHeader
	}
	w.Header().Set("OpenStack-API-Version", a.Type+" "+mv.String())
	w.Header().Set("Vary", vary)
	return mv, true
}
