package localcloud

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/aptrepo"
)

// TestPackageSourceOnTheBridge: the cloud serves its package mirror on the
// bridge gateway, announces it to servers in cloud-init's vendor-data,
// lists the requests made to it on the admin API, and stops it on Close.
func TestPackageSourceOnTheBridge(t *testing.T) {
	tc := startCloud(t, nil)
	u, err := url.Parse(tc.PackageSourceURL())
	if err != nil || u.Hostname() != tc.Network().Gateway().String() || u.Path != aptrepo.Prefix {
		t.Fatalf("mirror at %q (%v), want http://%s:<port>%s", tc.PackageSourceURL(), err, tc.Network().Gateway(), aptrepo.Prefix)
	}
	if vd := tc.Network().VendorData(); !strings.Contains(vd, "uri: "+tc.PackageSourceURL()) || !strings.HasPrefix(vd, "#cloud-config\n") {
		t.Errorf("vendor-data does not name the mirror:\n%s", vd)
	}
	// A path outside the mirror: answered without building it, and logged.
	resp, err := http.Get("http://" + u.Host + "/not-the-mirror")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("outside the mirror: %d, want 404", resp.StatusCode)
	}
	var got struct {
		URL      string            `json:"url"`
		Requests []aptrepo.Request `json:"requests"`
	}
	if err := json.Unmarshal(tc.admin(http.MethodGet, "/package-source", nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.URL != tc.PackageSourceURL() || len(got.Requests) != 1 || got.Requests[0].Path != "/not-the-mirror" || got.Requests[0].Status != 404 {
		t.Errorf("admin package-source = %+v", got)
	}
	if err := tc.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + u.Host + "/debian/"); err == nil {
		resp.Body.Close()
		t.Error("the mirror still answers after the cloud closed")
	}
}
