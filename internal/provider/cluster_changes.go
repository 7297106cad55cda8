package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// clusterChanges says, for every configured attribute of pxc_cluster, what
// changing it on a running cluster does. Computed-only attributes have no
// row. The resource page's "Changing a running cluster" table says the same
// (TestClusterChangesDocumented keeps them together).
var clusterChanges = changes{
	"name": {kind: changeReplace},
	"datastore": {nested: changes{
		"type": {kind: changeReplace},
		"version": {kind: changeRefused, reason: "upgrades every node's server to another major version, which is not supported yet: " +
			"keep the version, or build a new cluster with it and move the data (a backup restored into it)"},
	}},
	// A Nova resize (confirmed once the server answers), then a rebuild
	// keeping the data volume: one node at a time, the writer last
	// (cluster.ChangeFlavor, cluster.ChangeImage); nodes already on the
	// new setting are skipped, so a failed roll resumes.
	"flavor":  {kind: changeRolling},
	"image":   {kind: changeRolling},
	"network": {kind: changeReplace},
	"volume": {nested: changes{
		// Cinder extends an attached volume (microversion 3.42) and the
		// guest grows its filesystem online: no restart.
		"size": {kind: changeInPlace, shrinkReason: "to a smaller size is refused: neither Cinder nor XFS shrinks a volume in use; " +
			"keep the size, or replace the cluster (terraform apply -replace) and restore a backup"},
		"type": {kind: changeReplace},
	}},
	"availability_zones": {kind: changeReplace},
	"anti_affinity":      {kind: changeReplace},
	"key_pair":           {kind: changeReplace},
	"node_count":         {kind: changeInPlace}, // nodes join or leave one at a time (cluster.Resize)
	// Every node's option file and SET GLOBAL wsrep_sst_method: the next
	// state transfer uses it, nothing restarts.
	"sst_method": {kind: changeInPlace},
	// evs.suspect_timeout through SET GLOBAL wsrep_provider_options on
	// every node, and in the option file: no restart.
	"failure_detection_timeout": {kind: changeInPlace},
	// Dynamic variables (the server says so) with SET GLOBAL and in the
	// option file, node by node without a restart; a static one by a
	// rolling restart (cluster.RollingRestart). An imported cluster adopts
	// them.
	"parameters": {kind: changeRolling},
	// ALTER USER once (it replicates); then the provider's connections,
	// the SST and clustercheck accounts follow. Adopted after an import.
	"root_password":            {kind: changeInPlace},
	"root_password_wo":         {kind: changeInPlace},
	"root_password_wo_version": {kind: changeInPlace},
	// The security group rule changes; nothing on the servers restarts.
	"allowed_cidrs": {kind: changeInPlace},
	// How the provider reaches the servers, not what they run; its wait
	// bounds (host_key_timeout, connect_timeout) are read only while a
	// server is being built.
	"ssh": {kind: changeInPlace},
	// Only read while a node is being built.
	"install_packages": {kind: changeInPlace},
	"timeouts":         {kind: changeInPlace},
	// Only read while a node is being built.
	"package_repository": {kind: changeInPlace},
	// The nodes' backup job is rewritten; backups already taken stay.
	"backup": {kind: changeInPlace},
	// Read only at create: a running cluster is never overwritten.
	"restore_from": {kind: changeInPlace},
	// Read only by a full-outage recovery.
	"recovery": {kind: changeInPlace},
	// Certificates are issued at create and for every node that joins.
	// On a running cluster (cluster_tls_change.go): turning TLS on or off
	// is two rolling restarts (socket.dynamic accepts both kinds of peer
	// during the first), required <-> preferred one; another CA or
	// certificate settings renew every node's certificate, reloaded
	// without a restart.
	// Added, removed or (another mode) replaced in place: the nodes do
	// not change (cluster_load_balancer.go).
	"load_balancer": {kind: changeInPlace},
	"tls": {nested: changes{
		"mode":                      {kind: changeRolling},
		"ca_cert":                   {kind: changeInPlace},
		"ca_key":                    {kind: changeInPlace},
		"server_cert_validity_days": {kind: changeInPlace},
		"server_names":              {kind: changeInPlace},
	}},
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
	planRootPasswordWO(ctx, req, resp)
	planTLS(ctx, req, resp, &plan)
	if req.State.Raw.IsNull() {
		r.checkReferences(ctx, &plan, &resp.Diagnostics)
		return
	}
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	planRepair(ctx, &plan, &state, resp)
	planLoadBalancer(ctx, resp, &plan, &state)
	for _, name := range clusterChanges.rows() {
		row, _ := clusterChanges.row(name)
		if row.kind != changeRefused && row.shrinkReason == "" {
			continue
		}
		var planned, recorded attr.Value
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, attributePath(name), &planned)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, attributePath(name), &recorded)...)
		if planned == nil || recorded == nil {
			continue
		}
		if shrinks(row, planned, recorded) {
			resp.Diagnostics.Append(changeShrinkRefusedDiagnostic(name, row.shrinkReason))
			continue
		}
		if !refusedChange(row, planned, recorded) {
			continue
		}
		resp.Diagnostics.Append(changeRefusedDiagnostic(name, row.reason))
	}
	planResize(ctx, &state, &plan, &resp.Diagnostics)
	r.planOnlineChanges(ctx, req, &plan, &state, resp)
	r.planRoll(ctx, &plan, &state, &resp.Diagnostics)
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
