package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func stateNodes(names ...string) []nodeModel {
	var out []nodeModel
	for _, n := range names {
		out = append(out, nodeModel{
			ID: types.StringValue("id-" + n), Name: types.StringValue(n), IP: types.StringValue("10.0.0.1"),
			VolumeID: types.StringValue("vol"), AvailabilityZone: types.StringValue("nova"),
			WsrepLocalState: types.StringValue("Synced"), WsrepClusterSize: types.Int64Value(int64(len(names))), Role: types.StringValue("reader"),
		})
	}
	return out
}

// membershipWarning is the plan's node_count warning, "" when none.
func membershipWarning(diags diag.Diagnostics) string {
	for _, d := range diags.Warnings() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().Equal(path.Root("node_count")) && d.Summary() == "Cluster Membership Changes" {
			return d.Detail()
		}
	}
	return ""
}

func TestPlanNamesTheNodesAResizeAddsAndRemoves(t *testing.T) {
	three := map[string]any{"name": "demo", "node_count": int64(3), "nodes": stateNodes("demo-1", "demo-2", "demo-3")}
	five := map[string]any{"name": "demo", "node_count": int64(5), "nodes": stateNodes("demo-1", "demo-2", "demo-3", "demo-4", "demo-5")}

	grow := clusterPlanFor(t, three, map[string]any{"name": "demo", "node_count": int64(5)})
	if grow.HasError() {
		t.Fatalf("grow refused: %v", grow)
	}
	if w := membershipWarning(grow); !strings.Contains(w, "node_count 3 -> 5: apply adds demo-4, demo-5, one at a time") || strings.Contains(w, "removes") {
		t.Errorf("grow warning: %q", w)
	}

	shrink := clusterPlanFor(t, five, map[string]any{"name": "demo", "node_count": int64(3)})
	if shrink.HasError() {
		t.Fatalf("shrink refused: %v", shrink)
	}
	if w := membershipWarning(shrink); !strings.Contains(w, "removes demo-5, demo-4, in this order") || !strings.Contains(w, "the writer moves") || strings.Contains(w, "adds") {
		t.Errorf("shrink warning: %q", w)
	}

	same := clusterPlanFor(t, three, map[string]any{"name": "demo", "node_count": int64(3)})
	if w := membershipWarning(same); w != "" || same.HasError() {
		t.Errorf("unchanged node_count: warning %q, diags %v", w, same)
	}
}

func TestPlanRefusesAResizeWhileANodeIsMissing(t *testing.T) {
	state := map[string]any{"name": "demo", "node_count": int64(2), "nodes": stateNodes("demo-1", "demo-3")}
	got := clusterPlanFor(t, state, map[string]any{"name": "demo", "node_count": int64(3)})
	if errorsAt(got)["node_count"] != "Changing node_count Is Not Supported" || !strings.Contains(got.Errors()[0].Detail(), "demo-2") {
		t.Fatalf("diags = %v", got)
	}
}

// Below three voters the plan fails at node_count; voters other
// resources add (arbitrators) count.
func TestPlanCountsVotingMembers(t *testing.T) {
	three := map[string]any{"name": "demo", "node_count": int64(3), "nodes": stateNodes("demo-1", "demo-2", "demo-3")}
	two := map[string]any{"name": "demo", "node_count": int64(2)}
	if got := errorsAt(clusterPlanFor(t, three, two)); got["node_count"] != "Too Few Voting Members" {
		t.Fatalf("2 voters: %v", got)
	}
	// The last read found an arbitrator pxc_node: it votes.
	three["arbitrators"] = int64(1)
	if got := errorsAt(clusterPlanFor(t, three, two)); len(got) != 0 {
		t.Fatalf("2 nodes and an arbitrator: %v", got)
	}
}
