package aptrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEnsureBuildsAMirrorOfTheClosure builds (or reuses) the machine's
// mirror and checks what a guest's apt needs from it: Debian's signed
// InRelease, the index files it names at their path and by hash, and the
// .debs of the closure at their pool paths with the hashes the index
// gives. Skipped without root or the tools; under CI they are part of the
// setup and a missing one fails.
func TestEnsureBuildsAMirrorOfTheClosure(t *testing.T) {
	if testing.Short() {
		t.Skip("real hosts: not with -short (make unit)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (the plain image is built with mmdebstrap)")
	}
	for _, tool := range []string{"apt-get", "mmdebstrap"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (tools/install-deps.sh installs it)", tool)
			}
			t.Skipf("%s is missing", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r, err := Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Built {
		t.Logf("mirror cached at %s (its cold build took %v)", r.Root, r.BuildTime)
	}
	signed, err := os.ReadFile(filepath.Join(r.Root, "dists", Suite, "InRelease"))
	if err != nil || !strings.Contains(string(signed), "-----BEGIN PGP SIGNATURE-----") || !strings.Contains(string(signed), "Codename: "+Suite) {
		t.Fatalf("InRelease is not Debian's signed %s release (%v)", Suite, err)
	}
	sums := releaseSHA256(signed)
	for _, f := range indexFiles {
		for _, p := range []string{f, filepath.Join(filepath.Dir(f), "by-hash", "SHA256", sums[f])} {
			if got := fileSHA256(t, filepath.Join(r.Root, "dists", Suite, p)); got != sums[f] {
				t.Errorf("%s: SHA-256 %s, InRelease says %s", p, got, sums[f])
			}
		}
	}
	names := map[string]bool{}
	for _, d := range r.Debs {
		if _, err := os.Stat(filepath.Join(r.Root, d)); err != nil {
			t.Errorf("listed .deb missing: %v", err)
		}
		names[strings.SplitN(filepath.Base(d), "_", 2)[0]] = true
	}
	for _, want := range []string{"mariadb-server", "galera-4", "mariadb-backup", "galera-arbitrator-4", "rsync", "socat", "restic"} {
		if !names[want] {
			t.Errorf("the mirror has no %s", want)
		}
	}
	// The closure is relative to the plain image: what it has is not copied.
	for _, inImage := range []string{"libc6", "systemd", "xfsprogs"} {
		if names[inImage] {
			t.Errorf("the mirror holds %s, which the plain image already has", inImage)
		}
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return ""
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// An older mirror goes once it is a day old; a recent one and other
// directories stay.
func TestPruneStaleMirrors(t *testing.T) {
	root := t.TempDir()
	t.Setenv("PXC_APT_REPO_CACHE", root)
	mk := func(name string, age time.Duration) string {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		done := filepath.Join(dir, "done")
		if err := os.WriteFile(done, []byte("1s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(done, when, when); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	keep := mk("apt-repo-000000000001", 48*time.Hour)
	old := mk("apt-repo-000000000002", 25*time.Hour)
	recent := mk("apt-repo-000000000003", time.Hour)
	other := mk("images", 48*time.Hour)
	removed := pruneStale(keep)
	if len(removed) != 1 || removed[0] != old {
		t.Errorf("removed %v, want only %s", removed, old)
	}
	for _, d := range []string{keep, recent, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}
