package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// lbPoolChanges says, for every configured attribute of pxc_lb_pool, what
// changing it does to a running load balancer. Besides these rows, a load
// balancer Octavia put in ERROR is replaced, and members follow the
// cluster's nodes in place.
var lbPoolChanges = changes{
	"cluster_id": {kind: changeReplace},
	// The default (the nodes' subnet) may settle without a replacement.
	"vip_subnet_id": {kind: changeReplace, ifConfigured: true},
	"port":          {kind: changeReplace},
	"mode":          {kind: changeReplace},
	"health_check":  {kind: changeReplace},
	// An id and a name of the same network are no change.
	"floating_ip_network": {kind: changeReplace, byModifyPlan: true},
	"lb_method":           {kind: changeInPlace},
	"timeout_client_data": {kind: changeInPlace},
	"timeout_member_data": {kind: changeInPlace},
	"member_source_cidrs": {kind: changeInPlace},
	"timeouts":            {kind: changeInPlace},
}

// ModifyPlan makes members follow the cluster, replaces a load balancer
// that Octavia put in ERROR, and decides the rows of lbPoolChanges that
// need the cloud.
func (r *lbPoolResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return
	}
	var state, plan lbPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.ProvisioningStatus.ValueString() == "ERROR" {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("provisioning_status"), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("provisioning_status"))
		return
	}
	if r.data == nil { // provider not configured yet: decide without the cloud
		if !plan.FloatingIPNetwork.Equal(state.FloatingIPNetwork) {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("floating_ip_network"))
		}
		return
	}
	mgr := clusterManager(r.data, "plan load balancer "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	if !plan.FloatingIPNetwork.Equal(state.FloatingIPNetwork) && !sameNetwork(ctx, mgr, plan.FloatingIPNetwork, state.FloatingIPNetwork) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("floating_ip_network"))
		return
	}
	if plan.ClusterID.IsUnknown() {
		return
	}
	c, err := mgr.ReadShared(ctx, plan.ClusterID.ValueString())
	if err != nil {
		return // Read of the cluster reports problems; the pool plan stays as is.
	}
	var members []lbMemberModel
	resp.Diagnostics.Append(state.Members.ElementsAs(ctx, &members, false)...)
	if !sameMembers(members, c) && !liveMembersFollow(ctx, mgr, state.ID.ValueString(), c) {
		tflog.Info(ctx, "pool members will follow the cluster's nodes in one batch", map[string]any{"cluster_id": c.ID, "ips": c.IPs()})
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("members"), types.ListUnknown(types.ObjectType{AttrTypes: lbMemberAttrTypes}))...)
	} else {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("members"), state.Members)...)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("provisioning_status"), state.ProvisioningStatus)...)
}

// sameNetwork reports whether two known, non-null network references (ids
// or names) name the same network, e.g. after an import recorded the name
// and the configuration gives the id.
func sameNetwork(ctx context.Context, mgr *cluster.Manager, a, b types.String) bool {
	if a.IsNull() || a.IsUnknown() || b.IsNull() || b.IsUnknown() {
		return false
	}
	na, errA := mgr.ResolveNetworkID(ctx, a.ValueString())
	nb, errB := mgr.ResolveNetworkID(ctx, b.ValueString())
	return errA == nil && errB == nil && na == nb
}

// liveMembersFollow reports whether the load balancer's members already are
// the cluster's nodes: pxc_cluster changes them itself when nodes join or
// leave, so until the next refresh the recorded ones are only out of date.
func liveMembersFollow(ctx context.Context, mgr *cluster.Manager, lbID string, c *cluster.Cluster) bool {
	p, err := mgr.RefreshPool(ctx, cluster.KnownPool{LoadBalancerID: lbID})
	if err != nil {
		return false
	}
	live := make([]lbMemberModel, 0, len(p.Members))
	for _, m := range p.Members {
		live = append(live, lbMemberModel{NodeName: types.StringValue(m.NodeName), Address: types.StringValue(m.Address)})
	}
	return sameMembers(live, c)
}

// sameMembers reports whether the recorded members are the cluster's nodes.
func sameMembers(members []lbMemberModel, c *cluster.Cluster) bool {
	want := map[string]string{}
	for _, n := range c.Nodes {
		if n.Kind != cluster.KindArbitrator { // no SQL, no member
			want[n.Name] = n.IP
		}
	}
	if len(members) != len(want) {
		return false
	}
	for _, m := range members {
		if want[m.NodeName.ValueString()] != m.Address.ValueString() {
			return false
		}
	}
	return true
}
