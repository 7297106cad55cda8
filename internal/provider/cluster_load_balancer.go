package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// pxc_cluster's load_balancer block: the cluster's own load balancer
// (cluster/load_balancer.go), built beside the servers.

// clusterLoadBalancerModel is pxc_cluster.load_balancer.
type clusterLoadBalancerModel struct {
	Mode       types.String `tfsdk:"mode"`
	ID         types.String `tfsdk:"id"`
	VIPAddress types.String `tfsdk:"vip_address"`
}

func clusterLoadBalancerAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "The cluster's own Octavia load balancer: one address for applications on port 3306, with the Galera-aware health check " +
			"of a `pxc_lb_pool` at its defaults. A create asks Octavia for it right after the nodes' ports and waits for it last, so its build " +
			"(an amphora boot) runs beside the servers' instead of after the whole cluster, as a `pxc_lb_pool` must. Growing, shrinking, repairing " +
			"and rolling the cluster keep its members. Adding or removing the block adds or deletes the load balancer in place; another `mode` " +
			"replaces it (a new `vip_address`). For another port, floating IP, balancing method or timeouts, use a `pxc_lb_pool`.",
		Attributes: map[string]schema.Attribute{
			"mode": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(cluster.ModeSingleWriter),
				Validators:          []validator.String{stringvalidator.OneOf(cluster.ModeSingleWriter, cluster.ModeMultiWriter)},
				MarkdownDescription: "`single_writer` (default) or `multi_writer`, as a `pxc_lb_pool`'s `mode`."},
			"id":          schema.StringAttribute{Computed: true, MarkdownDescription: "The Octavia load balancer id."},
			"vip_address": schema.StringAttribute{Computed: true, MarkdownDescription: "The address applications connect to (port 3306)."},
		},
	}
}

// loadBalancerSpec adds the load_balancer block to a cluster spec.
func (m *clusterModel) loadBalancerSpec(s *cluster.Spec) {
	if m.LoadBalancer != nil {
		s.LoadBalancer = &cluster.PoolSpec{Mode: m.LoadBalancer.Mode.ValueString()}
	}
}

// setLoadBalancer records the cluster's own load balancer as observed.
func (m *clusterModel) setLoadBalancer(lb *cluster.Pool) {
	m.LoadBalancer = nil
	if lb != nil {
		m.LoadBalancer = &clusterLoadBalancerModel{
			Mode: types.StringValue(lb.Mode), ID: types.StringValue(lb.LoadBalancerID), VIPAddress: types.StringValue(lb.VIPAddress),
		}
	}
}

// planLoadBalancer keeps the load balancer's id and address in a plan
// that keeps its mode: only a new one has them unknown.
func planLoadBalancer(ctx context.Context, resp *resource.ModifyPlanResponse, plan, state *clusterModel) {
	p, s := plan.LoadBalancer, state.LoadBalancer
	if p == nil || s == nil || p.Mode.IsUnknown() || !p.Mode.Equal(s.Mode) {
		return
	}
	at := path.Root("load_balancer")
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("id"), s.ID)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, at.AtName("vip_address"), s.VIPAddress)...)
}

// lookForLoadBalancer makes a read look for the cluster's own load
// balancer when the spec has none but the state does (an update whose plan
// removes it) or the state knows nothing yet (an import).
func lookForLoadBalancer(spec *cluster.Spec, state *clusterModel) {
	if spec.LoadBalancer == nil && (state.LoadBalancer != nil || state.Name.IsNull()) {
		spec.LoadBalancer = &cluster.PoolSpec{}
	}
}
