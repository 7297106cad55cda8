package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestPlannedRootPassword(t *testing.T) {
	model := func(pw types.String, version types.Int64) *clusterModel {
		return &clusterModel{RootPassword: pw, RootPasswordVersion: version}
	}
	s, null, v1, v2 := types.StringValue, types.StringNull(), types.Int64Value(1), types.Int64Value(2)
	for _, tc := range []struct {
		name        string
		plan, state *clusterModel
		wo          string
		woSet       bool
		want        rootPasswordChange
	}{
		{"unchanged", model(s("old-secret"), types.Int64Null()), model(s("old-secret"), types.Int64Null()), "", false,
			rootPasswordChange{from: "old-secret", to: "old-secret"}},
		{"root_password changed", model(s("new-secret"), types.Int64Null()), model(s("old-secret"), types.Int64Null()), "", false,
			rootPasswordChange{from: "old-secret", to: "new-secret", rotate: true}},
		{"imported: the configured password is adopted", model(s("conf-secret"), types.Int64Null()), model(null, types.Int64Null()), "", false,
			rootPasswordChange{from: "conf-secret", to: "conf-secret"}},
		{"write-only, same version", model(null, v1), model(null, v1), "wo-secret", true,
			rootPasswordChange{from: "wo-secret", to: "wo-secret"}},
		{"write-only, version bumped: the current one is read from the nodes", model(null, v2), model(null, v1), "wo-new-secret", true,
			rootPasswordChange{from: "", to: "wo-new-secret", rotate: true}},
		{"root_password moves to write-only with a new value", model(null, v1), model(s("old-secret"), types.Int64Null()), "wo-secret", true,
			rootPasswordChange{from: "old-secret", to: "wo-secret", rotate: true}},
		{"root_password moves to write-only unchanged", model(null, v1), model(s("same-secret"), types.Int64Null()), "same-secret", true,
			rootPasswordChange{from: "same-secret", to: "same-secret"}},
		{"imported with write-only: adopted", model(null, v1), model(null, types.Int64Null()), "wo-secret", true,
			rootPasswordChange{from: "wo-secret", to: "wo-secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := plannedRootPassword(tc.plan, tc.state, tc.wo, tc.woSet); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The plan says a settings change is applied online (the provider is not
// configured here, so the servers are not asked).
func TestModifyPlanSaysSettingsApplyOnline(t *testing.T) {
	base := map[string]any{"name": "demo", "node_count": int64(3), "sst_method": "rsync", "failure_detection_timeout": int64(5), "root_password": "pw"}
	plan := map[string]any{}
	for k, v := range base {
		plan[k] = v
	}
	plan["failure_detection_timeout"] = int64(8)
	diags := clusterPlanFor(t, base, plan)
	if diags.HasError() || diags.WarningsCount() != 1 || diags.Warnings()[0].Summary() != "Settings Applied Online" {
		t.Fatalf("diagnostics %v", diags)
	}
	if d := diags.Warnings()[0].Detail(); d != "failure_detection_timeout will be applied online on 0 nodes (SET GLOBAL and the option file, one node at a time): no node restarts." {
		t.Errorf("detail %q", d)
	}
	// An imported cluster (no password in state) adopts the settings.
	imported := map[string]any{}
	for k, v := range base {
		imported[k] = v
	}
	imported["root_password"] = types.StringNull()
	if diags := clusterPlanFor(t, imported, plan); diags.WarningsCount() != 0 || diags.HasError() {
		t.Errorf("imported: %v", diags)
	}
}

func TestRollingRestartDiagnosticWording(t *testing.T) {
	d := rollingRestartDiagnostic(3, []string{"innodb_log_file_size"})
	want := "rolling restart of 3 nodes: innodb_log_file_size is not dynamic (the servers report it read-only)."
	if d.Summary() != "Rolling Restart Planned" || d.Severity() != diag.SeverityWarning || !strings.HasPrefix(d.Detail(), want) {
		t.Errorf("%s: %s", d.Summary(), d.Detail())
	}
}

// root_password_wo wins: the plan keeps no root_password, so state never
// gets one.
func TestModifyPlanDropsRootPasswordForWriteOnly(t *testing.T) {
	ctx := context.Background()
	s := clusterResourceSchema(ctx)
	raw := func(values map[string]any) tftypes.Value {
		st := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
		for name, v := range values {
			if d := st.SetAttribute(ctx, path.Root(name), v); d.HasError() {
				t.Fatalf("set %s: %v", name, d)
			}
		}
		return st.Raw
	}
	values := map[string]any{"name": "demo", "root_password": types.StringUnknown(), "root_password_wo": "wo-secret-1", "root_password_wo_version": int64(1)}
	req := resource.ModifyPlanRequest{
		Config: tfsdk.Config{Schema: s, Raw: raw(values)},
		Plan:   tfsdk.Plan{Schema: s, Raw: raw(values)},
		State:  tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)},
	}
	resp := &resource.ModifyPlanResponse{Plan: req.Plan}
	(&clusterResource{}).ModifyPlan(ctx, req, resp)
	var pw types.String
	resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, path.Root("root_password"), &pw)...)
	if resp.Diagnostics.HasError() || !pw.IsNull() {
		t.Fatalf("root_password planned %v (%v), want null", pw, resp.Diagnostics)
	}
}
