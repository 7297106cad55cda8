package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// A configuration with only the provider block plans with no credentials
// at all: authentication waits for the first resource that needs the cloud.
// (Terraform does not even configure a provider no resource uses; the
// conflict checks are therefore tested through ValidateConfig and Configure
// in provider_configure_test.go.)
func TestAccProviderOnlyPlansWithoutCredentials(t *testing.T) {
	clearOSEnv(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             `provider "pxc" {}`,
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
			{
				// Settings that point nowhere are fine too, until used.
				Config: `provider "pxc" {
  auth_url    = "http://127.0.0.1:1/v3"
  user_name   = "nobody"
  password    = "nothing"
  tenant_name = "none"
  region      = "RegionOne"
  max_retries = 0
}`,
				PlanOnly: true,
			},
		},
	})
}
