package provider

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

const testRepositoryKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBFd0veABEADyFa8jPHXhhX1XS9W7Og4p\n=Ab12\n-----END PGP PUBLIC KEY BLOCK-----\n"

// package_repository becomes the guest library's repository: Percona's
// URL for the datastore's version unless one is given, the key, suite and
// components as written; MariaDB has no default.
func TestPackageRepositorySpec(t *testing.T) {
	ctx := context.Background()
	model := func(typ, version, url string, components ...string) *clusterModel {
		r := &packageRepositoryModel{URL: types.StringNull(), Key: types.StringValue(testRepositoryKey), Suite: types.StringNull(), Components: types.ListNull(types.StringType)}
		if url != "" {
			r.URL = types.StringValue(url)
		}
		if len(components) > 0 {
			r.Components, _ = types.ListValueFrom(ctx, types.StringType, components)
			r.Suite = types.StringValue("jammy")
		}
		return &clusterModel{Datastore: &datastoreModel{Type: types.StringValue(typ), Version: types.StringValue(version)}, PackageRepository: r}
	}
	var diags diag.Diagnostics
	if r := (&clusterModel{}).packageRepository(ctx, &diags); r != nil || diags.HasError() {
		t.Fatalf("no package_repository: %+v, %v", r, diags)
	}
	for version, want := range map[string]string{"8.0": "http://repo.percona.com/pxc-80/apt", "5.7": "http://repo.percona.com/pxc-57/apt"} {
		r := model("percona", version, "").packageRepository(ctx, &diags)
		if diags.HasError() || r == nil || r.URL != want || r.Key != testRepositoryKey || r.Suite != "" || len(r.Components) != 0 {
			t.Errorf("percona %s: %+v, %v; want url %s", version, r, diags, want)
		}
	}
	r := model("percona", "8.0", "https://mirror.example.com/pxc-80/apt", "main", "testing").packageRepository(ctx, &diags)
	if diags.HasError() || r == nil || r.URL != "https://mirror.example.com/pxc-80/apt" || r.Suite != "jammy" || strings.Join(r.Components, ",") != "main,testing" {
		t.Errorf("explicit repository: %+v, %v", r, diags)
	}
	if r := model("mariadb", "10.11", "").packageRepository(ctx, &diags); r != nil || !diags.HasError() || !strings.Contains(diags[0].Summary(), "Package Repository URL Required") {
		t.Errorf("mariadb without url: %+v, %v", r, diags)
	}
}

// A repository that would not be a clean apt sources entry is refused at
// plan time, naming the attribute.
func TestClusterResourceRefusesBadPackageRepository(t *testing.T) {
	clearOSEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: clusterConfig("demo", 3, `package_repository = { url = "http://repo.example.com/apt bookworm main", key = "not a key" }`),
				PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Invalid Package Repository.*package_repository.*url .* is not an http or https URL; key is not`)},
			{Config: clusterConfig("demo", 3, `package_repository = { key = "x" }`),
				PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Package Repository URL Required.*no url was given`)},
		},
	})
}
