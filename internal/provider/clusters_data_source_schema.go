package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func clustersDataSourceSchema() schema.Schema {
	return schema.Schema{
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
