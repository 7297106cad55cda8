package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
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

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = clusterDataSourceSchema()
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
	mgr := clusterManager(d.data, "look up a cluster", &resp.Diagnostics)
	if mgr == nil {
		return
	}
	id, err := mgr.Find(ctx, m.ID.ValueString(), m.Name.ValueString())
	if err != nil {
		resp.Diagnostics.Append(clusterNotFoundDiagnostic(err))
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
	if err == nil {
		err = mgr.ReadLoadBalancer(ctx, c)
	}
	if err != nil {
		resp.Diagnostics.Append(readClusterFailed("reading cluster "+id, err))
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
	m.Writer = state.Writer
	m.LoadBalancer = state.LoadBalancer
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
