package aptrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
)

// DefaultCacheRoot holds the built mirrors unless PXC_APT_REPO_CACHE says
// otherwise: outside any clone, so every worktree and CI step shares them.
const DefaultCacheRoot = "/var/cache/pxc-provider"

// Suite, Component and Arch are the one distribution the mirror serves:
// the plain image's (Debian 12, main, this machine's architecture).
const (
	Suite     = "bookworm"
	Component = "main"
	Arch      = "amd64"
)

// Packages are what the mirror holds with their dependency closure: what
// the guest library installs for MariaDB (its layout's packages, and
// galera-arbitrator-4 for garbd). The local cloud imports none of the
// provider's packages, so the list is repeated here; a package missing from
// it fails install_packages with apt's 404, which the host test would show.
var Packages = []string{
	"mariadb-server", "mariadb-client", "galera-4", "mariadb-backup", "galera-arbitrator-4",
	"rsync", "socat", "xfsprogs", "restic", "stunnel4",
}

// Repo is a built mirror on this machine.
type Repo struct {
	// Root is the directory served at the mirror's URL (dists/, pool/).
	Root string
	// Debs are the pool paths of the packages it holds, relative to Root.
	Debs []string
	// BuildTime is how long its build took; Built says this call built it.
	BuildTime time.Duration
	Built     bool
}

// CacheRoot is the cache root in use.
func CacheRoot() string {
	if d := os.Getenv("PXC_APT_REPO_CACHE"); d != "" {
		return d
	}
	return DefaultCacheRoot
}

// mirror is the Debian archive the mirror copies from: the one the images
// are built from.
func mirror() string {
	if m := os.Getenv("PXC_DEBIAN_MIRROR"); m != "" {
		return strings.TrimSuffix(m, "/")
	}
	return image.DefaultMirror
}

// Hash names the cached mirror: everything that decides its content (the
// distribution, the archive, the package list and the plain image the
// closure is computed against).
func Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "suite=%s\ncomponent=%s\narch=%s\nmirror=%s\npackages=%s\nimage=%s\n",
		Suite, Component, Arch, mirror(), strings.Join(Packages, ","), image.Debian12.ID())
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Dir is the cached mirror's directory.
func Dir() string { return filepath.Join(CacheRoot(), "apt-repo-"+Hash()) }

// Cached returns the mirror if it is already built.
func Cached() (Repo, bool) { return readDone(Dir()) }

// Ensure returns the mirror, building it first if this machine has none
// (the plain image too, if needed). Concurrent callers, in any process,
// wait for one build. logf, if not nil, gets a line when a build starts and
// one with its duration.
func Ensure(ctx context.Context, logf func(format string, args ...any)) (Repo, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir := Dir()
	if r, ok := readDone(dir); ok {
		return r, nil
	}
	if err := os.MkdirAll(CacheRoot(), 0o755); err != nil {
		return Repo{}, fmt.Errorf("package mirror: create cache root: %w", err)
	}
	unlock, err := image.Lock(ctx, dir+".lock")
	if err != nil {
		return Repo{}, fmt.Errorf("package mirror: %w", err)
	}
	defer unlock()
	if r, ok := readDone(dir); ok { // built while we waited
		return r, nil
	}
	img, err := image.Ensure(ctx, image.Debian12, logf)
	if err != nil {
		return Repo{}, fmt.Errorf("package mirror: the plain image its closure is computed against: %w", err)
	}
	logf("package mirror: building %s from %s into %s; this happens once per machine", strings.Join(Packages, " "), mirror(), dir)
	t0 := time.Now()
	if err := runBuild(ctx, img.Root, dir); err != nil {
		return Repo{}, fmt.Errorf("package mirror: %w", err)
	}
	took := time.Since(t0).Round(time.Millisecond)
	if err := os.WriteFile(filepath.Join(dir, "done"), []byte(took.String()+"\n"), 0o644); err != nil {
		return Repo{}, fmt.Errorf("package mirror: mark done: %w", err)
	}
	r, _ := readDone(dir)
	r.Built = true
	logf("package mirror: built %d packages in %v (later runs reuse %s)", len(r.Debs), took.Round(time.Second), dir)
	for _, old := range pruneStale(dir) {
		logf("package mirror: removed %s, an older mirror", old)
	}
	return r, nil
}

// readDone returns the mirror in dir if its build finished ("done" holds
// the build time, "debs" the pool paths).
func readDone(dir string) (Repo, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "done"))
	if err != nil {
		return Repo{}, false
	}
	took, _ := time.ParseDuration(strings.TrimSpace(string(b)))
	list, err := os.ReadFile(filepath.Join(dir, "debs"))
	if err != nil {
		return Repo{}, false
	}
	return Repo{Root: filepath.Join(dir, "debian"), Debs: strings.Fields(string(list)), BuildTime: took}, true
}

// staleAfter is how long an older mirror (another package list or plain
// image) stays: branches with different lists on one machine would
// otherwise rebuild in turn.
const staleAfter = 24 * time.Hour

// pruneStale removes the mirrors other than keep whose build finished
// more than staleAfter ago, and returns what it removed (each is tens of
// megabytes; without this every list change would leave one behind).
func pruneStale(keep string) []string {
	root := CacheRoot()
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range ents {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() || dir == keep || !strings.HasPrefix(e.Name(), "apt-repo-") {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, "done"))
		if err != nil || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		if os.RemoveAll(dir) == nil {
			_ = os.Remove(dir + ".lock")
			removed = append(removed, dir)
		}
	}
	return removed
}
