package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// healthPlan runs ModifyPlan from a state to a configuration and returns
// the planned health and the diagnostics.
func healthPlan(t *testing.T, state, config map[string]any) (string, diag.Diagnostics) {
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
		Config: tfsdk.Config{Schema: s, Raw: build(config)},
		Plan:   tfsdk.Plan{Schema: s, Raw: build(config)},
		State:  tfsdk.State{Schema: s, Raw: build(state)},
	}
	resp := &resource.ModifyPlanResponse{Plan: req.Plan}
	(&clusterResource{}).ModifyPlan(ctx, req, resp)
	var health types.String
	if d := resp.Plan.GetAttribute(ctx, path.Root("health"), &health); d.HasError() {
		t.Fatal(d)
	}
	return health.ValueString(), resp.Diagnostics
}

func warningsAt(diags diag.Diagnostics, at string) []string {
	var out []string
	for _, d := range diags.Warnings() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().String() == at {
			out = append(out, d.Summary()+": "+d.Detail())
		}
	}
	return out
}

func TestPlanRepairsAnUnhealthyCluster(t *testing.T) {
	base := map[string]any{"name": "ledger", "node_count": int64(3), "sst_method": "rsync", "failure_detection_timeout": int64(5), "root_password": "pw"}
	state := map[string]any{"health": "repair_needed", "health_issues": []string{"ledger-2: mysqld not running -> start, rejoin (IST)", "ledger-1: health responder down -> restart"}}
	for k, v := range base {
		state[k] = v
	}
	health, diags := healthPlan(t, state, base)
	if health != "healthy" || diags.HasError() {
		t.Fatalf("planned health %q, diags %v", health, diags)
	}
	w := warningsAt(diags, "health")
	if len(w) != 1 || !strings.Contains(w[0], "Cluster Repair Planned") ||
		!strings.Contains(w[0], "ledger-2: mysqld not running -> start, rejoin (IST)\n  ledger-1: health responder down -> restart") {
		t.Fatalf("warnings %q", w)
	}
	// Healthy: nothing to say, health stays as it is (no diff).
	state["health"], state["health_issues"] = "healthy", []string{}
	health, diags = healthPlan(t, state, base)
	if health != "healthy" || len(diags) != 0 {
		t.Fatalf("healthy: planned %q, diags %v", health, diags)
	}
}

// An ambiguous full outage is refused at plan time until the override
// names a node and carries today's date; each refusal names its attribute.
func TestPlanRefusesAmbiguousRecoveryWithoutAcknowledgement(t *testing.T) {
	base := map[string]any{"name": "ledger", "node_count": int64(3), "sst_method": "rsync", "failure_detection_timeout": int64(5), "root_password": "pw"}
	state := map[string]any{"health": "recovery_ambiguous", "health_issues": []string{
		"full outage, no primary component: no node can be chosen to bootstrap from: cannot choose a bootstrap node before every node is surveyed",
		"ledger-1: uuid u1, seqno 40 (grastate.dat), safe_to_bootstrap 0 -> rejoins",
		"ledger-2: not surveyed (ssh: connection refused)",
	}}
	for k, v := range base {
		state[k] = v
	}
	today := time.Now().UTC().Format(time.DateOnly)
	recovery := func(node, ack string) map[string]any {
		cfg := map[string]any{}
		for k, v := range base {
			cfg[k] = v
		}
		r := map[string]attrValue{"bootstrap_node": types.StringNull(), "data_loss_acknowledged_on": types.StringNull()}
		if node != "" {
			r["bootstrap_node"] = types.StringValue(node)
		}
		if ack != "" {
			r["data_loss_acknowledged_on"] = types.StringValue(ack)
		}
		cfg["recovery"] = recoveryObject(t, r)
		return cfg
	}
	for _, tc := range []struct {
		name   string
		config map[string]any
		errAt  string
	}{
		{"no override", base, "recovery.bootstrap_node"},
		{"node without acknowledgement", recovery("ledger-3", ""), "recovery.data_loss_acknowledged_on"},
		{"stale acknowledgement", recovery("ledger-3", "2020-01-01"), "recovery.data_loss_acknowledged_on"},
		{"not a member", recovery("ledger-9", today), "recovery.bootstrap_node"},
		{"acknowledged today", recovery("ledger-3", today), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := healthPlan(t, state, tc.config)
			got := errorsAt(diags)
			if tc.errAt == "" {
				if len(got) != 0 {
					t.Fatalf("want no error, got %v", got)
				}
			} else if len(got) != 1 || got[tc.errAt] != "Full-Outage Recovery Refused" {
				t.Fatalf("want the refusal at %s, got %v", tc.errAt, got)
			}
			if w := warningsAt(diags, "health"); len(w) != 1 || !strings.Contains(w[0], "ledger-2: not surveyed") {
				t.Fatalf("the survey is not in the warning: %q", w)
			}
		})
	}
}

type attrValue = attr.Value

func recoveryObject(t *testing.T, values map[string]attr.Value) types.Object {
	t.Helper()
	o, d := types.ObjectValue(map[string]attr.Type{"bootstrap_node": types.StringType, "data_loss_acknowledged_on": types.StringType}, values)
	if d.HasError() {
		t.Fatal(d)
	}
	return o
}

// The planned repair leaves what the servers will report unknown, so the
// apply may return the repaired values.
func TestPlanRepairLeavesObservedValuesUnknown(t *testing.T) {
	ctx := context.Background()
	s := clusterResourceSchema(ctx)
	base := map[string]any{"name": "ledger", "node_count": int64(3), "sst_method": "rsync", "failure_detection_timeout": int64(5), "root_password": "pw", "status": "DEGRADED", "writer": "ledger-1"}
	state := map[string]any{"health": "repair_needed", "health_issues": []string{"ledger-2: mysqld not running -> start, rejoin (IST)"}}
	for k, v := range base {
		state[k] = v
	}
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
		Config: tfsdk.Config{Schema: s, Raw: build(base)},
		Plan:   tfsdk.Plan{Schema: s, Raw: build(state)},
		State:  tfsdk.State{Schema: s, Raw: build(state)},
	}
	resp := &resource.ModifyPlanResponse{Plan: req.Plan}
	(&clusterResource{}).ModifyPlan(ctx, req, resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	for _, name := range []string{"status", "writer", "nodes", "ips", "cluster_state_uuid"} {
		var v attr.Value
		resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, path.Root(name), &v)...)
		if v == nil || !v.IsUnknown() {
			t.Errorf("%s planned %v, want unknown", name, v)
		}
	}
}
