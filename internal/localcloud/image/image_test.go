package image

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashChangesWithThePackageList(t *testing.T) {
	a := Debian12
	b := Debian12
	b.Packages = append(append([]string(nil), a.Packages...), "vim")
	if a.Hash() == b.Hash() {
		t.Fatal("adding a package kept the hash: a changed list would reuse a stale image")
	}
	c := Debian12
	c.Security = !c.Security
	if a.Hash() == c.Hash() {
		t.Fatal("the security updates do not change the hash: an image built without them would be reused")
	}
	if !Debian12.Security || !Debian12MariaDBGalera.Security {
		t.Error("an image is built without the suite's security updates, which Debian's cloud images have")
	}
	if a.Hash() != Debian12.Hash() || len(a.Hash()) != 12 {
		t.Fatalf("hash is not stable or not 12 hex digits: %q", a.Hash())
	}
	if Debian12.ID() == Debian12MariaDBGalera.ID() {
		t.Fatal("the two images share a cache directory")
	}
	for _, name := range []string{"debian-12", "debian-12-mariadb-galera"} {
		if r, ok := Lookup(name); !ok || r.Name != name {
			t.Errorf("Lookup(%q) = %v, %v", name, r.Name, ok)
		}
	}
	if _, ok := Lookup("ubuntu"); ok {
		t.Error("Lookup found an image that does not exist")
	}
}

// TestEnsureBuildsOnceForConcurrentCallers: callers that ask at once share
// one build, and a later caller reuses the cache with the recorded time.
func TestEnsureBuildsOnceForConcurrentCallers(t *testing.T) {
	t.Setenv("PXC_IMAGE_CACHE", t.TempDir())
	var builds atomic.Int32
	runBuild = func(ctx context.Context, r Recipe, dir string) error {
		builds.Add(1)
		time.Sleep(300 * time.Millisecond)
		return os.MkdirAll(filepath.Join(dir, "rootfs", "sbin"), 0o755)
	}
	t.Cleanup(func() { runBuild = build })

	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	built := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := Ensure(ctx, Debian12, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if img.Root != filepath.Join(CacheDir(), Debian12.ID(), "rootfs") {
				t.Errorf("root %s", img.Root)
			}
			if img.Built {
				mu.Lock()
				built++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if builds.Load() != 1 || built != 1 {
		t.Fatalf("%d builds, %d callers saw Built; want 1 and 1", builds.Load(), built)
	}
	img, ok := Cached(Debian12)
	if !ok || img.BuildTime < 300*time.Millisecond {
		t.Fatalf("cached image %+v, %v: want the recorded build time", img, ok)
	}
}

// TestEnsureRetriesAFailedBuild: a failed build leaves no "done" marker, so
// the next call builds again instead of booting a half-built root.
func TestEnsureRetriesAFailedBuild(t *testing.T) {
	t.Setenv("PXC_IMAGE_CACHE", t.TempDir())
	fail := true
	runBuild = func(ctx context.Context, r Recipe, dir string) error {
		if err := os.MkdirAll(filepath.Join(dir, "rootfs"), 0o755); err != nil {
			return err
		}
		if fail {
			return os.ErrDeadlineExceeded
		}
		return nil
	}
	t.Cleanup(func() { runBuild = build })
	if _, err := Ensure(context.Background(), Debian12, nil); err == nil {
		t.Fatal("failed build reported success")
	}
	if _, ok := Cached(Debian12); ok {
		t.Fatal("a failed build is in the cache")
	}
	fail = false
	if img, err := Ensure(context.Background(), Debian12, nil); err != nil || !img.Built {
		t.Fatalf("retry: %+v, %v", img, err)
	}
}

// TestEnsurePrunesOlderBuildsOfTheSameImage: a recipe change leaves no old
// build behind, and other images, unrelated directories and a build
// finished within pruneAfter (another branch's recipe) stay.
func TestEnsurePrunesOlderBuildsOfTheSameImage(t *testing.T) {
	root := t.TempDir()
	t.Setenv("PXC_IMAGE_CACHE", root)
	runBuild = func(ctx context.Context, r Recipe, dir string) error {
		return os.MkdirAll(filepath.Join(dir, "rootfs"), 0o755)
	}
	t.Cleanup(func() { runBuild = build })
	old := filepath.Join(root, "debian-12-0123456789ab")
	recent := filepath.Join(root, "debian-12-00000000000b") // another branch's recipe, built today
	kept := []string{
		filepath.Join(root, "debian-12-mariadb-galera-0123456789ab"), // another image
		filepath.Join(root, "debian-12-notahash"),
		recent,
	}
	for _, d := range append(kept, old) {
		if err := os.MkdirAll(filepath.Join(d, "rootfs"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(old, "done"), []byte("1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(old, "done"), time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(recent, "done"), []byte("1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(context.Background(), Debian12, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("older build %s left (stat: %v)", old, err)
	}
	for _, d := range kept {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
