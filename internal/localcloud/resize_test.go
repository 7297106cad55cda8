package localcloud

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// boots counts the kernel banners on a server's console: one per boot.
func (tc *testCloud) boots(ctx context.Context, id string) int {
	tc.t.Helper()
	out, err := servers.ShowConsoleOutput(ctx, tc.compute, id, servers.ShowConsoleOutputOpts{}).Extract()
	if err != nil {
		tc.t.Fatal(err)
	}
	// systemd's first line of a boot; the kernel's in an init-less host's
	// synthesised console.
	return strings.Count(out, " running in system mode (") + strings.Count(out, "] Linux version ")
}

// A resize reboots the guest onto the new flavor and waits in
// VERIFY_RESIZE; revert reboots it onto the old one. A resize the admin
// API fails (as Nova's when no host fits) leaves the server ACTIVE on its
// flavor without a reboot, and the next resize works again.
func TestResizeRebootsAndInjectedFailure(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "db-2", nil)
	tc.waitServer(id, "ACTIVE")
	booted := tc.boots(ctx, id)
	if booted != 1 {
		t.Fatalf("%d boots on the console after create", booted)
	}

	tc.admin("POST", "/servers/"+id+"/fail-resize", map[string]any{"message": "No valid host was found. (test)"})
	if err := servers.Resize(ctx, tc.compute, id, servers.ResizeOpts{FlavorRef: "3"}).ExtractErr(); err != nil {
		t.Fatalf("resize is accepted (202) and fails later, as in Nova: %v", err)
	}
	s, err := servers.Get(ctx, tc.compute, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != "RESIZE" {
		t.Errorf("status right after the resize call = %s, want RESIZE", s.Status)
	}
	s = tc.waitServer(id, "ACTIVE")
	if s.Flavor["id"] != "2" {
		t.Errorf("flavor after a failed resize = %v, want the old one", s.Flavor)
	}
	if s.Fault.Message != "" {
		t.Errorf("an ACTIVE server shows a fault: %+v", s.Fault)
	}
	if got := tc.boots(ctx, id); got != booted {
		t.Errorf("a failed resize rebooted the guest (%d boots, want %d)", got, booted)
	}
	if err := servers.ConfirmResize(ctx, tc.compute, id).ExtractErr(); err == nil {
		t.Error("confirmResize after a failed resize was accepted")
	}

	// The fault was for one resize: the next one reboots onto the flavor.
	if err := servers.Resize(ctx, tc.compute, id, servers.ResizeOpts{FlavorRef: "3"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	s = tc.waitServer(id, "VERIFY_RESIZE")
	if s.Flavor["id"] != "3" {
		t.Errorf("flavor in VERIFY_RESIZE = %v", s.Flavor)
	}
	if got := tc.boots(ctx, id); got != booted+1 {
		t.Errorf("%d boots after the resize, want %d (a reboot onto the new flavor)", got, booted+1)
	}
	if err := servers.RevertResize(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	s = tc.waitServer(id, "ACTIVE")
	if s.Flavor["id"] != "2" {
		t.Errorf("flavor after revert = %v", s.Flavor)
	}
	if got := tc.boots(ctx, id); got != booted+2 {
		t.Errorf("%d boots after the revert, want %d", got, booted+2)
	}
	code, _, body := tc.rawDo("POST", "/_admin/servers/no-such-server/fail-resize", nil, nil)
	if code != 404 {
		t.Errorf("fail-resize of an unknown server: %d %s", code, body)
	}
}
