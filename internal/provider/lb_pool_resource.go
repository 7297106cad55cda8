package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

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
	data *ProviderData
}

type lbPoolModel struct {
	ID                 types.String   `tfsdk:"id"`
	ClusterID          types.String   `tfsdk:"cluster_id"`
	VIPSubnetID        types.String   `tfsdk:"vip_subnet_id"`
	Port               types.Int64    `tfsdk:"port"`
	LBMethod           types.String   `tfsdk:"lb_method"`
	Mode               types.String   `tfsdk:"mode"`
	HealthCheck        types.String   `tfsdk:"health_check"`
	TimeoutClientData  types.Int64    `tfsdk:"timeout_client_data"`
	TimeoutMemberData  types.Int64    `tfsdk:"timeout_member_data"`
	MemberSourceCIDRs  types.List     `tfsdk:"member_source_cidrs"`
	FloatingIPNetwork  types.String   `tfsdk:"floating_ip_network"`
	FloatingIPAddress  types.String   `tfsdk:"floating_ip_address"`
	LoadBalancerID     types.String   `tfsdk:"load_balancer_id"`
	ListenerID         types.String   `tfsdk:"listener_id"`
	PoolID             types.String   `tfsdk:"pool_id"`
	MonitorID          types.String   `tfsdk:"monitor_id"`
	VIPAddress         types.String   `tfsdk:"vip_address"`
	ProvisioningStatus types.String   `tfsdk:"provisioning_status"`
	Members            types.List     `tfsdk:"members"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

type lbMemberModel struct {
	NodeName        types.String `tfsdk:"node_name"`
	Address         types.String `tfsdk:"address"`
	MemberID        types.String `tfsdk:"member_id"`
	Backup          types.Bool   `tfsdk:"backup"`
	OperatingStatus types.String `tfsdk:"operating_status"`
}

var lbMemberAttrTypes = map[string]attr.Type{
	"node_name":        types.StringType,
	"address":          types.StringType,
	"member_id":        types.StringType,
	"backup":           types.BoolType,
	"operating_status": types.StringType,
}

func (r *lbPoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lb_pool"
}

func (r *lbPoolResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An Octavia load balancer in front of a `pxc_cluster`: one TCP address for applications, " +
			"with a Galera-aware health check (only Synced, Primary nodes get traffic) and an optional strict single writer.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The load balancer id (also the import id)."},
			"cluster_id": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "The `pxc_cluster` id."},
			"vip_subnet_id": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Subnet of the virtual IP; default: the subnet of the cluster's nodes."},
			"port": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3306),
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
				MarkdownDescription: "TCP port of the listener (default 3306)."},
			"lb_method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("ROUND_ROBIN"),
				Validators:          []validator.String{stringvalidator.OneOf("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP")},
				MarkdownDescription: "`ROUND_ROBIN` (default), `LEAST_CONNECTIONS` or `SOURCE_IP`. Changes in place."},
			"mode": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(cluster.ModeSingleWriter),
				PlanModifiers: replace,
				Validators:    []validator.String{stringvalidator.OneOf(cluster.ModeSingleWriter, cluster.ModeMultiWriter)},
				MarkdownDescription: "`single_writer` (default): every new connection goes to one node, the first fit node in node order, elected by the health check " +
					"itself, so Octavia's `option allbackups` cannot make several writers; connections already open to a former writer are not cut. " +
					"`multi_writer`: new connections spread over every fit node."},
			"health_check": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(cluster.HealthGalera),
				PlanModifiers: replace,
				Validators:    []validator.String{stringvalidator.OneOf(cluster.HealthGalera, cluster.HealthTCP)},
				MarkdownDescription: "`galera` (default): HTTP to the clustercheck responder on port 9200 of each node (200 only when Primary, Synced, ready, not in maintenance); " +
					"`tcp`: a TCP connect, which also passes on a node that is not Primary."},
			"timeout_client_data": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(cluster.DefaultClientTimeoutMs),
				Validators:          []validator.Int64{int64validator.Between(1000, 2073600000)},
				MarkdownDescription: "Listener idle timeout towards clients, ms. Default 8 h, MySQL's wait_timeout, instead of Octavia's 50 s that cuts pooled connections."},
			"timeout_member_data": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(cluster.DefaultMemberTimeoutMs),
				Validators:          []validator.Int64{int64validator.Between(1000, 2073600000)},
				MarkdownDescription: "Listener idle timeout towards the nodes, ms (default 8 h)."},
			"member_source_cidrs": schema.ListAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Where the load balancer connects to the nodes from; the nodes' security group opens 3306 and 9200 to them. Default: the VIP subnet."},
			// Replacement on change is decided in ModifyPlan: an id and a
			// name of the same network are no change.
			"floating_ip_network": schema.StringAttribute{Optional: true,
				MarkdownDescription: "External network (id or name) of a floating IP for the VIP, made once the load balancer is ACTIVE: " +
					"applications outside the cluster's network connect to `floating_ip_address`. Changing it replaces the load balancer."},
			"floating_ip_address": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The VIP's floating IP (null without `floating_ip_network`)."},
			"load_balancer_id":    schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Octavia load balancer id."},
			"listener_id":         schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Listener id."},
			"pool_id":             schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Pool id."},
			"monitor_id":          schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Health monitor id."},
			"vip_address":         schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "The address applications connect to."},
			"provisioning_status": schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia's provisioning status; a load balancer in ERROR is replaced by the next apply."},
			"members": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "One member per cluster node. When the cluster's nodes change, the next apply updates them in one batch.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"node_name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Node name."},
					"address":          schema.StringAttribute{Computed: true, MarkdownDescription: "Node address."},
					"member_id":        schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia member id."},
					"backup":           schema.BoolAttribute{Computed: true, MarkdownDescription: "Octavia backup flag (always false: the health check elects the writer)."},
					"operating_status": schema.StringAttribute{Computed: true, MarkdownDescription: "ONLINE, ERROR (failing its check), OFFLINE or NO_MONITOR."},
				}}},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *lbPoolResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

func (r *lbPoolResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m lbPoolModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.Mode.ValueString() == cluster.ModeSingleWriter && m.HealthCheck.ValueString() == cluster.HealthTCP ||
		m.Mode.IsNull() && m.HealthCheck.ValueString() == cluster.HealthTCP {
		resp.Diagnostics.AddAttributeError(path.Root("health_check"), "Single Writer Needs The Galera Check",
			"mode single_writer (the default) elects the writer inside the galera health check. With a TCP check Octavia's `option allbackups` "+
				"would send writes to every remaining node when the writer fails. Use health_check = \"galera\" or mode = \"multi_writer\".")
	}
	parseCIDRs(ctx, m.MemberSourceCIDRs, path.Root("member_source_cidrs"), &resp.Diagnostics)
}

// ModifyPlan makes members follow the cluster and replaces a load balancer
// that Octavia put in ERROR.
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
	mgr, err := clusterManager(ctx, r.data)
	if !plan.FloatingIPNetwork.Equal(state.FloatingIPNetwork) && !sameNetwork(ctx, mgr, err, plan.FloatingIPNetwork, state.FloatingIPNetwork) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("floating_ip_network"))
		return
	}
	if plan.ClusterID.IsUnknown() || err != nil {
		return
	}
	c, err := mgr.Read(ctx, plan.ClusterID.ValueString(), nil, nil)
	if err != nil {
		return // Read of the cluster reports problems; the pool plan stays as is.
	}
	var members []lbMemberModel
	resp.Diagnostics.Append(state.Members.ElementsAs(ctx, &members, false)...)
	if !sameMembers(members, c) {
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
func sameNetwork(ctx context.Context, mgr *cluster.Manager, mgrErr error, a, b types.String) bool {
	if mgrErr != nil || a.IsNull() || a.IsUnknown() || b.IsNull() || b.IsUnknown() {
		return false
	}
	na, errA := mgr.ResolveNetworkID(ctx, a.ValueString())
	nb, errB := mgr.ResolveNetworkID(ctx, b.ValueString())
	return errA == nil && errB == nil && na == nb
}

func sameMembers(members []lbMemberModel, c *cluster.Cluster) bool {
	if len(members) != len(c.Nodes) {
		return false
	}
	want := map[string]string{}
	for _, n := range c.Nodes {
		want[n.Name] = n.IP
	}
	for _, m := range members {
		if want[m.NodeName.ValueString()] != m.Address.ValueString() {
			return false
		}
	}
	return true
}

func (m *lbPoolModel) spec(ctx context.Context, diags *diag.Diagnostics) cluster.PoolSpec {
	return cluster.PoolSpec{
		ClusterID:         m.ClusterID.ValueString(),
		VIPSubnetID:       m.VIPSubnetID.ValueString(),
		Port:              int(m.Port.ValueInt64()),
		LBMethod:          m.LBMethod.ValueString(),
		Mode:              m.Mode.ValueString(),
		HealthCheck:       m.HealthCheck.ValueString(),
		ClientTimeoutMs:   int(m.TimeoutClientData.ValueInt64()),
		MemberTimeoutMs:   int(m.TimeoutMemberData.ValueInt64()),
		MemberSourceCIDRs: parseCIDRs(ctx, m.MemberSourceCIDRs, path.Root("member_source_cidrs"), diags),
		FloatingIPNetwork: m.FloatingIPNetwork.ValueString(),
	}
}

func (m *lbPoolModel) setObserved(ctx context.Context, p *cluster.Pool) diag.Diagnostics {
	m.ID = types.StringValue(p.LoadBalancerID)
	m.LoadBalancerID = types.StringValue(p.LoadBalancerID)
	m.ListenerID = types.StringValue(p.ListenerID)
	m.PoolID = types.StringValue(p.PoolID)
	m.MonitorID = types.StringValue(p.MonitorID)
	m.VIPAddress = types.StringValue(p.VIPAddress)
	m.VIPSubnetID = types.StringValue(p.VIPSubnetID)
	m.ProvisioningStatus = types.StringValue(p.ProvisioningStatus)
	switch {
	case p.FloatingIPAddress == "":
		// None (or deleted behind Terraform's back): a configured network
		// then plans a replacement that makes it again.
		m.FloatingIPAddress = types.StringNull()
		m.FloatingIPNetwork = types.StringNull()
	case m.FloatingIPNetwork.IsNull() || m.FloatingIPNetwork.IsUnknown():
		// Import: record the network by name, as configurations usually give it.
		m.FloatingIPAddress = types.StringValue(p.FloatingIPAddress)
		m.FloatingIPNetwork = types.StringValue(p.FloatingIPNetworkName)
	default:
		m.FloatingIPAddress = types.StringValue(p.FloatingIPAddress)
	}
	if p.ClusterID != "" {
		m.ClusterID = types.StringValue(p.ClusterID)
	}
	if p.Mode != "" {
		m.Mode = types.StringValue(p.Mode)
	}
	if p.HealthCheck != "" {
		m.HealthCheck = types.StringValue(p.HealthCheck)
	}
	if p.Port != 0 {
		m.Port = types.Int64Value(int64(p.Port))
	}
	if p.LBMethod != "" {
		m.LBMethod = types.StringValue(p.LBMethod)
	}
	if p.ClientTimeoutMs != 0 {
		m.TimeoutClientData = types.Int64Value(int64(p.ClientTimeoutMs))
	}
	if p.MemberTimeoutMs != 0 {
		m.TimeoutMemberData = types.Int64Value(int64(p.MemberTimeoutMs))
	}
	members := make([]lbMemberModel, 0, len(p.Members))
	for _, mem := range p.Members {
		members = append(members, lbMemberModel{
			NodeName: types.StringValue(mem.NodeName), Address: types.StringValue(mem.Address),
			MemberID: types.StringValue(mem.MemberID), Backup: types.BoolValue(mem.Backup),
			OperatingStatus: types.StringValue(mem.OperatingStatus),
		})
	}
	list, diags := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: lbMemberAttrTypes}, members)
	m.Members = list
	return diags
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
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
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
		cleanup := "Nothing was created in the cloud."
		if p != nil {
			cleanup = fmt.Sprintf("Load balancer %s is recorded in state and marked tainted: the next apply replaces it, and destroy removes it.", p.LoadBalancerID)
		}
		resp.Diagnostics.AddError("Error Creating Load Balancer Pool",
			fmt.Sprintf("While putting a load balancer in front of cluster %s: %v\n\n%s", spec.ClusterID, err, cleanup))
	}
}

func (r *lbPoolResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state lbPoolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	p, err := mgr.ReadPool(ctx, state.ID.ValueString())
	if errors.Is(err, cluster.ErrNotFound) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Error Reading Load Balancer Pool", fmt.Sprintf("While reading load balancer %s: %v", state.ID.ValueString(), err))
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
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
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
		resp.Diagnostics.AddError("Error Updating Load Balancer Pool", fmt.Sprintf("While updating load balancer %s: %v", state.ID.ValueString(), err))
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
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	if err := mgr.DeletePool(ctx, state.ID.ValueString(), state.ClusterID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Error Deleting Load Balancer Pool",
			fmt.Sprintf("While deleting load balancer %s: %v\n\nDeleting again is safe.", state.ID.ValueString(), err))
	}
}

func (r *lbPoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !uuidRegexp.MatchString(req.ID) {
		resp.Diagnostics.AddError("Unexpected Import Identifier",
			fmt.Sprintf("Import a pxc_lb_pool by its load balancer id (a UUID); got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
