package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// backupChanges says what changing each configured attribute of
// pxc_backup does. A backup is immutable: what it is of and where it is
// replaces it; how to reach the nodes and the store changes in place.
var backupChanges = changes{
	"cluster_id": {kind: changeReplace},
	// Only container and s3_endpoint say where the backup is (ModifyPlan).
	"backup":               {kind: changeReplace, byModifyPlan: true},
	"node":                 {kind: changeReplace, ifConfigured: true},
	"root_password":        {kind: changeInPlace},
	"ssh_private_key":      {kind: changeInPlace},
	"ssh_user":             {kind: changeInPlace},
	"ssh_host_key_check":   {kind: changeInPlace},
	"ssh_known_hosts_file": {kind: changeInPlace},
	"retain_on_destroy":    {kind: changeInPlace},
}

// ModifyPlan replaces the backup when its store moves.
func (r *backupResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return
	}
	var plan, state backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || plan.Backup == nil || state.Backup == nil {
		return
	}
	for _, name := range []string{"container", "s3_endpoint"} {
		p, s := plan.Backup.Container, state.Backup.Container
		if name == "s3_endpoint" {
			p, s = plan.Backup.S3Endpoint, state.Backup.S3Endpoint
		}
		if !p.IsUnknown() && !p.Equal(s) {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("backup").AtName(name))
		}
	}
}
