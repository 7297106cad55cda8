package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// Plan-time checks of issue 10, run through real terraform against a
// provider that points nowhere: an error here proves the check runs before
// any cloud call, and a passing plan proves no check wrongly needs a value.

// unknownsConfig feeds values that are unknown until apply (a terraform_data
// output) into every list and map pxc checks element by element. The flavor
// is unknown too, so the plan makes no cloud call.
const unknownsConfig = `
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}

resource "terraform_data" "later" {
  input = "10.1.0.0/16"
}

resource "pxc_cluster" "test" {
  name = "demo"
  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  flavor  = "m1.small${substr(terraform_data.later.output, 0, 0)}"
  image   = "debian-12-mariadb-galera"
  network = "private"
  volume  = { size = 1 }
  allowed_cidrs = ["192.0.2.0/24", terraform_data.later.output]
  parameters = {
    max_connections         = "500"
    innodb_buffer_pool_size = terraform_data.later.output
  }
  ssh = {
    source_cidrs = [terraform_data.later.output]
  }
}

resource "pxc_lb_pool" "test" {
  cluster_id          = pxc_cluster.test.id
  member_source_cidrs = [terraform_data.later.output, "192.0.2.0/24"]
}
`

// Defect 3: module authors write [var.cidr]; validate and plan pass.
func TestPlanAcceptsUnknownElements(t *testing.T) {
	clearOSEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: unknownsConfig, PlanOnly: true, ExpectNonEmptyPlan: true},
			// Unknown elements are skipped, known ones still checked.
			{Config: strings.Replace(unknownsConfig, `"192.0.2.0/24", terraform_data`, `"not-a-cidr", terraform_data`, 1), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Invalid CIDR.*"not-a-cidr" is not a CIDR`)},
			{Config: strings.Replace(unknownsConfig, `max_connections         = "500"`, `sync_binlog = "0"`, 1), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Parameters.*parameters\["sync_binlog"\]`)},
			// A managed key with an unknown value is refused by its key.
			{Config: strings.Replace(unknownsConfig, `innodb_buffer_pool_size = terraform_data`, `innodb_flush_log_at_trx_commit = terraform_data`, 1), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)parameters\["innodb_flush_log_at_trx_commit"\]`)},
		},
	})
}

// Defect 3 through `terraform validate`, where every variable is unknown:
// the provider gets exactly the ValidateResourceConfig call terraform makes.
func TestValidateAcceptsUnknownElements(t *testing.T) {
	ctx := context.Background()
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	list := func(vs ...tftypes.Value) tftypes.Value {
		return tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, vs)
	}
	cases := []struct {
		typeName string
		set      map[string]tftypes.Value
		want     string // "" when validation must pass
	}{
		{"pxc_cluster", map[string]tftypes.Value{
			"allowed_cidrs": list(str("192.0.2.0/24"), unknown),
			"parameters": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String},
				map[string]tftypes.Value{"innodb_buffer_pool_size": unknown, "max_connections": str("500")}),
		}, ""},
		{"pxc_cluster", map[string]tftypes.Value{"allowed_cidrs": list(unknown, str("bad"))}, "allowed_cidrs[1]"},
		{"pxc_cluster", map[string]tftypes.Value{"parameters": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String},
			map[string]tftypes.Value{"sync-binlog": unknown})}, `parameters["sync-binlog"]`},
		{"pxc_lb_pool", map[string]tftypes.Value{"member_source_cidrs": list(unknown)}, ""},
		{"pxc_lb_pool", map[string]tftypes.Value{"member_source_cidrs": list(unknown, str("fd00::/8"))}, "member_source_cidrs[1]"},
	}
	server := providerserver.NewProtocol6(New("test")())()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		objType := schemas.ResourceSchemas[tc.typeName].ValueType().(tftypes.Object)
		attrs := map[string]tftypes.Value{}
		for name, typ := range objType.AttributeTypes {
			attrs[name] = tftypes.NewValue(typ, nil)
		}
		if tc.typeName == "pxc_lb_pool" {
			attrs["cluster_id"] = str("6c1f0a4e-3b7e-4a53-9a51-1c2d3e4f5a6b")
		}
		if sshType, ok := objType.AttributeTypes["ssh"].(tftypes.Object); ok {
			attrs["datastore"] = tftypes.NewValue(objType.AttributeTypes["datastore"], map[string]tftypes.Value{"type": str("mariadb"), "version": str("10.11")})
			attrs["volume"] = tftypes.NewValue(objType.AttributeTypes["volume"], map[string]tftypes.Value{
				"size": tftypes.NewValue(tftypes.Number, 1), "type": tftypes.NewValue(tftypes.String, nil)})
			for _, name := range []string{"name", "flavor", "image", "network"} {
				attrs[name] = str("demo")
			}
			sshAttrs := map[string]tftypes.Value{}
			for name, typ := range sshType.AttributeTypes {
				sshAttrs[name] = tftypes.NewValue(typ, nil)
			}
			sshAttrs["source_cidrs"] = list(unknown)
			attrs["ssh"] = tftypes.NewValue(sshType, sshAttrs)
		}
		for k, v := range tc.set {
			attrs[k] = v
		}
		cfg, err := tfprotov6.NewDynamicValue(objType, tftypes.NewValue(objType, attrs))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: tc.typeName, Config: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range resp.Diagnostics {
			got = append(got, fmt.Sprintf("%s: %s: %s", d.Severity, d.Summary, d.Detail))
		}
		all := strings.Join(got, "\n")
		switch {
		case tc.want == "" && len(resp.Diagnostics) > 0:
			t.Errorf("%s %v: validation failed:\n%s", tc.typeName, tc.set, all)
		case tc.want != "" && !strings.Contains(all, tc.want):
			t.Errorf("%s %v: want an error at %s, got:\n%s", tc.typeName, tc.set, tc.want, all)
		}
		if strings.Contains(all, "Value Conversion Error") {
			t.Errorf("%s: %s", tc.typeName, all)
		}
	}
}

// managedKeyVariants are spellings the server reads as key: the special
// prefixes it strips, '-' for '_', upper case.
func managedKeyVariants(key string) []string {
	dashed := strings.ReplaceAll(key, "_", "-")
	return []string{
		"loose-" + dashed, "loose_" + key, "skip-" + dashed, "skip_" + key, "disable-" + dashed,
		"enable-" + dashed, "maximum-" + dashed, "loose-skip-" + dashed, strings.ToUpper(key),
	}
}

// Defect 4: the abbreviated-name attack and every loose-/skip- variant of
// the managed keys are refused at plan time, each at parameters["<key>"].
func TestPlanRefusesManagedParametersInEverySpelling(t *testing.T) {
	clearOSEnv(t)
	steps := []resource.TestStep{{
		Config:      clusterConfig("demo", 3, `parameters = { innodb_flush_log_at_trx_comm = "0" }`),
		ExpectError: regexp.MustCompile(`(?s)Invalid Parameters.*parameters\["innodb_flush_log_at_trx_comm"\].*innodb_flush_log_at_trx_commit`),
	}}
	for _, flavour := range []string{"mariadb", "percona"} {
		var keys []string
		for _, m := range guest.ManagedParameters {
			keys = append(keys, managedKeyVariants(m)...)
		}
		sort.Strings(keys)
		var lines, want []string
		for _, k := range keys {
			lines = append(lines, fmt.Sprintf("    %q = \"1\"", k))
			want = append(want, regexp.QuoteMeta(fmt.Sprintf("parameters[%q]", k)))
		}
		cfg := clusterConfig("demo", 3, "parameters = {\n"+strings.Join(lines, "\n")+"\n  }")
		if flavour == "percona" {
			cfg = strings.Replace(strings.Replace(cfg, `"mariadb"`, `"percona"`, 1), `"10.11"`, `"8.0"`, 1)
		}
		// Terraform prints the diagnostics in source order, which is key order here.
		steps = append(steps, resource.TestStep{Config: cfg, ExpectError: regexp.MustCompile(`(?s)` + strings.Join(want, ".*"))})
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// Defects 5, 7 and 8: bad values fail the plan, naming the attribute.
func TestPlanRefusesIssue10BadInput(t *testing.T) {
	clearOSEnv(t)
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "no_known_hosts")
	steps := []resource.TestStep{
		{Config: clusterConfig("demo", 16, ""), ExpectError: regexp.MustCompile(`(?s)node_count.*at most 15`)},
		{Config: strings.Replace(clusterConfig("demo", 3, ""), "size = 1", "size = 20000", 1),
			ExpectError: regexp.MustCompile(`(?s)volume\.size.*between 1 and 16384`)},
		{Config: clusterConfig("demo", 3, `root_password = "new\nline-password"`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Root Password.*root_password.*newline`)},
		// ':' is fine since the SST account has its own password (wsrep_sst_auth
		// no longer carries root's): the plan goes on to the cloud.
		{Config: clusterConfig("demo", 3, `root_password = "colon:password"`),
			ExpectError: regexp.MustCompile(`(?s)could not\s+authenticate`)},
		{Config: clusterConfig("demo", 3, `allowed_cidrs = ["2001:db8::/32"]`),
			ExpectError: regexp.MustCompile(`(?s)IPv6 CIDR Not Supported.*allowed_cidrs\[0\]`)},
		{Config: clusterConfig("demo", 3, `ssh = { source_cidrs = ["10.0.0.0/8", "::/0"] }`),
			ExpectError: regexp.MustCompile(`(?s)IPv6 CIDR Not Supported.*ssh\.source_cidrs\[1\]`)},
		{Config: clusterConfig("demo", 3, `timeouts = { create = "0s" }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Timeout.*timeouts\.create`)},
		{Config: clusterConfig("demo", 3, `timeouts = { delete = "-5m" }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Timeout.*timeouts\.delete`)},
		{Config: clusterConfig("demo", 3, `key_pair = "mine"`+"\n"+`ssh = { private_key = "not a key" }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Private Key.*ssh\.private_key`)},
		{Config: clusterConfig("demo", 3, `ssh = { bastion = { host = "192.0.2.1", host_key = "ssh-ed25519 garbage" } }`),
			ExpectError: regexp.MustCompile(`(?s)Invalid Host Key.*ssh\.bastion\.host_key`)},
		{Config: clusterConfig("demo", 3, `ssh = { host_key_check = "insecure", bastion = { host = "192.0.2.1", port = 70000 } }`),
			ExpectError: regexp.MustCompile(`(?s)ssh\.bastion\.port.*between 1 and 65535`)},
		{Config: clusterConfig("demo", 3, fmt.Sprintf(`ssh = { host_key_check = "known_hosts", known_hosts_file = %q }`, missing)),
			ExpectError: regexp.MustCompile(`(?s)Unreadable File.*ssh\.known_hosts_file`)},
		// An existing known_hosts file passes validation (the plan then fails on the cloud).
		{Config: clusterConfig("demo", 3, fmt.Sprintf(`ssh = { host_key_check = "known_hosts", known_hosts_file = %q }`, knownHosts)),
			ExpectError: regexp.MustCompile(`(?s)could not\s+authenticate`)},
		{Config: `
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}
resource "pxc_lb_pool" "test" {
  cluster_id = "my-cluster"
}`, ExpectError: regexp.MustCompile(`(?s)cluster_id.*must be a UUID`)},
		{Config: `
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}
resource "pxc_lb_pool" "test" {
  cluster_id = "6c1f0a4e-3b7e-4a53-9a51-1c2d3e4f5a6b"
  timeouts   = { update = "0m" }
}`, ExpectError: regexp.MustCompile(`(?s)Invalid Timeout.*timeouts\.update`)},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// The parameters description lists the wsrep keys the guest library allows.
func TestParametersDescriptionListsTheAllowedWsrepKeys(t *testing.T) {
	desc := clusterResourceSchema(context.Background()).Attributes["parameters"].GetMarkdownDescription()
	for _, w := range guest.AllowedWsrepParameters {
		if !strings.Contains(desc, w.Name) {
			t.Errorf("parameters description does not list %s", w.Name)
		}
	}
}
