package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// clusterDataModel is the pxc_cluster data source's state.
type clusterDataModel struct {
	ID               types.String    `tfsdk:"id"`
	Name             types.String    `tfsdk:"name"`
	SSHUser          types.String    `tfsdk:"ssh_user"`
	SSHPrivateKey    types.String    `tfsdk:"ssh_private_key"`
	RootPassword     types.String    `tfsdk:"root_password"`
	Datastore        *datastoreModel `tfsdk:"datastore"`
	Status           types.String    `tfsdk:"status"`
	IPs              types.List      `tfsdk:"ips"`
	Nodes            types.List      `tfsdk:"nodes"`
	ClusterStateUUID types.String    `tfsdk:"cluster_state_uuid"`
	SecurityGroupID  types.String    `tfsdk:"security_group_id"`
	Writer           types.String    `tfsdk:"writer"`
	// The cluster's own load balancer (cluster_load_balancer.go).
	LoadBalancer *clusterLoadBalancerModel `tfsdk:"load_balancer"`
}
