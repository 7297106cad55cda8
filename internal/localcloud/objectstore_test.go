package localcloud

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
)

// resticEnv is restic's environment for Keystone v3 password auth at authURL.
func (tc *testCloud) resticEnv(authURL string) []string {
	user, pass, project, domain := tc.Credentials()
	return []string{"OS_AUTH_URL=" + authURL, "OS_USERNAME=" + user, "OS_PASSWORD=" + pass,
		"OS_PROJECT_NAME=" + project, "OS_USER_DOMAIN_NAME=" + domain, "OS_PROJECT_DOMAIN_NAME=" + domain,
		"OS_REGION_NAME=RegionOne", "RESTIC_PASSWORD=not-a-real-secret"}
}

func TestObjectStoreThroughCatalog(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	sc, err := openstack.NewObjectStorageV1(tc.provider, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatalf("object-store in the catalog: %v", err)
	}
	want := tc.ObjectStoreURL() + "/v1/AUTH_" + tc.St.Identity.ProjectID + "/"
	if sc.Endpoint != want || !strings.Contains(want, tc.Network().Gateway().String()) {
		t.Errorf("object-store endpoint %s, want %s (on the bridge gateway)", sc.Endpoint, want)
	}
	if _, err := containers.Create(ctx, sc, "backups", nil).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Create(ctx, sc, "backups", "a/b", objects.CreateOpts{Content: strings.NewReader("hello")}).Extract(); err != nil {
		t.Fatal(err)
	}
	dl := objects.Download(ctx, sc, "backups", "a/b", nil)
	if data, err := dl.ExtractContent(); err != nil || string(data) != "hello" {
		t.Fatalf("download %q (%v)", data, err)
	}
	// Objects are files under the state dir.
	if m, _ := filepath.Glob(filepath.Join(tc.cfg.StateDir, "swift", "*", "*", "*.data")); len(m) != 1 {
		t.Errorf("object files under the state dir: %v", m)
	}
	// No token, bad token: 401, on both listeners.
	for _, base := range []string{tc.URL(), tc.ObjectStoreURL()} {
		for _, token := range []string{"", "forged"} {
			req, _ := http.NewRequest("GET", base+"/v1/AUTH_"+tc.St.Identity.ProjectID+"/backups", nil)
			if token != "" {
				req.Header.Set("X-Auth-Token", token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("%s with token %q: %d, want 401", base, token, resp.StatusCode)
			}
		}
	}
	// The gateway listener serves only Keystone and Swift.
	resp, err := http.Get(tc.ObjectStoreURL() + "/compute/v2.1/servers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("compute on the gateway listener: %d, want 404", resp.StatusCode)
	}
	// An injected fault has Swift's HTML body.
	tc.admin("POST", "/faults", map[string]any{"method": "GET", "path_regex": "^/v1/", "status": 503, "count": 1})
	_, err = objects.Download(ctx, sc, "backups", "a/b", nil).Extract()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &unexpected) || unexpected.Actual != 503 || !strings.HasPrefix(string(unexpected.Body), "<html><h1>Service Unavailable</h1>") {
		t.Errorf("injected fault: %v", err)
	}
	// The cloud's reset removes every object.
	if err := tc.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := containers.Get(ctx, sc, "backups", nil).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("container after reset: %v, want 404", err)
	}
}

// TestResticWithKeystone backs up and restores with restic's Swift backend
// authenticating with OS_* Keystone v3 credentials, from the machine and
// from inside a server.
func TestResticWithKeystone(t *testing.T) {
	if _, err := exec.LookPath("restic"); err != nil {
		t.Skip("restic not installed (apt-get install restic)")
	}
	tc := startCloud(t, nil)
	ctx := context.Background()

	src := t.TempDir()
	payload := bytes.Repeat([]byte("row 1, some data\n"), 10000)
	if err := os.WriteFile(filepath.Join(src, "dump.sql"), payload, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("restic", args...)
		cmd.Env = append([]string{"HOME=" + t.TempDir(), "RESTIC_CACHE_DIR=" + t.TempDir()}, tc.resticEnv(tc.AuthURL())...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("restic %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("-r", "swift:backups:/machine", "init")
	run("-r", "swift:backups:/machine", "backup", src)
	dst := t.TempDir()
	run("-r", "swift:backups:/machine", "restore", "latest", "--target", dst)
	if got, err := os.ReadFile(filepath.Join(dst, src, "dump.sql")); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("restored file differs (%v)", err)
	}

	// From a server: its namespace reaches Keystone and Swift on the gateway.
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "backup-1", nil)
	addr := serverAddr(t, tc.waitServer(id, "ACTIVE"))
	env := strings.Join(tc.resticEnv(tc.ObjectStoreURL()+"/identity/v3"), " ")
	script := "set -e; export HOME=/root RESTIC_CACHE_DIR=/root/.cache/restic " + env +
		"; echo guest-data > /root/data.txt; restic -q -r swift:backups:/guest init; restic -q -r swift:backups:/guest backup /root/data.txt" +
		"; rm /root/data.txt; restic -q -r swift:backups:/guest restore latest --target /; cat /root/data.txt"
	out, err := sshRun(t, addr, fx.signer, nil, script)
	if err != nil || !strings.Contains(out, "guest-data") {
		t.Fatalf("restic inside the server: %v\n%s", err, out)
	}
}
