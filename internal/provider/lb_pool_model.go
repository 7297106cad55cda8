package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// lbPoolModel is the pxc_lb_pool resource's state.
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
