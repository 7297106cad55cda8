package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// extraVoters counts the voting members a cluster has besides its own
// nodes: the arbitrator pxc_node members its last read found, so two data
// nodes and an arbitrator keep quorum.
var extraVoters = func(_ context.Context, state *clusterModel) int64 {
	if state.Arbitrators.IsNull() || state.Arbitrators.IsUnknown() {
		return 0
	}
	return state.Arbitrators.ValueInt64()
}

// planResize checks a changed node_count at plan time: refused below the
// quorum minimum or while members within it are missing (a repair), else
// a warning names exactly the nodes apply adds and removes.
func planResize(ctx context.Context, state, plan *clusterModel, diags *diag.Diagnostics) {
	if plan.NodeCount.IsUnknown() || plan.NodeCount.IsNull() || state.NodeCount.IsNull() {
		return
	}
	have, want := state.NodeCount.ValueInt64(), plan.NodeCount.ValueInt64()
	if have == want {
		return
	}
	if voters := want + extraVoters(ctx, state); voters < cluster.MinNodes {
		diags.Append(tooFewVotersDiagnostic(voters))
		return
	}
	var nodes []nodeModel
	if d := state.Nodes.ElementsAs(ctx, &nodes, false); d.HasError() {
		return
	}
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name.ValueString())
	}
	r := cluster.PlanResize(state.Name.ValueString(), names, int(want))
	switch {
	case len(r.Missing) > 0:
		diags.Append(nodesMissingDiagnostic(have, want, strings.Join(r.Missing, ", ")))
	case len(r.Add)+len(r.Remove) > 0:
		diags.Append(resizeDiagnostic(have, want, r))
	}
}
