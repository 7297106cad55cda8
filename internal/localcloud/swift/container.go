package swift

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// serveContainer handles /v1/{account}/{container}.
func (s *Service) serveContainer(q *request) *apiError {
	if len(q.container) > maxContainerName {
		return errBadRequest("Container name length of %d longer than %d", len(q.container), maxContainerName)
	}
	switch q.r.Method {
	case http.MethodPut:
		return s.createContainer(q)
	case http.MethodGet, http.MethodHead:
		return s.listContainer(q)
	case http.MethodPost:
		return s.updateContainer(q)
	case http.MethodDelete:
		return s.deleteContainer(q)
	}
	return errMethodNotAllowed()
}

// usage counts the listed objects and their bytes (expired objects count
// until the expirer removes them, as in Swift). Callers hold s.mu.
func (c *container) usage() (objects, bytes int64) {
	for _, o := range c.objects {
		objects++
		bytes += o.Size
	}
	return objects, bytes
}

func containerHeaders(h http.Header, c *container) {
	n, b := c.usage()
	h.Set("X-Container-Object-Count", strconv.FormatInt(n, 10))
	h.Set("X-Container-Bytes-Used", strconv.FormatInt(b, 10))
	h.Set("X-Timestamp", timestamp(c.rec.Created))
	h.Set("Last-Modified", lastModified(c.rec.Created).UTC().Format(http.TimeFormat))
	h.Set("X-Storage-Policy", "Policy-0")
	h.Set("Accept-Ranges", "bytes")
	setMetaHeaders(h, c.rec.Meta)
}

// createContainer is PUT: 201 when new, 202 when it existed (metadata merged).
func (s *Service) createContainer(q *request) *apiError {
	if strings.Contains(q.container, "/") {
		return errBadRequest("Container name cannot contain slashes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.accountLocked(q.account, q.now, true)
	if err != nil {
		return errInternal(err)
	}
	if c, ok := a.containers[q.container]; ok {
		return s.writeContainerMeta(q, c, http.StatusAccepted)
	}
	if _, e := metadata(q.r.Header, "Container", nil, true); e != nil {
		return e
	}
	c := &container{
		rec:     containerRecord{Name: q.container, Created: q.now.UTC(), Meta: map[string]string{}},
		dir:     filepath.Join(a.dir, "c-"+hashName(q.container)),
		objects: map[string]*objectRecord{},
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return errInternal(fmt.Errorf("create container %s: %w", q.container, err))
	}
	if e := s.writeContainerMeta(q, c, http.StatusCreated); e != nil {
		_ = os.RemoveAll(c.dir)
		return e
	}
	a.containers[q.container] = c
	return nil
}

// writeContainerMeta merges the request's metadata into c, saves it and
// answers code. Callers hold s.mu.
func (s *Service) writeContainerMeta(q *request, c *container, code int) *apiError {
	meta, e := metadata(q.r.Header, "Container", c.rec.Meta, true)
	if e != nil {
		return e
	}
	rec := c.rec
	rec.Meta = meta
	if err := writeRecord(filepath.Join(c.dir, "container.json"), &rec); err != nil {
		return errInternal(err)
	}
	c.rec = rec
	q.w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(code)
	return nil
}

func (s *Service) updateContainer(q *request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containerLocked(q.account, q.container)
	if c == nil {
		return errNotFound()
	}
	return s.writeContainerMeta(q, c, http.StatusNoContent)
}

// listContainer is HEAD (204) or GET (the object listing).
func (s *Service) listContainer(q *request) *apiError {
	p, e := parseListParams(q.r)
	if e != nil {
		return e
	}
	if path, ok := q.r.URL.Query()["path"]; ok { // path=x is prefix=x/ with delimiter /
		p.prefix = path[0]
		if p.prefix != "" && !strings.HasSuffix(p.prefix, "/") {
			p.prefix += "/"
		}
		p.delimiter = "/"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containerLocked(q.account, q.container)
	if c == nil {
		return errNotFound()
	}
	containerHeaders(q.w.Header(), c)
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	names := make([]string, 0, len(c.objects))
	for n := range c.objects {
		names = append(names, n)
	}
	writeListing(q.w, q.r, p, list(names, p), func(name string) map[string]any {
		o := c.objects[name]
		item := map[string]any{
			"name": name, "hash": o.ETag, "bytes": o.Size,
			"content_type": o.ContentType, "last_modified": listingTime(o.Modified),
		}
		if o.isSLO() {
			item["slo_etag"] = `"` + o.SLOETag + `"`
		}
		return item
	})
	return nil
}

// deleteContainer is DELETE: 204, or 409 while it holds objects.
func (s *Service) deleteContainer(q *request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[q.account]
	c := s.containerLocked(q.account, q.container)
	if c == nil {
		return errNotFound()
	}
	if len(c.objects) > 0 {
		return errConflict()
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return errInternal(fmt.Errorf("delete container %s: %w", q.container, err))
	}
	delete(a.containers, q.container)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
