package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var (
	_ datasource.DataSource                     = (*clusterDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*clusterDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*clusterDataSource)(nil)
)

// NewClusterDataSource is the pxc_cluster data source.
func NewClusterDataSource() datasource.DataSource { return &clusterDataSource{} }

type clusterDataSource struct {
	data *ProviderData
}

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
}

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	nodeAttrs := map[string]schema.Attribute{}
	for name := range nodeAttrTypes {
		if name == "wsrep_cluster_size" {
			nodeAttrs[name] = schema.Int64Attribute{Computed: true}
		} else {
			nodeAttrs[name] = schema.StringAttribute{Computed: true}
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one cluster by id or name. With `ssh_private_key` and `root_password` it also asks every node for its live Galera state " +
			"(host keys checked against the Nova console), like `SHOW STATUS LIKE 'wsrep%'` on each node.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Cluster id; give this or `name`."},
			"name": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Cluster name; give this or `id`."},
			"ssh_user": schema.StringAttribute{Optional: true,
				MarkdownDescription: "SSH user for the live state (default `root`)."},
			"ssh_private_key": schema.StringAttribute{Optional: true, Sensitive: true,
				MarkdownDescription: "Private key that the servers accept; needed for the live Galera state."},
			"root_password": schema.StringAttribute{Optional: true, Sensitive: true,
				MarkdownDescription: "Database root password; needed for the live Galera state."},
			"datastore": schema.SingleNestedAttribute{Computed: true, MarkdownDescription: "Flavour and version.",
				Attributes: map[string]schema.Attribute{
					"type":    schema.StringAttribute{Computed: true, MarkdownDescription: "`percona` or `mariadb`."},
					"version": schema.StringAttribute{Computed: true, MarkdownDescription: "Major version."},
				}},
			"status": schema.StringAttribute{Computed: true,
				MarkdownDescription: "`ACTIVE`, `DEGRADED`, or `UNKNOWN` when the live state was not asked for or no node answered."},
			"ips": schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Node IPs in node order."},
			"nodes": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The members, with live Galera state when available.",
				NestedObject: schema.NestedAttributeObject{Attributes: nodeAttrs}},
			"cluster_state_uuid": schema.StringAttribute{Computed: true, MarkdownDescription: "`wsrep_cluster_state_uuid`, when the live state was read."},
			"security_group_id":  schema.StringAttribute{Computed: true, MarkdownDescription: "The cluster's security group."},
		},
	}
}

func (d *clusterDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
		datasourcevalidator.RequiredTogether(path.MatchRoot("ssh_private_key"), path.MatchRoot("root_password")),
	}
}

func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *clusterDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = maskSecrets(ctx, m.RootPassword.ValueString(), m.SSHPrivateKey.ValueString())
	mgr, err := clusterManager(ctx, d.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	id, err := mgr.Find(ctx, m.ID.ValueString(), m.Name.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cluster Not Found", err.Error())
		return
	}
	var spec *cluster.Spec
	if m.SSHPrivateKey.ValueString() != "" {
		spec = &cluster.Spec{
			RootPassword: m.RootPassword.ValueString(),
			SSH: cluster.SSHSpec{User: m.SSHUser.ValueString(), PrivateKey: m.SSHPrivateKey.ValueString(),
				HostKeyCheck: cluster.HostKeyConsole},
		}
		if spec.SSH.User == "" {
			spec.SSH.User = "root"
		}
	}
	c, err := mgr.Read(ctx, id, spec, nil)
	if err != nil {
		resp.Diagnostics.AddError("Error Reading Cluster", fmt.Sprintf("While reading cluster %s: %v", id, err))
		return
	}
	state := clusterModel{}
	resp.Diagnostics.Append(state.setObserved(ctx, c)...)
	m.ID = types.StringValue(c.ID)
	m.Name = types.StringValue(c.Name)
	m.Datastore = &datastoreModel{Type: types.StringValue(c.Datastore.Type), Version: types.StringValue(c.Datastore.Version)}
	m.Status = state.Status
	m.IPs = state.IPs
	m.Nodes = state.Nodes
	m.ClusterStateUUID = state.ClusterStateUUID
	m.SecurityGroupID = state.SecurityGroupID
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
