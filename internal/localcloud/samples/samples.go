// Package samples finds the official OpenStack API samples
// (../shared/openstack-api beside the repository) for the local cloud's
// conformance tests, and makes their absence a failure in CI instead of a
// silent skip.
package samples

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names a directory that overrides the search.
const EnvDir = "OPENSTACK_API_SAMPLES"

// Find returns the samples directory: $OPENSTACK_API_SAMPLES, else
// shared/openstack-api in the parent of the repository root (the directory
// holding go.mod above the working directory) or in one of its ancestors
// (a worktree may sit one level deeper than the main checkout).
func Find() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvDir, d, err)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
		root = parent
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, "shared", "openstack-api")
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no shared/openstack-api beside the repository %s or above it (set %s)", root, EnvDir)
		}
	}
}

// ErrMissing says the samples are absent.
var ErrMissing = errors.New("OpenStack API samples not found")

// Dir returns the samples directory, or sub-directory sub of it. When the
// samples are absent it fails the test under CI (CI=true) and otherwise
// skips it, saying why.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	d, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: %v (CI=true: the conformance checks must run)", ErrMissing, err)
		}
		t.Skipf("%v: %v", ErrMissing, err)
	}
	return filepath.Join(d, sub)
}

// Optional is for a sample check inside a test that goes on without it: it
// returns sub of the samples directory and true; when the samples are
// absent it marks the test failed under CI (CI=true), otherwise logs, and
// returns false.
func Optional(t testing.TB, sub string) (string, bool) {
	t.Helper()
	d, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Errorf("%v: %v (CI=true: the conformance checks must run)", ErrMissing, err)
		} else {
			t.Logf("%v: %v; sample check skipped", ErrMissing, err)
		}
		return "", false
	}
	return filepath.Join(d, sub), true
}
