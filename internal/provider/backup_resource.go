package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var (
	_ resource.Resource               = (*backupResource)(nil)
	_ resource.ResourceWithConfigure  = (*backupResource)(nil)
	_ resource.ResourceWithModifyPlan = (*backupResource)(nil)
)

// backupTimeout bounds taking one backup (it streams the whole datadir).
const backupTimeout = 2 * time.Hour

var errMissingBackupKey = errors.New("the key is required: pass pxc_cluster.<name>.backup, whose key the cluster generated")

// NewBackupResource is the pxc_backup resource.
func NewBackupResource() resource.Resource { return &backupResource{} }

type backupResource struct {
	resourceBase
}

func (r *backupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup"
}

func (r *backupResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = backupResourceSchema()
}

func (r *backupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := plan.store(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	access := plan.access()
	ctx = maskBackupAccess(ctx, access, store)
	ctx, cancel := context.WithTimeout(ctx, backupTimeout)
	defer cancel()
	id := plan.ClusterID.ValueString()
	mgr := clusterManager(r.data, "back up cluster "+id, &resp.Diagnostics)
	if mgr == nil {
		return
	}
	node := ""
	if !plan.Node.IsUnknown() {
		node = plan.Node.ValueString()
	}
	b, err := mgr.TakeBackup(ctx, id, access, store, node)
	if err != nil {
		resp.Diagnostics.Append(backupFailed("back up cluster "+id, err))
		return
	}
	plan.setTaken(b)
	tflog.Info(ctx, "backup taken and verified", map[string]any{"cluster_id": id, "backup_id": b.ID, "node": b.Node, "bytes": b.Bytes, "stored": b.Added})
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *backupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := state.store(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	access := state.access()
	ctx = maskBackupAccess(ctx, access, store)
	ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	id := state.ClusterID.ValueString()
	mgr := clusterManager(r.data, "list the backups of cluster "+id, &resp.Diagnostics)
	if mgr == nil {
		return
	}
	list, err := mgr.ListBackups(ctx, id, access, store)
	if errors.Is(err, cluster.ErrNotFound) {
		// The backup outlives its cluster; with no node to ask, the last
		// known state stands.
		tflog.Warn(ctx, "the backed-up cluster is gone; the backup is not checked", map[string]any{"cluster_id": id})
		return
	}
	if err != nil {
		resp.Diagnostics.Append(backupFailed("list the backups of cluster "+id, err))
		return
	}
	for _, b := range list {
		if b.ID == state.ID.ValueString() {
			if state.Status.ValueString() == "" {
				state.setListed(b)
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
	tflog.Warn(ctx, "the backup is gone from the store; removing it from state", map[string]any{"backup_id": state.ID.ValueString()})
	resp.State.RemoveResource(ctx)
}

// Update changes only how the nodes and the store are reached.
func (r *backupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID, plan.Node, plan.Time, plan.Size, plan.StoredSize = state.ID, state.Node, state.Time, state.Size, state.StoredSize
	plan.SHA256, plan.GTIDPosition, plan.SourceCluster, plan.Status = state.SHA256, state.GTIDPosition, state.SourceCluster, state.Status
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *backupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.RetainOnDestroy.ValueBool() {
		tflog.Info(ctx, "retain_on_destroy: the backup stays in the store", map[string]any{"backup_id": state.ID.ValueString()})
		return
	}
	store := state.store(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	access := state.access()
	ctx = maskBackupAccess(ctx, access, store)
	ctx, cancel := context.WithTimeout(ctx, defaultDeleteTimeout)
	defer cancel()
	id := state.ClusterID.ValueString()
	mgr := clusterManager(r.data, "delete a backup of cluster "+id, &resp.Diagnostics)
	if mgr == nil {
		return
	}
	if err := mgr.DeleteBackup(ctx, id, access, store, state.ID.ValueString()); err != nil {
		resp.Diagnostics.Append(backupFailed(fmt.Sprintf("delete backup %s of cluster %s", state.ID.ValueString(), id), err))
	}
}
