package swift

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Limits, as Swift 2.30 publishes them in /info.
const (
	maxFileSize         = 5*1024*1024*1024 + 2
	maxContainerName    = 256
	maxObjectName       = 1024
	maxMetaCount        = 90
	maxMetaNameLength   = 128
	maxMetaValueLength  = 256
	maxMetaOverallSize  = 4096
	listingLimit        = 10000
	maxManifestSegments = 1000
	maxManifestSize     = 8 * 1024 * 1024
)

// Deps is what the service needs from the rest of the local cloud.
type Deps struct {
	// Authenticate validates the request's X-Auth-Token and returns the
	// project it is scoped to. An error gives 401. The project's account is
	// AUTH_<project>; other accounts give 403.
	Authenticate func(r *http.Request) (projectID string, err error)
	// StateDir holds the accounts, containers and objects. Required.
	StateDir string
	// AuthURL is the Keystone URL named in a 401's WWW-Authenticate header.
	AuthURL string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// ExpirerInterval is how often expired objects are removed from their
	// containers (swift-object-expirer); 0: 10s. Until then they are 404
	// but still listed, as in Swift.
	ExpirerInterval time.Duration
	// Logf, if set, receives background errors.
	Logf func(format string, args ...any)
}

// Service is the object store. It is an http.Handler for /info and
// /v1/{account}[/{container}[/{object}]].
type Service struct {
	deps   Deps
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex // guards accounts and every record below it
	accounts map[string]*account
}

// New loads the state directory and starts the expirer.
func New(deps Deps) (*Service, error) {
	if deps.StateDir == "" {
		return nil, fmt.Errorf("start object store: StateDir is required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.ExpirerInterval <= 0 {
		deps.ExpirerInterval = 10 * time.Second
	}
	if err := os.MkdirAll(deps.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("start object store: %w", err)
	}
	accounts, err := loadAccounts(deps.StateDir)
	if err != nil {
		return nil, fmt.Errorf("start object store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{deps: deps, cancel: cancel, done: make(chan struct{}), accounts: accounts}
	go s.runExpirer(ctx)
	return s, nil
}

// Close stops the expirer. Objects stay on disk.
func (s *Service) Close() error {
	s.cancel()
	<-s.done
	return nil
}

func (s *Service) logf(format string, args ...any) {
	if s.deps.Logf != nil {
		s.deps.Logf(format, args...)
	}
}

// newTransID makes a Swift transaction id: tx + 21 hex digits + "-" + the
// Unix time in 10 hex digits.
func newTransID(now time.Time) string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("tx%s-%010x", hex.EncodeToString(b[:])[:21], now.Unix())
}

// request is one authenticated call, its path split into names.
type request struct {
	w                          http.ResponseWriter
	r                          *http.Request
	account, container, object string
	now                        time.Time
}

// ServeHTTP serves /info and everything below /v1/.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.deps.Now()
	id := newTransID(now)
	w.Header().Set("X-Trans-Id", id)
	w.Header().Set("X-Openstack-Request-Id", id)
	if r.URL.Path == "/info" {
		s.info(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok || rest == "" {
		writeError(w, r, errNotFound())
		return
	}
	parts := strings.SplitN(rest, "/", 3)
	q := &request{w: w, r: r, account: parts[0], now: now}
	if len(parts) > 1 {
		q.container = parts[1]
	}
	if len(parts) > 2 {
		q.object = parts[2]
	}
	if q.container == "" && q.object != "" {
		writeError(w, r, errNotFound())
		return
	}
	if e := s.authorize(q); e != nil {
		writeError(w, r, e)
		return
	}
	var e *apiError
	switch {
	case q.object != "":
		e = s.serveObject(q)
	case q.container != "":
		e = s.serveContainer(q)
	default:
		e = s.serveAccount(q)
	}
	if e != nil {
		writeError(w, r, e)
	}
}

// authorize checks the token and that it is scoped to the account's project.
func (s *Service) authorize(q *request) *apiError {
	if s.deps.Authenticate == nil {
		return errUnauthorized()
	}
	project, err := s.deps.Authenticate(q.r)
	if err != nil {
		q.w.Header().Set("WWW-Authenticate", `Swift realm="`+q.account+`"`)
		if s.deps.AuthURL != "" {
			q.w.Header().Add("WWW-Authenticate", `Keystone uri="`+s.deps.AuthURL+`"`)
		}
		return errUnauthorized()
	}
	if q.account != "AUTH_"+project {
		return errForbidden()
	}
	return nil
}

// info is GET /info: the cluster's capabilities (no token needed).
func (s *Service) info(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, r, errMethodNotAllowed())
		return
	}
	body := map[string]any{
		"swift": map[string]any{
			"version":                   "2.30.0",
			"max_file_size":             maxFileSize,
			"max_meta_count":            maxMetaCount,
			"max_meta_name_length":      maxMetaNameLength,
			"max_meta_value_length":     maxMetaValueLength,
			"max_meta_overall_size":     maxMetaOverallSize,
			"max_object_name_length":    maxObjectName,
			"max_container_name_length": maxContainerName,
			"container_listing_limit":   listingLimit,
			"account_listing_limit":     listingLimit,
			"strict_cors_mode":          true,
			"policies":                  []any{map[string]any{"name": "Policy-0", "default": true}},
		},
		"slo": map[string]any{
			"max_manifest_segments": maxManifestSegments,
			"max_manifest_size":     maxManifestSize,
			"min_segment_size":      1,
		},
		"bulk_delete": map[string]any{"max_deletes_per_request": 10000, "max_failed_deletes": 1000},
	}
	writeJSON(w, r, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, errInternal(err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// accountLocked returns the account, creating it (account_autocreate)
// when create is set; nil when it does not exist. Callers hold s.mu.
func (s *Service) accountLocked(name string, now time.Time, create bool) (*account, error) {
	if a, ok := s.accounts[name]; ok {
		return a, nil
	}
	if !create {
		return nil, nil
	}
	a := &account{
		rec:        accountRecord{Name: name, Created: now.UTC(), Meta: map[string]string{}},
		dir:        filepath.Join(s.deps.StateDir, "a-"+hashName(name)),
		containers: map[string]*container{},
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create account %s: %w", name, err)
	}
	if err := writeRecord(filepath.Join(a.dir, "account.json"), &a.rec); err != nil {
		return nil, err
	}
	s.accounts[name] = a
	return a, nil
}

// containerLocked returns the container or nil. Callers hold s.mu.
func (s *Service) containerLocked(accountName, name string) *container {
	a := s.accounts[accountName]
	if a == nil {
		return nil
	}
	return a.containers[name]
}

// timestamp renders X-Timestamp: Unix seconds with 5 decimals.
func timestamp(t time.Time) string {
	return fmt.Sprintf("%.5f", float64(t.UnixNano())/1e9)
}

// lastModified rounds up to the next second, as Swift's Last-Modified does.
func lastModified(t time.Time) time.Time {
	if t.Truncate(time.Second).Equal(t) {
		return t
	}
	return t.Truncate(time.Second).Add(time.Second)
}

// listingTime renders a listing's last_modified: UTC, microseconds, no zone.
func listingTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// DeleteAll removes every account, container and object (the cloud's
// reset). The service stays usable.
func (s *Service) DeleteAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, a := range s.accounts {
		if err := os.RemoveAll(a.dir); err != nil {
			errs = append(errs, fmt.Errorf("delete account %s: %w", name, err))
			continue
		}
		delete(s.accounts, name)
	}
	return errors.Join(errs...)
}
