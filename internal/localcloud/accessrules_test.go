package localcloud

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
)

// An application credential whose access rules name one container: its
// tokens reach that container's objects and nothing else, neither another
// container nor another service (Keystone access rules, checked by the
// service as keystonemiddleware does).
func TestApplicationCredentialAccessRules(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	id, err := openstack.NewIdentityV3(tc.provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	user, err := tc.provider.GetAuthResult().(tokens.CreateResult).ExtractUser()
	if err != nil {
		t.Fatal(err)
	}
	var rules []applicationcredentials.AccessRule
	for _, m := range []string{"GET", "HEAD", "PUT", "DELETE"} {
		for _, p := range []string{"/v1/*/mine", "/v1/*/mine/**"} {
			rules = append(rules, applicationcredentials.AccessRule{Service: "object-store", Method: m, Path: p})
		}
	}
	ac, err := applicationcredentials.Create(ctx, id, user.ID, applicationcredentials.CreateOpts{Name: "backups", AccessRules: rules}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(ac.AccessRules) != len(rules) {
		t.Errorf("created with %d access rules, %d asked", len(ac.AccessRules), len(rules))
	}
	sc, err := openstack.NewObjectStorageV1(tc.provider, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := containers.Create(ctx, sc, "other", nil).Extract(); err != nil {
		t.Fatal(err)
	}
	limited, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: tc.URL() + "/identity/v3", ApplicationCredentialID: ac.ID, ApplicationCredentialSecret: ac.Secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	token := limited.Token()
	base := strings.TrimSuffix(sc.Endpoint, "/")
	for _, c := range []struct {
		method, url string
		want        int
	}{
		{"PUT", base + "/mine", 201},
		{"PUT", base + "/mine/data/ab", 201},
		{"GET", base + "/mine/data/ab", 200},
		{"GET", base + "/mine", 200},
		{"DELETE", base + "/mine/data/ab", 204},
		{"GET", base + "/other", 401},
		{"PUT", base + "/other/x", 401},
		{"GET", base, 401}, // the account listing
		{"POST", base + "/mine", 401},
		{"GET", tc.URL() + "/compute/v2.1/servers", 401},
	} {
		req, _ := http.NewRequest(c.method, c.url, strings.NewReader(""))
		req.Header.Set("X-Auth-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s with the limited credential: %d, want %d", c.method, c.url, resp.StatusCode, c.want)
		}
	}
}
