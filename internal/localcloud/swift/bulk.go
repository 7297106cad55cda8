package swift

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

const maxBulkDeletes = 10000

// bulkDelete is POST /v1/{account}?bulk-delete: one URL-encoded
// "container/object" or "container" per line. The answer is always 200;
// failures are listed in Errors as [name, status] pairs.
func (s *Service) bulkDelete(q *request) *apiError {
	var names []string
	sc := bufio.NewScanner(io.LimitReader(q.r.Body, 16<<20))
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if len(names) == maxBulkDeletes {
			return errTooLarge()
		}
		if u, err := url.PathUnescape(line); err == nil {
			line = u
		}
		names = append(names, strings.TrimPrefix(line, "/"))
	}
	if err := sc.Err(); err != nil {
		return errBadRequest("Invalid bulk delete.")
	}
	deleted, notFound := 0, 0
	errs := [][2]string{}
	s.mu.Lock()
	for _, name := range names {
		cont, obj, isObject := strings.Cut(name, "/")
		c := s.containerLocked(q.account, cont)
		switch {
		case c == nil:
			notFound++
		case !isObject:
			if len(c.objects) > 0 {
				errs = append(errs, [2]string{"/" + name, "409 Conflict"})
				continue
			}
			if err := os.RemoveAll(c.dir); err != nil {
				errs = append(errs, [2]string{"/" + name, "500 Internal Error"})
				continue
			}
			delete(s.accounts[q.account].containers, cont)
			deleted++
		default:
			o := c.objects[obj]
			if o == nil {
				notFound++
				continue
			}
			if err := s.removeLocked(c, o); err != nil {
				errs = append(errs, [2]string{"/" + name, "500 Internal Error"})
				continue
			}
			if o.expired(q.now) {
				notFound++
			} else {
				deleted++
			}
		}
	}
	s.mu.Unlock()
	writeBulkSummary(q, deleted, notFound, errs)
	return nil
}

// writeBulkSummary answers 200 with the bulk middleware's JSON summary;
// failures turn only "Response Status", never the HTTP status.
func writeBulkSummary(q *request, deleted, notFound int, errs [][2]string) {
	status := "200 OK"
	if len(errs) > 0 {
		status = "400 Bad Request"
	}
	if errs == nil {
		errs = [][2]string{}
	}
	writeJSON(q.w, q.r, http.StatusOK, map[string]any{
		"Number Deleted": deleted, "Number Not Found": notFound, "Errors": errs,
		"Response Status": status, "Response Body": "",
	})
}
