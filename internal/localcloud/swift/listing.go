package swift

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// listParams are a listing's query parameters.
type listParams struct {
	prefix, delimiter, marker, endMarker string
	limit                                int
	reverse                              bool
	json                                 bool
}

func parseListParams(r *http.Request) (listParams, *apiError) {
	q := r.URL.Query()
	p := listParams{
		prefix: q.Get("prefix"), delimiter: q.Get("delimiter"),
		marker: q.Get("marker"), endMarker: q.Get("end_marker"), limit: listingLimit,
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, errPrecondition("Value of limit must be a positive integer")
		}
		if n > listingLimit {
			return p, errPrecondition("Maximum limit is %d", listingLimit)
		}
		p.limit = n
	}
	if len(p.delimiter) > 1 {
		return p, errPrecondition("Bad delimiter")
	}
	switch strings.ToLower(q.Get("reverse")) {
	case "true", "yes", "on", "1", "t", "y":
		p.reverse = true
	}
	switch strings.ToLower(q.Get("format")) {
	case "json":
		p.json = true
	case "":
		p.json = strings.Contains(r.Header.Get("Accept"), "application/json")
	}
	return p, nil
}

// listEntry is one line of a listing: a name, or a rolled-up subdir.
type listEntry struct {
	name   string
	subdir bool
}

// list applies the parameters to names (any order): sorted by their bytes,
// after marker, before end_marker (swapped roles with reverse), with
// prefix, delimiter folding and at most limit entries.
func list(names []string, p listParams) []listEntry {
	slices.Sort(names)
	if p.reverse {
		slices.Reverse(names)
	}
	after := func(a, b string) bool { // a comes after b in listing order
		if p.reverse {
			return a < b
		}
		return a > b
	}
	var out []listEntry
	lastSubdir := ""
	for _, n := range names {
		if len(out) >= p.limit {
			break
		}
		if p.marker != "" && !after(n, p.marker) {
			continue
		}
		if p.endMarker != "" && !after(p.endMarker, n) {
			break
		}
		if !strings.HasPrefix(n, p.prefix) {
			continue
		}
		if p.delimiter != "" {
			if i := strings.Index(n[len(p.prefix):], p.delimiter); i >= 0 {
				sub := n[:len(p.prefix)+i+1]
				if sub == lastSubdir || sub == p.marker {
					continue
				}
				lastSubdir = sub
				out = append(out, listEntry{name: sub, subdir: true})
				continue
			}
		}
		out = append(out, listEntry{name: n})
	}
	return out
}

// writeListing answers a listing: JSON (200, [] when empty) or plain text,
// one name per line (204 when empty). item renders a non-subdir entry.
func writeListing(w http.ResponseWriter, r *http.Request, p listParams, entries []listEntry, item func(name string) map[string]any) {
	if p.json {
		body := make([]any, 0, len(entries))
		for _, e := range entries {
			if e.subdir {
				body = append(body, map[string]any{"subdir": e.name})
			} else {
				body = append(body, item(e.name))
			}
		}
		writeJSON(w, r, http.StatusOK, body)
		return
	}
	if len(entries) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.name)
		b.WriteByte('\n')
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}
