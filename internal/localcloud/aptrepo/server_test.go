package aptrepo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A cloud whose servers never ask builds nothing; a request made while
// the mirror builds waits for it; files are served
// below /debian only, and every request is recorded with its status.
func TestServerWaitsForTheBuildAndRecordsRequests(t *testing.T) {
	root := t.TempDir()
	deb := filepath.Join(root, "pool", "main", "g", "galera-4", "galera-4_26.4_amd64.deb")
	if err := os.MkdirAll(filepath.Dir(deb), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(deb, []byte("a package"), 0o644); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var builds atomic.Int32
	s := Serve(context.Background(), listen(t), func(ctx context.Context) (Repo, error) {
		builds.Add(1)
		<-release
		return Repo{Root: root}, nil
	})
	defer s.Close()
	if !strings.HasSuffix(s.URL(), "/debian") {
		t.Fatalf("URL %s", s.URL())
	}
	time.Sleep(100 * time.Millisecond)
	if builds.Load() != 0 {
		t.Fatal("the mirror was built before any request")
	}
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/pool/main/g/galera-4/galera-4_26.4_amd64.deb")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- http.StatusText(resp.StatusCode) + " " + string(b)
	}()
	select {
	case g := <-got:
		t.Fatalf("answered before the build ended: %s", g)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if g := <-got; g != "OK a package" {
		t.Fatalf("deb: %q", g)
	}
	if code, _ := get(t, s.URL()+"/pool/main/x/absent_1_amd64.deb"); code != http.StatusNotFound {
		t.Errorf("absent package: %d, want 404", code)
	}
	if code, _ := get(t, strings.TrimSuffix(s.URL(), "/debian")+"/etc/passwd"); code != http.StatusNotFound {
		t.Errorf("outside the mirror: %d, want 404", code)
	}
	if builds.Load() != 1 {
		t.Errorf("%d builds, want 1", builds.Load())
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded, want 3: %+v", len(reqs), reqs)
	}
	if r := reqs[0]; r.Path != "/debian/pool/main/g/galera-4/galera-4_26.4_amd64.deb" || r.Status != 200 || r.Bytes != 9 || r.Remote != "127.0.0.1" || r.Method != "GET" {
		t.Errorf("first request recorded as %+v", r)
	}
	if reqs[1].Status != 404 || reqs[2].Status != 404 {
		t.Errorf("404s recorded as %d, %d", reqs[1].Status, reqs[2].Status)
	}
}

// A failed build answers 503 with the cause; Close ends a running build
// and the listener.
func TestServerFailedBuildAndClose(t *testing.T) {
	s := Serve(context.Background(), listen(t), func(ctx context.Context) (Repo, error) {
		return Repo{}, errors.New("mirror unreachable")
	})
	if code, body := get(t, s.URL()+"/dists/bookworm/InRelease"); code != http.StatusServiceUnavailable || !strings.Contains(body, "mirror unreachable") {
		t.Errorf("failed build: %d %q", code, body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	ended := make(chan error, 1)
	s = Serve(context.Background(), listen(t), func(ctx context.Context) (Repo, error) {
		<-ctx.Done()
		ended <- ctx.Err()
		return Repo{}, ctx.Err()
	})
	url := s.URL()
	go func() { _, _ = s.Ready(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err == nil {
		t.Error("the build did not see its context end")
	}
	if _, err := http.Get(url + "/dists/bookworm/InRelease"); err == nil {
		t.Error("the listener still answers after Close")
	}
}
