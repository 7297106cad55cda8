package swift

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// segment is one part of a static large object as Swift stores it (and
// returns it for multipart-manifest=get).
type segment struct {
	Name         string `json:"name"` // /container/object
	Bytes        int64  `json:"bytes"`
	Hash         string `json:"hash"`
	ContentType  string `json:"content_type"`
	LastModified string `json:"last_modified"`
	Range        string `json:"range,omitempty"`
}

// manifestEntry is one segment of a multipart-manifest=put body.
type manifestEntry struct {
	Path      string  `json:"path"`
	ETag      *string `json:"etag"`
	SizeBytes *int64  `json:"size_bytes"`
	Range     string  `json:"range"`
}

// parseSegmentRange parses "start-end" (inclusive) within a segment of size.
func parseSegmentRange(r string, size int64) (start, length int64, err error) {
	a, b, ok := strings.Cut(r, "-")
	if !ok {
		return 0, 0, errors.New("invalid range")
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start || end >= size {
		return 0, 0, errors.New("invalid range")
	}
	return start, end - start + 1, nil
}

// putManifest is PUT with multipart-manifest=put: every segment must exist
// and match the etag and size given (400 listing the problems otherwise).
// The object's Etag is the MD5 of the segments' MD5s; a request ETag is
// checked against that (422).
func (s *Service) putManifest(q *request) *apiError {
	body, err := io.ReadAll(io.LimitReader(q.r.Body, maxManifestSize+1))
	if err != nil {
		return &apiError{code: 499, title: "Client Disconnect", msg: "The client was disconnected during request."}
	}
	if len(body) > maxManifestSize {
		return errTooLarge()
	}
	var entries []manifestEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return errBadRequest("Manifest must be valid JSON.\n")
	}
	if len(entries) == 0 {
		return errBadRequest("Manifest must have at least one segment.\n")
	}
	if len(entries) > maxManifestSegments {
		return errBadRequest("Too many segments; max %d.\n", maxManifestSegments)
	}
	rec, e := newRecord(q, q.object)
	if e != nil {
		return e
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.containerLocked(q.account, q.container)
	if c == nil {
		return errNotFound()
	}
	var problems []string
	segments := make([]segment, 0, len(entries))
	sloSum := md5.New()
	for i, m := range entries {
		cont, obj, perr := splitObjectPath(m.Path, "path")
		if perr != nil {
			problems = append(problems, fmt.Sprintf("Index %d: path does not refer to an object. Path must be of the form /container/object.", i))
			continue
		}
		name := "/" + cont + "/" + obj
		_, so := s.liveObjectLocked(q.account, cont, obj, q.now)
		switch {
		case so == nil:
			problems = append(problems, name+", 404 Not Found")
			continue
		case so.isSLO():
			problems = append(problems, name+", nested large objects are not supported by the local cloud")
			continue
		case m.ETag != nil && *m.ETag != "" && unquote(*m.ETag) != so.ETag:
			problems = append(problems, name+", Etag Mismatch")
			continue
		case m.SizeBytes != nil && *m.SizeBytes != so.Size:
			problems = append(problems, name+", Size Mismatch")
			continue
		}
		seg := segment{Name: name, Bytes: so.Size, Hash: so.ETag, ContentType: so.ContentType,
			LastModified: listingTime(so.Modified)}
		part := so.ETag
		if m.Range != "" {
			_, length, rerr := parseSegmentRange(m.Range, so.Size)
			if rerr != nil {
				problems = append(problems, fmt.Sprintf("Index %d: invalid range", i))
				continue
			}
			seg.Bytes, seg.Range = length, m.Range
			part = so.ETag + ":" + m.Range + ";"
		}
		sloSum.Write([]byte(part))
		segments = append(segments, seg)
		rec.Size += seg.Bytes
	}
	if len(problems) > 0 {
		return errBadRequest("Errors:\n%s\n", strings.Join(problems, "\n"))
	}
	rec.SLOETag = hex.EncodeToString(sloSum.Sum(nil))
	if want := unquote(q.r.Header.Get("ETag")); want != "" && want != rec.SLOETag {
		return errUnprocessable()
	}
	stored, err := json.Marshal(segments)
	if err != nil {
		return errInternal(err)
	}
	manifestSum := md5.Sum(stored)
	rec.ETag = hex.EncodeToString(manifestSum[:])
	rec.Segments = segments
	if err := s.commitLocked(c, rec); err != nil {
		return errInternal(err)
	}
	q.w.Header().Set("Last-Modified", lastModified(rec.Modified).Format(http.TimeFormat))
	writeCreated(q.w, `"`+rec.SLOETag+`"`)
	return nil
}

// concatReader reads parts back to back; it seeks, so http.ServeContent
// can answer ranges over a large object's segments.
type concatReader struct {
	files []*os.File
	parts []*io.SectionReader
	size  int64
	off   int64
}

func newConcatReader(files []*os.File, parts []*io.SectionReader) *concatReader {
	r := &concatReader{files: files, parts: parts}
	for _, p := range parts {
		r.size += p.Size()
	}
	return r
}

func (r *concatReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	base := int64(0)
	for _, part := range r.parts {
		if r.off < base+part.Size() {
			n, err := part.ReadAt(p[:min(int64(len(p)), base+part.Size()-r.off)], r.off-base)
			r.off += int64(n)
			if errors.Is(err, io.EOF) && n > 0 {
				err = nil
			}
			return n, err
		}
		base += part.Size()
	}
	return 0, io.EOF
}

func (r *concatReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	r.off = offset
	return offset, nil
}

func (r *concatReader) Close() error {
	var errs []error
	for _, f := range r.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
