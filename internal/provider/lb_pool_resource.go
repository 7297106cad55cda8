package provider

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var (
	_ resource.Resource                   = (*lbPoolResource)(nil)
	_ resource.ResourceWithConfigure      = (*lbPoolResource)(nil)
	_ resource.ResourceWithImportState    = (*lbPoolResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*lbPoolResource)(nil)
	_ resource.ResourceWithValidateConfig = (*lbPoolResource)(nil)
)

const defaultLBTimeout = 20 * time.Minute

// NewLBPoolResource is the pxc_lb_pool resource.
func NewLBPoolResource() resource.Resource { return &lbPoolResource{} }

type lbPoolResource struct {
	resourceBase
}

func (r *lbPoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lb_pool"
}

func (r *lbPoolResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = lbPoolResourceSchema(ctx)
}

func (r *lbPoolResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m lbPoolModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.Mode.ValueString() == cluster.ModeSingleWriter && m.HealthCheck.ValueString() == cluster.HealthTCP ||
		m.Mode.IsNull() && m.HealthCheck.ValueString() == cluster.HealthTCP {
		resp.Diagnostics.Append(singleWriterNeedsGaleraDiagnostic())
	}
	checkTimeouts(ctx, m.Timeouts, &resp.Diagnostics)
}

func (r *lbPoolResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan lbPoolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultLBTimeout)
	resp.Diagnostics.Append(d...)
	spec := plan.spec(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mgr := clusterManager(r.data, "put a load balancer in front of cluster "+spec.ClusterID, &resp.Diagnostics)
	if mgr == nil {
		return
	}
	p, err := mgr.CreatePool(ctx, spec)
	if p != nil {
		if p.ProvisioningStatus == "" && err != nil {
			p.ProvisioningStatus = "ERROR"
		}
		resp.Diagnostics.Append(plan.setObserved(ctx, p)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
	if err != nil {
		lbID := ""
		if p != nil {
			lbID = p.LoadBalancerID
		}
		resp.Diagnostics.Append(createPoolFailed(spec.ClusterID, lbID, err))
	}
}

func (r *lbPoolResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state lbPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	mgr := clusterManager(r.data, "read load balancer "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	p, err := readPoolState(ctx, mgr, &state)
	if errors.Is(err, cluster.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readPoolFailed(state.ID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(state.setObserved(ctx, p)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *lbPoolResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state lbPoolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultLBTimeout)
	resp.Diagnostics.Append(d...)
	spec := plan.spec(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mgr := clusterManager(r.data, "update load balancer "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	p, err := mgr.ReadPool(ctx, state.ID.ValueString())
	if err == nil {
		err = mgr.UpdatePool(ctx, p, spec)
	}
	if err == nil {
		var c *cluster.Cluster
		if c, err = mgr.Read(ctx, spec.ClusterID, nil, nil); err == nil {
			err = mgr.SyncPoolMembers(ctx, p, c)
		}
	}
	if err == nil {
		p, err = mgr.ReadPool(ctx, state.ID.ValueString())
	}
	if err != nil {
		resp.Diagnostics.Append(updatePoolFailed(state.ID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(plan.setObserved(ctx, p)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *lbPoolResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state lbPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultLBTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mgr := clusterManager(r.data, "delete load balancer "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	// A state without a floating IP needs no look-up for one first; an
	// unfinished create's state (no VIP yet) looks.
	known := cluster.KnownPool{
		LoadBalancerID: state.ID.ValueString(),
		VIPSubnetID:    state.VIPSubnetID.ValueString(),
		WithFloatingIP: state.VIPAddress.ValueString() == "" || state.FloatingIPNetwork.ValueString() != "" || state.FloatingIPAddress.ValueString() != "",
	}
	if err := mgr.DeleteKnownPool(ctx, known, state.ClusterID.ValueString()); err != nil {
		resp.Diagnostics.Append(deletePoolFailed(state.ID.ValueString(), err))
	}
}

func (r *lbPoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !uuidRegexp.MatchString(req.ID) {
		resp.Diagnostics.Append(unexpectedImportIDDiagnostic("pxc_lb_pool", "its load balancer id (a UUID)", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// readPoolState refreshes a pool the state already knows in one request
// (the status tree; the floating IP only when one is configured), and
// reads an imported one in full.
func readPoolState(ctx context.Context, mgr *cluster.Manager, state *lbPoolModel) (*cluster.Pool, error) {
	if state.VIPAddress.ValueString() == "" || state.VIPSubnetID.ValueString() == "" {
		return mgr.ReadPool(ctx, state.ID.ValueString())
	}
	return mgr.RefreshPool(ctx, cluster.KnownPool{
		LoadBalancerID: state.ID.ValueString(), VIPAddress: state.VIPAddress.ValueString(),
		VIPSubnetID:    state.VIPSubnetID.ValueString(),
		WithFloatingIP: state.FloatingIPNetwork.ValueString() != "" || state.FloatingIPAddress.ValueString() != "",
	})
}
