package swift

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireRestic skips without restic (Debian package restic) outside CI.
func requireRestic(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("restic")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("restic not installed")
		}
		t.Skip("restic not installed (apt-get install restic)")
	}
	return p
}

// resticCommand is restic against the object store with a storage URL
// and token (its ncw/swift backend skips Keystone then).
func (e *env) resticCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(requireRestic(t), args...)
	cmd.Env = []string{
		"HOME=" + t.TempDir(), "OS_STORAGE_URL=" + e.url(""), "OS_AUTH_TOKEN=" + tokenA,
		"RESTIC_PASSWORD=correct horse battery staple", "RESTIC_CACHE_DIR=" + t.TempDir(),
	}
	return cmd
}

// restic runs restic and fails the test if it fails.
func (e *env) restic(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.resticCommand(t, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("restic %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestResticBackupAndRestore(t *testing.T) {
	requireRestic(t)
	e := newEnv(t)
	src := t.TempDir()
	data := make([]byte, 3<<20)
	_, _ = rand.Read(data)
	marker := []byte("MARKER-ROW-42 plaintext that must not be stored")
	if err := os.WriteFile(filepath.Join(src, "random.bin"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "marker.txt"), bytes.Repeat(marker, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := "-r=swift:backups:/cluster1"
	e.restic(t, repo, "init")
	e.restic(t, repo, "backup", "--host=test", src)
	e.restic(t, repo, "backup", "--host=test", src) // a second, deduplicated backup
	e.restic(t, repo, "check", "--read-data")
	dst := t.TempDir()
	e.restic(t, repo, "restore", "latest", "--target", dst)
	got, err := os.ReadFile(filepath.Join(dst, src, "random.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("restored file differs (%v)", err)
	}
	// Encrypted at rest: no stored byte sequence is the marker.
	_ = filepath.Walk(e.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, marker[:20]) {
				t.Errorf("%s holds plaintext", p)
			}
		}
		return nil
	})
	// A flipped byte in a stored pack is found by the check.
	var packs []string
	_ = filepath.Walk(e.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".data") && info.Size() > 1<<20 {
			packs = append(packs, p)
		}
		return nil
	})
	if len(packs) == 0 {
		t.Fatal("no pack file found on disk")
	}
	b, _ := os.ReadFile(packs[0])
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(packs[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := e.resticCommand(t, repo, "check", "--read-data").CombinedOutput(); err == nil {
		t.Errorf("restic check passed on a corrupted pack:\n%s", out)
	}
}
