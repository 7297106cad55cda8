package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// clusterConfig is a pxc_cluster with the given extra attributes; the
// provider points nowhere, so these steps prove the checks run before any
// cloud call.
func clusterConfig(name string, nodeCount int, extra string) string {
	return fmt.Sprintf(`
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}

resource "pxc_cluster" "test" {
  name       = %q
  node_count = %d
  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  flavor  = "m1.small"
  image   = "debian-12-mariadb-galera"
  network = "private"
  volume = {
    size = 1
  }
%s
}
`, name, nodeCount, extra)
}

// Bad input is refused at validate/plan time, naming the attribute, before
// anything is created.
func TestClusterResourceRefusesBadInputAtPlanTime(t *testing.T) {
	clearOSEnv(t)
	steps := []resource.TestStep{
		{Config: clusterConfig("demo", 1, ""), ExpectError: regexp.MustCompile(`(?s)node_count.*at least 2`)},
		{Config: clusterConfig("Bad_Name", 3, ""), ExpectError: regexp.MustCompile(`(?s)Attribute name.*DNS label`)},
		{Config: clusterConfig("demo", 3, `parameters = { wsrep_cluster_address = "gcomm://" }`),
			ExpectError: regexp.MustCompile(`(?s)parameters.*wsrep_cluster_address`)},
		{Config: clusterConfig("demo", 3, `parameters = { max_connections = "5\n[mysqld_safe]" }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Parameters`)},
		{Config: clusterConfig("demo", 3, `sst_method = "xtrabackup-v2"`),
			ExpectError: regexp.MustCompile(`(?s)Unsupported SST Method.*sst_method`)},
		{Config: clusterConfig("demo", 3, `key_pair = "mine"`),
			ExpectError: regexp.MustCompile(`(?s)Missing Private Key.*ssh\.private_key`)},
		{Config: clusterConfig("demo", 3, `allowed_cidrs = ["10.0.0.0/8", "not-a-cidr"]`),
			ExpectError: regexp.MustCompile(`(?s)Invalid CIDR.*"not-a-cidr" is not a CIDR`)},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
}

func TestClusterResourceUnsupportedDatastore(t *testing.T) {
	clearOSEnv(t)
	cfg := `
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}
resource "pxc_cluster" "test" {
  name = "demo"
  datastore = {
    type    = "percona"
    version = "10.11"
  }
  flavor  = "m1.small"
  image   = "img"
  network = "net"
  volume  = { size = 1 }
}
`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg, PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)Unsupported Datastore.*datastore percona 10.11`),
		}},
	})
}

// Flavor, image and network are checked at plan time, so with an
// unreachable cloud the plan fails on that check, saying why.
func TestClusterResourceReferencesNeedTheCloudAtPlanTime(t *testing.T) {
	clearOSEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: clusterConfig("demo", 4, ""), PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)could not\s+authenticate`),
		}},
	})
}

func TestEvenNodeCountWarnsAboutSplitBrain(t *testing.T) {
	for count, warn := range map[int64]bool{3: false, 4: true, 5: false, 6: true} {
		m := clusterModel{NodeCount: wholeNumberValue(count), AllowedCIDRs: types.ListNull(types.StringType)}
		var diags diag.Diagnostics
		validateClusterConfig(context.Background(), &m, &diags)
		got := false
		for _, d := range diags.Warnings() {
			if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(path.Root("node_count")) && d.Summary() == "Even Node Count" {
				got = true
			}
		}
		if got != warn || diags.HasError() {
			t.Errorf("node_count %d: warning %v (want %v), diags %v", count, got, warn, diags)
		}
	}
}

// Two data nodes plan, with a warning at node_count that names the
// arbitrator as the way to keep quorum; three do not warn.
func TestTwoDataNodesWarnAboutQuorum(t *testing.T) {
	for count, warn := range map[int64]bool{2: true, 3: false} {
		m := clusterModel{NodeCount: wholeNumberValue(count), AllowedCIDRs: types.ListNull(types.StringType)}
		var diags diag.Diagnostics
		validateClusterConfig(context.Background(), &m, &diags)
		got := false
		for _, d := range diags.Warnings() {
			if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(path.Root("node_count")) &&
				strings.Contains(d.Detail(), "loses quorum") && strings.Contains(d.Detail(), `role = "arbitrator"`) {
				got = true
			}
		}
		if got != warn || diags.HasError() {
			t.Errorf("node_count %d: warning %v (want %v), diags %v", count, got, warn, diags)
		}
	}
}

// Issue 10, defect 12: a create that runs out of time names timeouts.create
// and its value.
func TestCreateTimeoutNamesTheTimeoutsAttribute(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	cause := &cluster.PhaseError{Phase: "build", Node: "demo-2", Err: fmt.Errorf("wait for server: %w", ctx.Err())}
	diags := createFailed("demo", nil, explainDeadline(ctx, "timeouts.create", 90*time.Minute, cause))
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", diags)
	}
	detail := diags[0].Detail()
	for _, want := range []string{"timeouts.create (1h30m0s)", "phase Build on node demo-2"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail does not mention %q: %s", want, detail)
		}
	}
	// Another error is left as it is.
	other := errors.New("quota exceeded")
	if got := explainDeadline(context.Background(), "timeouts.create", time.Minute, other); got != other {
		t.Errorf("explainDeadline changed an unrelated error: %v", got)
	}
}
