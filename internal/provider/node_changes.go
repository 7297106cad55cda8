package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// nodeChanges says, for every configured attribute of pxc_node, what
// changing it does. What the member is (cluster, role, name, flavor, zone)
// is a new member: the old one leaves gracefully and a new one joins. How
// the provider reaches the cluster changes in place.
var nodeChanges = changes{
	"cluster_id":        {kind: changeReplace},
	"role":              {kind: changeReplace},
	"name":              {kind: changeReplace, ifConfigured: true},
	"flavor":            {kind: changeReplace},
	"availability_zone": {kind: changeReplace, ifConfigured: true},
	// Credentials and the cluster's parameters: read at the next change.
	"root_password":      {kind: changeInPlace},
	"ssh_private_key":    {kind: changeInPlace},
	"ssh_user":           {kind: changeInPlace},
	"ssh_host_key_check": {kind: changeInPlace},
	"parameters":         {kind: changeInPlace},
	"install_packages":   {kind: changeInPlace},
	"ca_certificate":     {kind: changeInPlace},
	"ca_key":             {kind: changeInPlace},
	"timeouts":           {kind: changeInPlace},
}

// ModifyPlan keeps the live wsrep state as it is when nothing about the
// member changes, so a plan after an apply is empty.
func (r *nodeResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return
	}
	var state nodeResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var plan nodeResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.ServerID.Equal(state.ServerID) {
		return
	}
	plan.WsrepLocalState = keepKnown(plan.WsrepLocalState, state.WsrepLocalState)
	plan.WsrepClusterStatus = keepKnown(plan.WsrepClusterStatus, state.WsrepClusterStatus)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func keepKnown(planned, recorded types.String) types.String {
	if planned.IsUnknown() {
		return recorded
	}
	return planned
}
