package provider

import (
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

func credentialsConfig(extra string) string {
	return `
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}
ephemeral "pxc_credentials" "app" {
  cluster_id      = "0d5e8f3a-0000-4000-8000-000000000001"
  root_password   = "root-secret"
  ssh_private_key = "key"
` + extra + `
}
`
}

// Bad grants and ttl fail at validate time, naming the attribute, before
// the cloud is asked (the auth_url above answers nothing).
func TestCredentialsValidation(t *testing.T) {
	clearOSEnv(t)
	steps := []resource.TestStep{
		{Config: credentialsConfig(`grants = [{ privileges = ["SELECT; DROP USER root"], on = "app.*" }]`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Grant.*not a privilege name`)},
		{Config: credentialsConfig(`grants = [{ privileges = ["SELECT"], on = "app" }]`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Grant.*use \*\.\*, db\.\* or db\.table`)},
		{Config: credentialsConfig(`grants = []`),
			ExpectError: regexp.MustCompile(`(?s)grants.*at least 1`)},
		{Config: credentialsConfig(`
  grants = [{ privileges = ["SELECT"], on = "app.*" }]
  ttl    = "5s"`),
			ExpectError: regexp.MustCompile(`(?s)Invalid TTL.*from 1m to 24h`)},
		{Config: credentialsConfig(`
  grants             = [{ privileges = ["SELECT"], on = "app.*" }]
  ssh_host_key_check = "known_hosts"`),
			ExpectError: regexp.MustCompile(`known_hosts_file`)},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps:                    steps,
	})
}

// A valid configuration gets as far as the cloud, which is unreachable.
func TestCredentialsOpenNeedsTheCloud(t *testing.T) {
	clearOSEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{{
			Config:      credentialsConfig(`grants = [{ privileges = ["select", "insert"], on = "app.*" }]`),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Error Opening Temporary Credentials`),
		}},
	})
}

func TestCredentialsRequestNormalisesPrivileges(t *testing.T) {
	m := credentialsModel{
		TTL: types.StringNull(),
		Grants: []grantModel{{
			Privileges: []types.String{types.StringValue("select"), types.StringValue("all  privileges")},
			On:         types.StringValue("app.*"),
		}},
	}
	var diags diag.Diagnostics
	r := m.request(&diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if r.TTL != time.Hour {
		t.Fatalf("ttl = %s, want the 1h default", r.TTL)
	}
	if got := r.Grants[0].Privileges; got[0] != "SELECT" || got[1] != "ALL PRIVILEGES" {
		t.Fatalf("privileges = %q", got)
	}
	if err := cluster.CheckCredentialsRequest(r); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsSetResultPrefersTheGivenAddress(t *testing.T) {
	cr := &cluster.Credentials{Username: "tf_1_a", Password: "pw", Address: "10.0.0.11", Expires: time.Unix(1764720000, 0)}
	m := credentialsModel{Address: types.StringNull(), Port: types.Int64Null()}
	m.setResult(cr)
	if m.Host.ValueString() != "10.0.0.11" || m.Port.ValueInt64() != 3306 || m.ExpiresAt.ValueString() != "2025-12-03T00:00:00Z" {
		t.Fatalf("host %s port %d expires %s", m.Host, m.Port, m.ExpiresAt)
	}
	m = credentialsModel{Address: types.StringValue("192.0.2.10"), Port: types.Int64Value(6446)}
	m.setResult(cr)
	if m.Host.ValueString() != "192.0.2.10" || m.Port.ValueInt64() != 6446 {
		t.Fatalf("host %s port %d, want the configured ones", m.Host, m.Port)
	}
}

func TestCredentialsSchemaKeepsSecretsSensitive(t *testing.T) {
	s := credentialsEphemeralSchema()
	for _, name := range []string{"password", "root_password", "ssh_private_key"} {
		if !s.Attributes[name].IsSensitive() {
			t.Errorf("%s is not sensitive", name)
		}
	}
}

func TestAccountRegistryHandsEachAccountOutOnce(t *testing.T) {
	r := &accountRegistry{open: map[string]openAccount{}}
	h, err := r.add(openAccount{clusterID: "c", username: "tf_1_a"})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := r.take(h); !ok || a.username != "tf_1_a" {
		t.Fatalf("take = %+v, %v", a, ok)
	}
	if _, ok := r.take(h); ok {
		t.Fatal("an account was handed out twice")
	}
}
