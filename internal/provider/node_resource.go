package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var (
	_ resource.Resource                = (*nodeResource)(nil)
	_ resource.ResourceWithConfigure   = (*nodeResource)(nil)
	_ resource.ResourceWithImportState = (*nodeResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*nodeResource)(nil)
)

// NewNodeResource is the pxc_node resource.
func NewNodeResource() resource.Resource { return &nodeResource{} }

type nodeResource struct {
	resourceBase
}

func (r *nodeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node"
}

func (r *nodeResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = nodeResourceSchema(ctx)
}

// readMemberCluster reads the cluster of the member, with live wsrep state
// when the access carries a key.
func readMemberCluster(ctx context.Context, mgr *cluster.Manager, m *nodeResourceModel, hostKeys map[string]string) (*cluster.Cluster, cluster.Spec, error) {
	access, d := m.access(ctx)
	if d.HasError() {
		return nil, access, errors.New("parameters: not a map of strings")
	}
	c, err := mgr.Read(ctx, m.ClusterID.ValueString(), &access, hostKeys)
	if err != nil {
		return nil, access, err
	}
	return c, cluster.ClusterSpecFor(c, access), nil
}

func (r *nodeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan nodeResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = maskSecrets(ctx, plan.RootPassword.ValueString(), plan.SSHPrivateKey.ValueString())
	clusterID := plan.ClusterID.ValueString()
	mgr := clusterManager(r.data, "add a node to cluster "+clusterID, &resp.Diagnostics)
	if mgr == nil {
		return
	}
	c, spec, err := readMemberCluster(ctx, mgr, &plan, nil)
	if err != nil {
		resp.Diagnostics.Append(readClusterFailed("adding a node to cluster "+clusterID, err))
		return
	}
	n, err := mgr.CreateNode(ctx, c, plan.nodeSpec(), spec)
	if n != nil {
		plan.setObserved(c, *n)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		resp.Diagnostics.Append(saveHostKeys(ctx, resp.Private, c.HostKeys)...)
	}
	if err != nil {
		resp.Diagnostics.Append(createNodeFailed(clusterID, n, explainDeadline(ctx, "timeouts.create", timeout, err)))
	}
}

func (r *nodeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state nodeResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	ctx = maskSecrets(ctx, state.RootPassword.ValueString(), state.SSHPrivateKey.ValueString())
	hostKeys, d := loadHostKeys(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	mgr := clusterManager(r.data, "read node "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	imported := state.ClusterID.IsNull()
	if imported {
		info, err := mgr.LookupNode(ctx, state.ID.ValueString())
		if err != nil {
			resp.Diagnostics.Append(importNodeFailed(state.ID.ValueString(), err))
			return
		}
		state.ClusterID = types.StringValue(info.ClusterID)
		state.Flavor = types.StringValue(info.Flavor)
	}
	c, _, err := readMemberCluster(ctx, mgr, &state, hostKeys)
	if errors.Is(err, cluster.ErrNotFound) {
		tflog.Warn(ctx, "the node's cluster is gone from the cloud; removing the node from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readClusterFailed(fmt.Sprintf("reading node %s of cluster %s", state.ID.ValueString(), state.ClusterID.ValueString()), err))
		return
	}
	n, ok := memberOnServer(c, state.ServerID.ValueString(), state.ID.ValueString())
	if !ok {
		tflog.Warn(ctx, "the node's server is gone from the cloud; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if imported && state.Flavor.ValueString() == c.Requested.Flavor {
		state.Flavor = types.StringNull() // the cluster's flavor: a configuration that omits it
	}
	state.setObserved(c, n)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// memberOnServer finds the member on the recorded server (or, on import,
// the id).
func memberOnServer(c *cluster.Cluster, serverID, id string) (cluster.Node, bool) {
	if serverID == "" {
		serverID = id
	}
	for _, n := range c.Nodes {
		if n.ServerID == serverID {
			return n, true
		}
	}
	return cluster.Node{}, false
}

// Update changes only how the provider reaches the cluster: everything
// about the member itself replaces it (nodeChanges).
func (r *nodeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state nodeResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID, plan.ServerID, plan.IP, plan.VolumeID = state.ID, state.ServerID, state.IP, state.VolumeID
	plan.WsrepLocalState, plan.WsrepClusterStatus = state.WsrepLocalState, state.WsrepClusterStatus
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *nodeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state nodeResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(d...)
	hostKeys, d := loadHostKeys(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = maskSecrets(ctx, state.RootPassword.ValueString(), state.SSHPrivateKey.ValueString())
	mgr := clusterManager(r.data, "remove node "+state.Name.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	c, spec, err := readMemberCluster(ctx, mgr, &state, hostKeys)
	if errors.Is(err, cluster.ErrNotFound) {
		return // the cluster and its members are gone already
	}
	if err == nil {
		n, ok := memberOnServer(c, state.ServerID.ValueString(), state.ID.ValueString())
		if !ok {
			return // gone already
		}
		err = mgr.DeleteNode(ctx, c, spec, n.Name)
	}
	if err != nil {
		resp.Diagnostics.Append(deleteNodeFailed(state.Name.ValueString(), state.ClusterID.ValueString(), explainDeadline(ctx, "timeouts.delete", timeout, err)))
	}
}

// ImportState takes the server id; Read finds the cluster from the
// server's metadata. root_password and ssh_private_key come from the
// configuration at the next apply.
func (r *nodeResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !uuidRegexp.MatchString(req.ID) {
		resp.Diagnostics.Append(unexpectedImportIDDiagnostic("pxc_node", "its server id (a UUID)", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("server_id"), req.ID)...)
}
