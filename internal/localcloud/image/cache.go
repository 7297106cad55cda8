package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// DefaultCacheDir is where images are cached unless PXC_IMAGE_CACHE says
// otherwise: outside any clone, so every worktree and CI step shares them.
const DefaultCacheDir = "/var/cache/pxc-provider/images"

// DefaultMirror is the Debian archive images are built from unless
// PXC_DEBIAN_MIRROR says otherwise.
const DefaultMirror = "http://deb.debian.org/debian"

// DefaultSecurityMirror is the archive of Debian's security updates
// (Recipe.Security) unless PXC_DEBIAN_SECURITY_MIRROR says otherwise.
const DefaultSecurityMirror = "http://deb.debian.org/debian-security"

// Image is a built image on this machine.
type Image struct {
	Recipe Recipe
	// Root is the root filesystem; hosts use it read-only.
	Root string
	// BuildTime is how long the build took (on whichever process built it).
	BuildTime time.Duration
	// Built says this call built it (false: it was in the cache).
	Built bool
}

// CacheDir is the cache root in use.
func CacheDir() string {
	if d := os.Getenv("PXC_IMAGE_CACHE"); d != "" {
		return d
	}
	return DefaultCacheDir
}

// Cached returns the image if it is already built, without building it.
func Cached(r Recipe) (Image, bool) {
	dir := filepath.Join(CacheDir(), r.ID())
	return readDone(r, dir)
}

// Ensure returns the recipe's image, building it first if this machine has
// none. Concurrent callers (in any process) wait for one build. logf, if not
// nil, gets one line when a build starts and one with its duration.
func Ensure(ctx context.Context, r Recipe, logf func(format string, args ...any)) (Image, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	root := CacheDir()
	dir := filepath.Join(root, r.ID())
	if img, ok := readDone(r, dir); ok {
		return img, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Image{}, fmt.Errorf("image %s: create cache dir: %w", r.Name, err)
	}
	unlock, err := lock(ctx, dir+".lock")
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", r.Name, err)
	}
	defer unlock()
	if img, ok := readDone(r, dir); ok { // built while we waited
		return img, nil
	}
	logf("image: building %s (%s) with mmdebstrap into %s; this happens once per machine", r.Name, r.Hash(), dir)
	t0 := time.Now()
	if err := runBuild(ctx, r, dir); err != nil {
		return Image{}, fmt.Errorf("image %s: %w", r.Name, err)
	}
	took := time.Since(t0).Round(time.Millisecond)
	if err := os.WriteFile(filepath.Join(dir, "done"), []byte(took.String()+"\n"), 0o644); err != nil {
		return Image{}, fmt.Errorf("image %s: mark done: %w", r.Name, err)
	}
	logf("image: built %s in %v (cold build; later runs reuse %s)", r.Name, took.Round(time.Second), dir)
	for _, old := range pruneStale(r) {
		logf("image: removed %s, an older build of %s", old, r.Name)
	}
	img, _ := readDone(r, dir)
	img.Built = true
	return img, nil
}

// readDone returns the image in dir if its build finished ("done" holds the
// build time).
func readDone(r Recipe, dir string) (Image, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "done"))
	if err != nil {
		return Image{}, false
	}
	took, _ := time.ParseDuration(strings.TrimSpace(string(b)))
	return Image{Recipe: r, Root: filepath.Join(dir, "rootfs"), BuildTime: took}, true
}

// lock takes an exclusive flock on path, polling so that ctx can end the
// wait; unlock releases it.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open build lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("take build lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("wait for build lock %s (another process is building): %w", path, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// mountsUnder lists the mount points at or below dir in this process's
// mount namespace.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var found []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			found = append(found, f[4])
		}
	}
	return found
}

// runBuild is build; tests replace it.
var runBuild = build

// build runs mmdebstrap into dir/rootfs, from scratch (a failed build's
// leftovers are removed first).
func build(ctx context.Context, r Recipe, dir string) error {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return fmt.Errorf("mmdebstrap is not installed (tools/install-deps.sh installs it): %w", err)
	}
	// A build killed in the machine's mount namespace would leave /proc,
	// /sys and /dev mounted inside; removing through them would delete the
	// machine's. Builds run in a private mount namespace, but check anyway.
	if m := mountsUnder(dir); len(m) > 0 {
		return fmt.Errorf("a failed build left mounts under %s (%s); unmount them first", dir, strings.Join(m, ", "))
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove a failed build: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mirror := os.Getenv("PXC_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = DefaultMirror
	}
	args := []string{"--variant=" + r.Variant, "--include=" + strings.Join(r.Packages, ",")}
	for _, c := range r.Customize {
		args = append(args, "--customize-hook="+c)
	}
	args = append(args, r.Suite, filepath.Join(dir, "rootfs"), mirror)
	if r.Security {
		security := os.Getenv("PXC_DEBIAN_SECURITY_MIRROR")
		if security == "" {
			security = DefaultSecurityMirror
		}
		args = append(args, fmt.Sprintf("deb %s %s-security main", security, r.Suite))
	}
	// mmdebstrap mounts /proc, /sys and /dev in the new root: in a private
	// mount namespace they go away with it, however it ends.
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--mount", "--propagation", "private", "mmdebstrap"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Not Pdeathsig-owned: a build outliving its test is wasted, not harmful,
	// and the lock and "done" marker keep a half-built image from being used.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err := cmd.Run()
	_ = os.WriteFile(filepath.Join(dir, "build.log"), out.Bytes(), 0o644)
	if err != nil {
		s := strings.TrimSpace(out.String())
		if len(s) > 800 {
			s = "…" + s[len(s)-800:]
		}
		return fmt.Errorf("mmdebstrap %s: %w: %s", r.Suite, err, s)
	}
	return nil
}

// staleRE matches the directory of any build of an image: <name>-<hash>.
func staleRE(name string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(name) + "-[0-9a-f]{12}$")
}

// pruneAfter is how long a finished build of an older recipe is kept:
// branches of one clone built on the same machine may use different
// recipes for a while, and removing each other's builds would make them
// rebuild in turn.
const pruneAfter = 24 * time.Hour

// pruneStale removes the cached builds of r's image made from other
// recipes (a changed package list) that no process uses (no mount of any
// process on the machine names them) and that finished more than
// pruneAfter ago (or never), and returns what it removed. Images
// are hundreds of megabytes; without this every recipe change would leave
// one behind on every machine.
func pruneStale(r Recipe) []string {
	root := CacheDir()
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	re := staleRE(r.Name)
	var removed []string
	for _, e := range ents {
		if !e.IsDir() || e.Name() == r.ID() || !re.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if inUse(dir) || len(mountsUnder(dir)) > 0 {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, "done")); err == nil && time.Since(fi.ModTime()) < pruneAfter {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			_ = os.Remove(dir + ".lock")
			removed = append(removed, dir)
		}
	}
	return removed
}

// inUse reports whether any process on the machine has a mount naming dir
// (a host's overlay lives in the host's private mount namespace).
func inUse(dir string) bool {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p.Name(), "mountinfo"))
		if err == nil && strings.Contains(string(b), dir+"/") {
			return true
		}
	}
	return false
}
