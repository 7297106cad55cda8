package swift

import (
	"maps"
	"net/http"
	"strings"
)

// metadata reads the X-<kind>-Meta-* headers (kind Account, Container or
// Object). With merge, they update base: an empty value or an
// X-Remove-<kind>-Meta-* header removes a key. Without merge (objects),
// the headers replace base entirely. Keys are canonical header names.
func metadata(h http.Header, kind string, base map[string]string, merge bool) (map[string]string, *apiError) {
	prefix := "X-" + kind + "-Meta-"
	removePrefix := "X-Remove-" + kind + "-Meta-"
	out := map[string]string{}
	if merge {
		maps.Copy(out, base)
	}
	for k, vs := range h {
		k = http.CanonicalHeaderKey(k)
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		switch {
		case strings.HasPrefix(k, removePrefix) && len(k) > len(removePrefix):
			delete(out, prefix+k[len(removePrefix):])
		case strings.HasPrefix(k, prefix) && len(k) > len(prefix):
			if v == "" {
				delete(out, k)
				continue
			}
			out[k] = v
		}
	}
	size := 0
	for k, v := range out {
		name := k[len(prefix):]
		if len(name) > maxMetaNameLength {
			return nil, errBadRequest("Metadata name too long: %s", k)
		}
		if len(v) > maxMetaValueLength {
			return nil, errBadRequest("Metadata value longer than %d: %s", maxMetaValueLength, k)
		}
		size += len(name) + len(v)
	}
	if len(out) > maxMetaCount {
		return nil, errBadRequest("Too many metadata items; max %d", maxMetaCount)
	}
	if size > maxMetaOverallSize {
		return nil, errBadRequest("Total metadata too large; max %d", maxMetaOverallSize)
	}
	return out, nil
}

func setMetaHeaders(h http.Header, meta map[string]string) {
	for k, v := range meta {
		h.Set(k, v)
	}
}
