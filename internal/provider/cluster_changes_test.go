package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// clusterPlanFor runs ModifyPlan (provider not configured) from a state to a
// plan, each given as attribute values over an otherwise null object.
func clusterPlanFor(t *testing.T, state, plan map[string]any) diag.Diagnostics {
	t.Helper()
	return clusterModifyPlan(t, state, plan).Diagnostics
}

// clusterModifyPlan is clusterPlanFor's whole answer: the plan too.
func clusterModifyPlan(t *testing.T, state, plan map[string]any) *resource.ModifyPlanResponse {
	t.Helper()
	ctx := context.Background()
	s := clusterResourceSchema(ctx)
	build := func(values map[string]any) tftypes.Value {
		st := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
		for name, v := range values {
			if d := st.SetAttribute(ctx, path.Root(name), v); d.HasError() {
				t.Fatalf("set %s: %v", name, d)
			}
		}
		return st.Raw
	}
	req := resource.ModifyPlanRequest{
		Config: tfsdk.Config{Schema: s, Raw: build(plan)},
		Plan:   tfsdk.Plan{Schema: s, Raw: build(plan)},
		State:  tfsdk.State{Schema: s, Raw: build(state)},
	}
	resp := &resource.ModifyPlanResponse{Plan: req.Plan}
	(&clusterResource{}).ModifyPlan(ctx, req, resp)
	return resp
}

func errorsAt(diags diag.Diagnostics) map[string]string {
	out := map[string]string{}
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			out[wp.Path().String()] = d.Summary()
		}
	}
	return out
}

// ModifyPlan refuses a change of every attribute the table refuses, and of
// none that it lets change in place.
func TestClusterModifyPlanFollowsChangesTable(t *testing.T) {
	base := map[string]any{"name": "demo", "node_count": int64(3), "sst_method": "rsync",
		"failure_detection_timeout": int64(5), "root_password": "pw"}
	with := func(k string, v any) map[string]any {
		out := map[string]any{}
		for bk, bv := range base {
			out[bk] = bv
		}
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		name        string
		state, plan map[string]any
		wantErrAt   string
		wantSummary string
	}{
		// Rows flipped to in place by issue 12 (no restart).
		{"sst_method in place", base, with("sst_method", "mariabackup"), "", ""},
		{"failure_detection_timeout in place", base, with("failure_detection_timeout", int64(10)), "", ""},
		{"root_password rotates in place", base, with("root_password", "other"), "", ""},
		{"parameters in place (the servers are asked when configured)", with("parameters", map[string]string{"max_connections": "100"}),
			with("parameters", map[string]string{"max_connections": "200"}), "", ""},
		{"datastore.version", with("datastore", datastoreModel{Type: types.StringValue("mariadb"), Version: types.StringValue("10.6")}),
			with("datastore", datastoreModel{Type: types.StringValue("mariadb"), Version: types.StringValue("10.11")}),
			"datastore.version", "Change Not Supported In Place"},
		{"volume.size shrink", with("volume", volumeModel{Size: types.Int64Value(2), Type: types.StringNull()}),
			with("volume", volumeModel{Size: types.Int64Value(1), Type: types.StringNull()}), "volume.size", "Shrinking Not Supported"},
		{"volume.size grows in place", with("volume", volumeModel{Size: types.Int64Value(1), Type: types.StringNull()}),
			with("volume", volumeModel{Size: types.Int64Value(2), Type: types.StringNull()}), "", ""},
		{"node_count grows in place", base, with("node_count", int64(5)), "", ""},
		{"root_password adopted after import", with("root_password", types.StringNull()), base, "", ""},
		{"allowed_cidrs in place", base, with("allowed_cidrs", []string{"10.0.0.0/8"}), "", ""},
		{"sst_method unknown until apply", base, with("sst_method", types.StringUnknown()), "", ""},
		// Issue 14: tls.mode rolls (cluster_tls_change.go; the plan's
		// warning is TestPlanTLSChangeWarns); an omitted block means
		// required, so writing it out is no change.
		{"tls required written out", base, with("tls", tlsBlock("required")), "", ""},
		{"tls omitted to disabled rolls", base, with("tls", tlsBlock("disabled")), "", ""},
		{"tls required to preferred rolls", with("tls", tlsBlock("required")), with("tls", tlsBlock("preferred")), "", ""},
		{"tls disabled to omitted rolls", with("tls", tlsBlock("disabled")), base, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := errorsAt(clusterPlanFor(t, tc.state, tc.plan))
			if tc.wantErrAt == "" {
				if len(got) != 0 {
					t.Fatalf("want no error, got %v", got)
				}
				return
			}
			if len(got) != 1 || got[tc.wantErrAt] != tc.wantSummary {
				t.Fatalf("want %q at %s, got %v", tc.wantSummary, tc.wantErrAt, got)
			}
		})
	}
}
