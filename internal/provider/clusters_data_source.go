package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ datasource.DataSource              = (*clustersDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*clustersDataSource)(nil)
)

// NewClustersDataSource is the pxc_clusters data source: every cluster in
// the project, like Trove's cluster-list.
func NewClustersDataSource() datasource.DataSource { return &clustersDataSource{} }

type clustersDataSource struct {
	data *ProviderData
}

func (d *clustersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_clusters"
}

func (d *clustersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = clustersDataSourceSchema()
}

func (d *clustersDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *clustersDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	mgr := clusterManager(d.data, "list the clusters", &resp.Diagnostics)
	if mgr == nil {
		return
	}
	all, err := mgr.List(ctx)
	if err != nil {
		resp.Diagnostics.Append(listClustersFailed(err))
		return
	}
	rows := make([]clusterSummaryModel, 0, len(all))
	for _, c := range all {
		ips, diags := types.ListValueFrom(ctx, types.StringType, c.IPs)
		resp.Diagnostics.Append(diags...)
		rows = append(rows, clusterSummaryModel{
			ID: types.StringValue(c.ID), Name: types.StringValue(c.Name),
			Datastore: &datastoreModel{Type: types.StringValue(c.Datastore.Type), Version: types.StringValue(c.Datastore.Version)},
			IPs:       ips, Status: types.StringValue(c.Status),
		})
	}
	var m clustersDataModel
	list, diags := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: clusterSummaryAttrTypes}, rows)
	resp.Diagnostics.Append(diags...)
	m.Clusters = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
