package aptrepo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Prefix is the path the mirror is served under: apt sources name
// http://<address>/debian.
const Prefix = "/debian"

// maxLoggedRequests bounds the request log (a cluster install is a few
// hundred requests).
const maxLoggedRequests = 100000

// Request is one request a guest made to the mirror.
type Request struct {
	Time   time.Time `json:"time"`
	Remote string    `json:"remote"` // the client's IP address
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"`
	Bytes  int64     `json:"bytes"`
}

// Server serves a mirror that is built on the first request: a cloud
// whose servers never install packages builds nothing, and requests wait
// for the build (bounded by their own context), or get 503 if it failed.
type Server struct {
	ln    net.Listener
	srv   *http.Server
	url   string
	build func(context.Context) (Repo, error)
	once  sync.Once
	ctx   context.Context // the build's; Close cancels it
	stop  context.CancelFunc
	done  chan struct{} // closed when the build ended
	built bool          // the build was started (guarded by mu)

	mu       sync.Mutex
	repo     Repo
	buildErr error
	log      []Request
}

// Serve serves on ln the mirror that build returns, calling build in the
// background at the first request. Close stops both.
func Serve(ctx context.Context, ln net.Listener, build func(context.Context) (Repo, error)) *Server {
	s := &Server{ln: ln, url: "http://" + ln.Addr().String() + Prefix, build: build, done: make(chan struct{})}
	s.ctx, s.stop = context.WithCancel(ctx)
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

// startBuild runs the build once, in the background.
func (s *Server) startBuild() {
	s.once.Do(func() {
		s.mu.Lock()
		s.built = true
		s.mu.Unlock()
		go func() {
			defer close(s.done)
			r, err := s.build(s.ctx)
			s.mu.Lock()
			s.repo, s.buildErr = r, err
			s.mu.Unlock()
		}()
	})
}

// URL is the mirror's base URL as guests reach it, http://<addr>/debian.
func (s *Server) URL() string { return s.url }

// Ready starts the build if no request has, waits for it and returns its
// result.
func (s *Server) Ready(ctx context.Context) (Repo, error) {
	s.startBuild()
	select {
	case <-s.done:
	case <-ctx.Done():
		return Repo{}, fmt.Errorf("wait for the package mirror's build: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repo, s.buildErr
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Close stops the listener, the open connections and a running build.
func (s *Server) Close() error {
	s.stop()
	err := s.srv.Close()
	s.mu.Lock()
	started := s.built
	s.mu.Unlock()
	if started {
		<-s.done
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop package mirror: %w", err)
	}
	return nil
}

// ServeHTTP answers GET and HEAD for files below Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() { s.record(r, rec) }()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(rec, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path != Prefix && !strings.HasPrefix(r.URL.Path, Prefix+"/") {
		http.NotFound(rec, r)
		return
	}
	repo, err := s.Ready(r.Context())
	if err != nil {
		http.Error(rec, "package mirror unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	http.StripPrefix(Prefix, http.FileServer(http.Dir(repo.Root))).ServeHTTP(rec, r)
}

func (s *Server) record(r *http.Request, rec *recorder) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) < maxLoggedRequests {
		s.log = append(s.log, Request{Time: time.Now().UTC(), Remote: host, Method: r.Method, Path: r.URL.Path, Status: rec.status, Bytes: rec.bytes})
	}
}

// recorder keeps the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}
