package swift

import (
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// serveAccount handles /v1/{account}.
func (s *Service) serveAccount(q *request) *apiError {
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		return s.listAccount(q)
	case http.MethodPost:
		if q.r.URL.Query().Has("bulk-delete") {
			return s.bulkDelete(q)
		}
		return s.updateAccount(q)
	}
	return errMethodNotAllowed()
}

// accountHeaders sets the account's counters and metadata. Callers hold s.mu.
func accountHeaders(h http.Header, a *account, now time.Time) {
	var objects, bytes int64
	created := now
	if a != nil {
		created = a.rec.Created
		for _, c := range a.containers {
			n, b := c.usage()
			objects += n
			bytes += b
		}
		setMetaHeaders(h, a.rec.Meta)
		h.Set("X-Account-Container-Count", strconv.Itoa(len(a.containers)))
	} else {
		h.Set("X-Account-Container-Count", "0")
	}
	h.Set("X-Account-Object-Count", strconv.FormatInt(objects, 10))
	h.Set("X-Account-Bytes-Used", strconv.FormatInt(bytes, 10))
	h.Set("X-Timestamp", timestamp(created))
	h.Set("Accept-Ranges", "bytes")
}

// listAccount is HEAD (204) or GET (the container listing) of an account.
// An account that was never written to answers as an empty one.
func (s *Service) listAccount(q *request) *apiError {
	p, e := parseListParams(q.r)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[q.account]
	accountHeaders(q.w.Header(), a, q.now)
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	var names []string
	if a != nil {
		for n := range a.containers {
			names = append(names, n)
		}
	}
	writeListing(q.w, q.r, p, list(names, p), func(name string) map[string]any {
		c := a.containers[name]
		count, bytes := c.usage()
		return map[string]any{"name": name, "count": count, "bytes": bytes, "last_modified": listingTime(c.rec.Created)}
	})
	return nil
}

// updateAccount is POST: merges X-Account-Meta-* (204).
func (s *Service) updateAccount(q *request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.accountLocked(q.account, q.now, true)
	if err != nil {
		return errInternal(err)
	}
	meta, e := metadata(q.r.Header, "Account", a.rec.Meta, true)
	if e != nil {
		return e
	}
	rec := a.rec
	rec.Meta = meta
	if err := writeRecord(filepath.Join(a.dir, "account.json"), &rec); err != nil {
		return errInternal(err)
	}
	a.rec = rec
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
