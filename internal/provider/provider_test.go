package provider

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testAccProtoV6ProviderFactories starts the provider in-process for
// acceptance tests (terraform-plugin-testing), under the name "pxc".
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"pxc": providerserver.NewProtocol6WithError(New("test")()),
}

// osVariables are every variable the provider or clouds.yaml parsing reads.
var osVariables = []string{
	"OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_AUTH_URL", "OS_REGION_NAME", "OS_USERNAME", "OS_USER_ID",
	"OS_PASSWORD", "OS_TOKEN", "OS_AUTH_TOKEN", "OS_TENANT_NAME", "OS_PROJECT_NAME", "OS_TENANT_ID",
	"OS_PROJECT_ID", "OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID", "OS_PROJECT_DOMAIN_NAME",
	"OS_PROJECT_DOMAIN_ID", "OS_DOMAIN_NAME", "OS_DOMAIN_ID", "OS_DEFAULT_DOMAIN",
	"OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_SECRET",
	"OS_INSECURE", "OS_CACERT", "OS_CERT", "OS_KEY", "OS_ENDPOINT_TYPE", "OS_INTERFACE", "OS_MAX_RETRIES",
}

// clearOSEnv unsets every OS_* variable for the duration of the test, so
// the test sees only what it sets itself.
func clearOSEnv(t *testing.T) {
	t.Helper()
	for _, k := range osVariables {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
}

// testAccPreCheck fails early when the acceptance environment is unusable.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests run only with TF_ACC=1 (make testacc)")
	}
}

func TestEveryEnvVariableIsCleared(t *testing.T) {
	// A new OS_* default must be added to osVariables, or acceptance tests
	// could pick up the developer's real cloud.
	for _, s := range stringSettings {
		for _, e := range s.env {
			if !contains(osVariables, e) {
				t.Errorf("%s (default of %s) is missing from osVariables", e, s.name)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
