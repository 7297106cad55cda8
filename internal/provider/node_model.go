package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// nodeNameRegexp is a DNS label, as server names are.
var nodeNameRegexp = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// nodeResourceModel is the pxc_node resource's state.
type nodeResourceModel struct {
	ID                 types.String   `tfsdk:"id"`
	ClusterID          types.String   `tfsdk:"cluster_id"`
	Role               types.String   `tfsdk:"role"`
	Name               types.String   `tfsdk:"name"`
	Flavor             types.String   `tfsdk:"flavor"`
	AvailabilityZone   types.String   `tfsdk:"availability_zone"`
	RootPassword       types.String   `tfsdk:"root_password"`
	SSHPrivateKey      types.String   `tfsdk:"ssh_private_key"`
	SSHUser            types.String   `tfsdk:"ssh_user"`
	SSHHostKeyCheck    types.String   `tfsdk:"ssh_host_key_check"`
	Parameters         types.Map      `tfsdk:"parameters"`
	InstallPackages    types.Bool     `tfsdk:"install_packages"`
	CACertificate      types.String   `tfsdk:"ca_certificate"`
	CAKey              types.String   `tfsdk:"ca_key"`
	IP                 types.String   `tfsdk:"ip"`
	ServerID           types.String   `tfsdk:"server_id"`
	VolumeID           types.String   `tfsdk:"volume_id"`
	WsrepLocalState    types.String   `tfsdk:"wsrep_local_state"`
	WsrepClusterStatus types.String   `tfsdk:"wsrep_cluster_status"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

// kind is the cluster layer's name for the role.
func (m *nodeResourceModel) kind() string {
	if m.Role.ValueString() == nodeRoleArbitrator {
		return cluster.KindArbitrator
	}
	return cluster.KindData
}

func roleOf(kind string) string {
	if kind == cluster.KindArbitrator {
		return nodeRoleArbitrator
	}
	return nodeRoleData
}

// nodeSpec is the member asked for.
func (m *nodeResourceModel) nodeSpec() cluster.NodeSpec {
	return cluster.NodeSpec{
		ClusterID: m.ClusterID.ValueString(), Name: m.Name.ValueString(), Flavor: m.Flavor.ValueString(),
		AvailabilityZone: m.AvailabilityZone.ValueString(), Kind: m.kind(),
	}
}

// access is how the provider reaches the cluster: a spec with only the
// credentials and parameters, which cluster.ClusterSpecFor completes from
// what the servers record.
func (m *nodeResourceModel) access(ctx context.Context) (cluster.Spec, diag.Diagnostics) {
	s := cluster.Spec{
		RootPassword: m.RootPassword.ValueString(),
		SSH: cluster.SSHSpec{
			User: m.SSHUser.ValueString(), PrivateKey: m.SSHPrivateKey.ValueString(),
			HostKeyCheck: m.SSHHostKeyCheck.ValueString(),
		},
	}
	s.InstallPackages = m.InstallPackages.ValueBool()
	// The mode is what the servers recorded; the CA issues this member's
	// certificate (issue 14).
	s.TLS.CACert, s.TLS.CAKey = m.CACertificate.ValueString(), m.CAKey.ValueString()
	if s.SSH.HostKeyCheck == "" {
		s.SSH.HostKeyCheck = cluster.HostKeyConsole
	}
	var diags diag.Diagnostics
	if !m.Parameters.IsNull() && !m.Parameters.IsUnknown() {
		diags = m.Parameters.ElementsAs(ctx, &s.Parameters, false)
	}
	return s, diags
}

// setObserved records the member as the cloud and the cluster show it.
func (m *nodeResourceModel) setObserved(c *cluster.Cluster, n cluster.Node) {
	m.ID = types.StringValue(n.ServerID)
	m.ServerID = types.StringValue(n.ServerID)
	m.ClusterID = types.StringValue(c.ID)
	m.Name = types.StringValue(n.Name)
	m.Role = types.StringValue(roleOf(n.Kind))
	m.IP = types.StringValue(n.IP)
	m.VolumeID = types.StringValue(n.VolumeID)
	if n.AvailabilityZone != "" || m.AvailabilityZone.IsUnknown() {
		m.AvailabilityZone = types.StringValue(n.AvailabilityZone)
	}
	m.WsrepLocalState, m.WsrepClusterStatus = types.StringValue(""), types.StringValue("")
	switch {
	case n.Wsrep != nil:
		m.WsrepLocalState = types.StringValue(n.Wsrep.LocalState)
		m.WsrepClusterStatus = types.StringValue(n.Wsrep.ClusterStatus)
	case n.Kind == cluster.KindArbitrator && arbitratorCounted(c):
		m.WsrepLocalState = types.StringValue("Synced")
	}
}

// arbitratorCounted: a healthy data node sees every member, the
// arbitrators included, in its cluster size.
func arbitratorCounted(c *cluster.Cluster) bool {
	for _, n := range c.Nodes {
		if w := n.Wsrep; w != nil && w.ClusterStatus == "Primary" && w.LocalState == "Synced" && w.ClusterSize == len(c.Nodes) {
			return true
		}
	}
	return false
}
