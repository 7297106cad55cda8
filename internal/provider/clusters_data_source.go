package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
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

type clustersDataModel struct {
	Clusters types.List `tfsdk:"clusters"`
}

type clusterSummaryModel struct {
	ID        types.String    `tfsdk:"id"`
	Name      types.String    `tfsdk:"name"`
	Datastore *datastoreModel `tfsdk:"datastore"`
	IPs       types.List      `tfsdk:"ips"`
	Status    types.String    `tfsdk:"status"`
}

var clusterSummaryAttrTypes = map[string]attr.Type{
	"id":        types.StringType,
	"name":      types.StringType,
	"datastore": types.ObjectType{AttrTypes: map[string]attr.Type{"type": types.StringType, "version": types.StringType}},
	"ips":       types.ListType{ElemType: types.StringType},
	"status":    types.StringType,
}

func (d *clustersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_clusters"
}

func (d *clustersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists every pxc cluster in the project (found by the `pxc_cluster_id` metadata of its servers), like Trove's `cluster-list`.",
		Attributes: map[string]schema.Attribute{
			"clusters": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The clusters.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "Cluster id."},
					"name": schema.StringAttribute{Computed: true, MarkdownDescription: "Cluster name."},
					"datastore": schema.SingleNestedAttribute{Computed: true, MarkdownDescription: "Flavour and version.",
						Attributes: map[string]schema.Attribute{
							"type":    schema.StringAttribute{Computed: true, MarkdownDescription: "`percona` or `mariadb`."},
							"version": schema.StringAttribute{Computed: true, MarkdownDescription: "Major version."},
						}},
					"ips":    schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Node IPs."},
					"status": schema.StringAttribute{Computed: true, MarkdownDescription: "`ACTIVE` when every server is ACTIVE, else the first other server status."},
				}},
			},
		},
	}
}

func (d *clustersDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	d.data = data
}

func (d *clustersDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	mgr, err := clusterManager(ctx, d.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	all, err := mgr.List(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Error Listing Clusters", "While listing the project's servers to find clusters: "+err.Error())
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
