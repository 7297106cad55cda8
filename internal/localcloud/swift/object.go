package swift

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// serveObject handles /v1/{account}/{container}/{object}.
func (s *Service) serveObject(q *request) *apiError {
	if len(q.object) > maxObjectName {
		return errBadRequest("Object name length of %d longer than %d", len(q.object), maxObjectName)
	}
	query := q.r.URL.Query()
	switch q.r.Method {
	case http.MethodPut:
		if query.Get("multipart-manifest") == "put" {
			return s.putManifest(q)
		}
		if src := q.r.Header.Get("X-Copy-From"); src != "" {
			cont, obj, e := splitObjectPath(src, "X-Copy-From")
			if e != nil {
				return e
			}
			return s.copyObject(q, cont, obj, q.container, q.object)
		}
		return s.putObject(q)
	case http.MethodGet, http.MethodHead:
		return s.getObject(q)
	case http.MethodPost:
		return s.updateObject(q)
	case http.MethodDelete:
		return s.deleteObject(q)
	case "COPY":
		dst := q.r.Header.Get("Destination")
		if dst == "" {
			return errPrecondition("You must provide a Destination header")
		}
		cont, obj, e := splitObjectPath(dst, "Destination")
		if e != nil {
			return e
		}
		return s.copyObject(q, q.container, q.object, cont, obj)
	}
	return errMethodNotAllowed()
}

// splitObjectPath parses "[/]container/object" (URL-encoded) of a header.
func splitObjectPath(v, header string) (container, object string, e *apiError) {
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	container, object, ok := strings.Cut(strings.TrimPrefix(v, "/"), "/")
	if !ok || container == "" || object == "" {
		return "", "", errPrecondition("%s header must be of the form <container name>/<object name>", header)
	}
	return container, object, nil
}

// deleteAt reads X-Delete-After (wins) or X-Delete-At: 0 when neither.
func deleteAt(h http.Header, now time.Time) (int64, *apiError) {
	if v := h.Get("X-Delete-After"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errBadRequest("Non-integer X-Delete-After")
		}
		if n < 0 {
			return 0, errBadRequest("X-Delete-After in past")
		}
		return now.Unix() + n, nil
	}
	v := h.Get("X-Delete-At")
	if v == "" {
		return 0, nil
	}
	at, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, errBadRequest("Non-integer X-Delete-At")
	}
	if int64(at) <= now.Unix() {
		return 0, errBadRequest("X-Delete-At in past")
	}
	return int64(at), nil
}

// contentType is the request's Content-Type, else a guess from the name's
// extension, else application/octet-stream.
func contentType(h http.Header, name string) string {
	if ct := h.Get("Content-Type"); ct != "" {
		return ct
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// newRecord builds the record of an object the request writes, minus its
// bytes (size, etag, data file).
func newRecord(q *request, name string) (*objectRecord, *apiError) {
	meta, e := metadata(q.r.Header, "Object", nil, false)
	if e != nil {
		return nil, e
	}
	at, e := deleteAt(q.r.Header, q.now)
	if e != nil {
		return nil, e
	}
	return &objectRecord{
		Name: name, ContentType: contentType(q.r.Header, name), Modified: q.now.UTC(),
		Meta: meta, DeleteAt: at,
	}, nil
}

func unquote(etag string) string { return strings.ToLower(strings.Trim(etag, `"`)) }

// putObject is PUT of an ordinary object: 201 with its MD5 as Etag; 422 and
// nothing stored when the request's ETag differs.
func (s *Service) putObject(q *request) *apiError {
	if q.r.Header.Get("Content-Length") == "" && len(q.r.TransferEncoding) == 0 {
		return errLengthRequired()
	}
	if q.r.ContentLength > maxFileSize {
		return errTooLarge()
	}
	rec, e := newRecord(q, q.object)
	if e != nil {
		return e
	}
	if e := s.store(q, q.container, rec, q.r.Body, unquote(q.r.Header.Get("ETag"))); e != nil {
		return e
	}
	writeCreated(q.w, rec.ETag)
	return nil
}

func writeCreated(w http.ResponseWriter, etag string) {
	w.Header().Set("Etag", etag)
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// store writes body as the bytes of rec into the container and commits it,
// replacing any previous version. wantETag, if set, must be body's MD5.
func (s *Service) store(q *request, containerName string, rec *objectRecord, body io.Reader, wantETag string) *apiError {
	s.mu.Lock()
	c := s.containerLocked(q.account, containerName)
	s.mu.Unlock()
	if c == nil {
		return errNotFound()
	}
	tmp, err := os.CreateTemp(c.dir, "up-*.tmp")
	if err != nil {
		return errInternal(fmt.Errorf("store object %s: %w", rec.Name, err))
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // a no-op once renamed
	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(body, maxFileSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &apiError{code: 499, title: "Client Disconnect", msg: "The client was disconnected during request."}
	}
	if n > maxFileSize {
		return errTooLarge()
	}
	rec.Size = n
	rec.ETag = hex.EncodeToString(sum.Sum(nil))
	if wantETag != "" && wantETag != rec.ETag {
		return errUnprocessable()
	}
	rec.DataFile = newDataFile(rec.Name)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.containerLocked(q.account, containerName) != c { // deleted meanwhile
		return errNotFound()
	}
	if err := os.Rename(tmp.Name(), c.dataPath(rec)); err != nil {
		return errInternal(fmt.Errorf("store object %s: %w", rec.Name, err))
	}
	if err := s.commitLocked(c, rec); err != nil {
		_ = os.Remove(c.dataPath(rec))
		return errInternal(err)
	}
	return nil
}

// commitLocked saves rec's record and makes it the object's current
// version, removing the previous version's bytes. Callers hold s.mu.
func (s *Service) commitLocked(c *container, rec *objectRecord) error {
	if err := writeRecord(c.recordPath(rec.Name), rec); err != nil {
		return fmt.Errorf("store object %s: %w", rec.Name, err)
	}
	if old, ok := c.objects[rec.Name]; ok && old.DataFile != "" && old.DataFile != rec.DataFile {
		_ = os.Remove(c.dataPath(old)) // open downloads keep reading it
	}
	c.objects[rec.Name] = rec
	return nil
}

// removeLocked deletes an object's record and bytes. Callers hold s.mu.
func (s *Service) removeLocked(c *container, o *objectRecord) error {
	if err := os.Remove(c.recordPath(o.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete object %s: %w", o.Name, err)
	}
	if o.DataFile != "" {
		_ = os.Remove(c.dataPath(o))
	}
	delete(c.objects, o.Name)
	return nil
}

// liveObjectLocked returns the object unless it is missing or expired.
func (s *Service) liveObjectLocked(account, container, name string, now time.Time) (*container, *objectRecord) {
	c := s.containerLocked(account, container)
	if c == nil {
		return nil, nil
	}
	o, ok := c.objects[name]
	if !ok || o.expired(now) {
		return c, nil
	}
	return c, o
}

func objectHeaders(h http.Header, o *objectRecord) {
	h.Set("Content-Type", o.ContentType)
	h.Set("X-Timestamp", timestamp(o.Modified))
	h.Set("Accept-Ranges", "bytes")
	if o.isSLO() {
		h.Set("Etag", `"`+o.SLOETag+`"`)
		h.Set("X-Static-Large-Object", "True")
		h.Set("X-Manifest-Etag", o.ETag)
	} else {
		h.Set("Etag", o.ETag)
	}
	if o.DeleteAt != 0 {
		h.Set("X-Delete-At", strconv.FormatInt(o.DeleteAt, 10))
	}
	setMetaHeaders(h, o.Meta)
}

// getObject is GET (200, or 206 with Range) or HEAD (200) of an object; a
// static large object's bytes are its segments', read at request time.
func (s *Service) getObject(q *request) *apiError {
	s.mu.Lock()
	_, o := s.liveObjectLocked(q.account, q.container, q.object, q.now)
	if o == nil {
		s.mu.Unlock()
		return errNotFound()
	}
	if o.isSLO() && q.r.URL.Query().Get("multipart-manifest") == "get" {
		s.mu.Unlock()
		objectHeaders(q.w.Header(), o)
		q.w.Header().Del("Etag")
		q.w.Header().Set("Etag", o.ETag)
		writeJSON(q.w, q.r, http.StatusOK, o.Segments)
		return nil
	}
	if q.r.Method == http.MethodHead && o.isSLO() { // Swift answers without reading the segments
		s.mu.Unlock()
		objectHeaders(q.w.Header(), o)
		q.w.Header().Set("Content-Length", strconv.FormatInt(o.Size, 10))
		q.w.Header().Set("Last-Modified", lastModified(o.Modified).UTC().Format(http.TimeFormat))
		q.w.WriteHeader(http.StatusOK)
		return nil
	}
	content, e := s.openContentLocked(q.account, q.container, o, q.now)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	defer content.Close()
	objectHeaders(q.w.Header(), o)
	switch etagPrecondition(q.r, o) {
	case http.StatusPreconditionFailed:
		return &apiError{code: http.StatusPreconditionFailed, title: "Precondition Failed",
			msg: "A precondition for this request was not met."}
	case http.StatusNotModified:
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	http.ServeContent(q.w, q.r, "", lastModified(o.Modified), content)
	return nil
}

// etagPrecondition evaluates If-Match and If-None-Match against the
// object's Etag, which Swift sends unquoted (http.ServeContent would only
// match quoted ones): 412, 304, or 0 to go on. It removes both headers so
// ServeContent does not evaluate them again.
func etagPrecondition(r *http.Request, o *objectRecord) int {
	etag := o.ETag
	if o.isSLO() {
		etag = o.SLOETag
	}
	matches := func(header string) bool {
		for _, v := range strings.Split(header, ",") {
			if v = strings.TrimSpace(v); v == "*" || unquote(v) == etag {
				return true
			}
		}
		return false
	}
	ifMatch, ifNoneMatch := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	r.Header.Del("If-Match")
	r.Header.Del("If-None-Match")
	switch {
	case ifMatch != "" && !matches(ifMatch):
		return http.StatusPreconditionFailed
	case ifNoneMatch != "" && matches(ifNoneMatch):
		return http.StatusNotModified
	}
	return 0
}

// openContentLocked opens the bytes of o (in container) for reading.
// Callers hold s.mu; the reader works without it.
func (s *Service) openContentLocked(account, container string, o *objectRecord, now time.Time) (*concatReader, *apiError) {
	if !o.isSLO() {
		c := s.containerLocked(account, container)
		f, err := os.Open(c.dataPath(o))
		if err != nil {
			return nil, errInternal(fmt.Errorf("open object %s: %w", o.Name, err))
		}
		return newConcatReader([]*os.File{f}, []*io.SectionReader{io.NewSectionReader(f, 0, o.Size)}), nil
	}
	var files []*os.File
	var parts []*io.SectionReader
	fail := func(e *apiError) (*concatReader, *apiError) {
		for _, f := range files {
			_ = f.Close()
		}
		return nil, e
	}
	for _, seg := range o.Segments {
		cont, obj, _ := splitObjectPath(seg.Name, "")
		sc, so := s.liveObjectLocked(account, cont, obj, now)
		if so == nil || so.isSLO() || so.ETag != seg.Hash {
			// Swift fails the download once it reaches such a segment.
			return fail(errConflict())
		}
		f, err := os.Open(sc.dataPath(so))
		if err != nil {
			return fail(errInternal(fmt.Errorf("open segment %s: %w", seg.Name, err)))
		}
		files = append(files, f)
		start, length := int64(0), so.Size
		if seg.Range != "" {
			start, length, _ = parseSegmentRange(seg.Range, so.Size)
		}
		parts = append(parts, io.NewSectionReader(f, start, length))
	}
	return newConcatReader(files, parts), nil
}

// updateObject is POST: replaces all X-Object-Meta-* and sets or clears
// X-Delete-At (202).
func (s *Service) updateObject(q *request) *apiError {
	meta, e := metadata(q.r.Header, "Object", nil, false)
	if e != nil {
		return e
	}
	at, e := deleteAt(q.r.Header, q.now)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, o := s.liveObjectLocked(q.account, q.container, q.object, q.now)
	if o == nil {
		return errNotFound()
	}
	rec := *o
	rec.Meta, rec.DeleteAt = meta, at
	if ct := q.r.Header.Get("Content-Type"); ct != "" {
		rec.ContentType = ct
	}
	if err := s.commitLocked(c, &rec); err != nil {
		return errInternal(err)
	}
	body := "<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"
	q.w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(q.w, body)
	return nil
}

// deleteObject is DELETE (204). An expired object answers 404 but is
// removed. With multipart-manifest=delete, a static large object's
// segments go too, and the answer is a bulk-delete summary (200).
func (s *Service) deleteObject(q *request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containerLocked(q.account, q.container)
	if c == nil {
		return errNotFound()
	}
	o, ok := c.objects[q.object]
	if !ok {
		return errNotFound()
	}
	if o.expired(q.now) {
		if err := s.removeLocked(c, o); err != nil {
			return errInternal(err)
		}
		return errNotFound()
	}
	if q.r.URL.Query().Get("multipart-manifest") != "delete" {
		if err := s.removeLocked(c, o); err != nil {
			return errInternal(err)
		}
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	deleted, notFound := 0, 0
	var errs [][2]string
	for _, seg := range o.Segments {
		cont, obj, _ := splitObjectPath(seg.Name, "")
		sc := s.containerLocked(q.account, cont)
		if sc == nil || sc.objects[obj] == nil {
			notFound++
			continue
		}
		if err := s.removeLocked(sc, sc.objects[obj]); err != nil {
			errs = append(errs, [2]string{seg.Name, "500 Internal Error"})
			continue
		}
		deleted++
	}
	if err := s.removeLocked(c, o); err != nil {
		errs = append(errs, [2]string{"/" + q.container + "/" + q.object, "500 Internal Error"})
	} else {
		deleted++
	}
	writeBulkSummary(q, deleted, notFound, errs)
	return nil
}

// copyObject is COPY (Destination) or PUT with X-Copy-From: the source's
// bytes (a large object's concatenated bytes) and metadata, updated by the
// request's X-Object-Meta-* (replaced with X-Fresh-Metadata: true).
func (s *Service) copyObject(q *request, srcCont, srcObj, dstCont, dstObj string) *apiError {
	s.mu.Lock()
	_, src := s.liveObjectLocked(q.account, srcCont, srcObj, q.now)
	if src == nil {
		s.mu.Unlock()
		return errNotFound()
	}
	content, e := s.openContentLocked(q.account, srcCont, src, q.now)
	s.mu.Unlock()
	if e != nil {
		return e
	}
	defer content.Close()
	rec, e := newRecord(q, dstObj)
	if e != nil {
		return e
	}
	if q.r.Header.Get("Content-Type") == "" {
		rec.ContentType = src.ContentType
	}
	if !strings.EqualFold(q.r.Header.Get("X-Fresh-Metadata"), "true") {
		meta, e := metadata(q.r.Header, "Object", src.Meta, true)
		if e != nil {
			return e
		}
		rec.Meta = meta
	}
	if e := s.store(q, dstCont, rec, content, ""); e != nil {
		return e
	}
	q.w.Header().Set("X-Copied-From", url.PathEscape(srcCont)+"/"+url.PathEscape(srcObj))
	q.w.Header().Set("Last-Modified", lastModified(rec.Modified).Format(http.TimeFormat))
	writeCreated(q.w, rec.ETag)
	return nil
}

// containerDir is where a container's files are ("" when it does not exist).
func (s *Service) containerDir(account, container string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.containerLocked(account, container); c != nil {
		return c.dir
	}
	return ""
}

// DataFile is the file holding an ordinary object's bytes, for tests that
// corrupt or inspect stored objects (account is AUTH_<project_id>).
func (s *Service) DataFile(account, container, object string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containerLocked(account, container)
	if c == nil || c.objects[object] == nil {
		return "", fmt.Errorf("object %s/%s/%s not found", account, container, object)
	}
	o := c.objects[object]
	if o.isSLO() {
		return "", fmt.Errorf("object %s/%s/%s is a static large object: its bytes are its segments'", account, container, object)
	}
	return c.dataPath(o), nil
}
