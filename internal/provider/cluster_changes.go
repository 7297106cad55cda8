package provider

import (
	"context"
	"errors"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// rollingRestartNotSupported is why a setting every node reads at start is
// refused for now; rolling changes flip these rows to changeRolling.
const rollingRestartNotSupported = "needs a rolling restart of every node, which is not supported yet"

// clusterChanges says, for every configured attribute of pxc_cluster, what
// changing it on a running cluster does. Computed-only attributes have no row.
var clusterChanges = changes{
	"name":               {kind: changeReplace},
	"datastore":          {kind: changeReplace},
	"flavor":             {kind: changeReplace},
	"image":              {kind: changeReplace},
	"network":            {kind: changeReplace},
	"volume":             {kind: changeReplace},
	"availability_zones": {kind: changeReplace},
	"anti_affinity":      {kind: changeReplace},
	"key_pair":           {kind: changeReplace},
	"node_count":         {kind: changeInPlace}, // nodes join or leave one at a time (cluster.Resize)
	"sst_method":         {kind: changeRefused, reason: rollingRestartNotSupported},
	// failure_detection_timeout is Galera's evs settings, read at start.
	"failure_detection_timeout": {kind: changeRefused, reason: rollingRestartNotSupported},
	// Parameters are not in the cloud: an imported cluster adopts the configured ones.
	"parameters": {kind: changeRefused, reason: rollingRestartNotSupported},
	// A password can be adopted after import (state has none) but not changed.
	"root_password": {kind: changeRefused, reason: rollingRestartNotSupported},
	// The security group rule changes; nothing on the servers restarts.
	"allowed_cidrs": {kind: changeInPlace},
	// How the provider reaches the servers, not what they run; its wait
	// bounds (host_key_timeout, connect_timeout) are read only while a
	// server is being built.
	"ssh": {kind: changeInPlace},
	// Only read while a node is being built.
	"install_packages": {kind: changeInPlace},
	"timeouts":         {kind: changeInPlace},
}

// ModifyPlan fills defaults that depend on other attributes, checks cloud
// references at plan time, and refuses what clusterChanges refuses.
func (r *clusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.SSTMethod.IsUnknown() && plan.Datastore != nil && !plan.Datastore.Type.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("sst_method"),
			types.StringValue(cluster.DefaultSSTMethod(plan.Datastore.Type.ValueString())))...)
	}
	if req.State.Raw.IsNull() {
		r.checkReferences(ctx, &plan, &resp.Diagnostics)
		return
	}
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	names := make([]string, 0, len(clusterChanges))
	for name := range clusterChanges {
		names = append(names, name)
	}
	sort.Strings(names) // diagnostics in a stable order
	for _, name := range names {
		row := clusterChanges[name]
		if row.kind != changeRefused {
			continue
		}
		var planned, recorded attr.Value
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(name), &planned)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root(name), &recorded)...)
		if planned == nil || recorded == nil || !refusedChange(row, planned, recorded) {
			continue
		}
		resp.Diagnostics.Append(changeRefusedDiagnostic(name, row.reason))
	}
	planResize(ctx, &state, &plan, &resp.Diagnostics)
}

// checkReferences resolves flavor, image, network and key_pair so a typo
// fails the plan, not the apply. It needs the cloud, so it runs only when
// configured, and only on known values.
func (r *clusterResource) checkReferences(ctx context.Context, plan *clusterModel, diags *diag.Diagnostics) {
	if r.data == nil {
		return
	}
	const action = "check flavor, image, network and key_pair"
	report := func(err error) {
		var re *cluster.ReferenceError
		if errors.As(err, &re) {
			diags.Append(unknownReferenceDiagnostic(re))
			return
		}
		diags.Append(openStackErrorDiagnostic(action, err))
	}
	var mgr *cluster.Manager
	if !plan.Flavor.IsUnknown() && !plan.Image.IsUnknown() && !plan.Network.IsUnknown() {
		if mgr = clusterManager(r.data, action, diags); mgr == nil {
			return
		}
		_, errs := mgr.Resolve(ctx, plan.Flavor.ValueString(), plan.Image.ValueString(), plan.Network.ValueString())
		for _, err := range errs {
			report(err)
		}
		if len(errs) > 0 {
			return // the cloud answered for those already
		}
	}
	if plan.KeyPair.IsNull() || plan.KeyPair.IsUnknown() {
		return
	}
	if mgr == nil {
		if mgr = clusterManager(r.data, action, diags); mgr == nil {
			return
		}
	}
	if err := mgr.ResolveKeyPair(ctx, plan.KeyPair.ValueString()); err != nil {
		report(err)
	}
}
