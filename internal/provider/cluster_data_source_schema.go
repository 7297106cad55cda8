package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func clusterDataSourceSchema() schema.Schema {
	nodeAttrs := map[string]schema.Attribute{}
	for name := range nodeAttrTypes {
		switch name {
		case "wsrep_cluster_size":
			nodeAttrs[name] = schema.Int64Attribute{Computed: true}
		case "role":
			nodeAttrs[name] = schema.StringAttribute{Computed: true, MarkdownDescription: roleDescription}
		case "flavor":
			nodeAttrs[name] = schema.StringAttribute{Computed: true, MarkdownDescription: nodeFlavorDescription}
		case "image":
			nodeAttrs[name] = schema.StringAttribute{Computed: true, MarkdownDescription: nodeImageDescription}
		default:
			nodeAttrs[name] = schema.StringAttribute{Computed: true}
		}
	}
	return schema.Schema{
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
			"writer":             schema.StringAttribute{Computed: true, MarkdownDescription: writerDescription},
			"load_balancer": schema.SingleNestedAttribute{Computed: true,
				MarkdownDescription: "The cluster's own load balancer (its `load_balancer` block); null without one.",
				Attributes: map[string]schema.Attribute{
					"mode":        schema.StringAttribute{Computed: true, MarkdownDescription: "`single_writer` or `multi_writer`."},
					"id":          schema.StringAttribute{Computed: true, MarkdownDescription: "The Octavia load balancer id."},
					"vip_address": schema.StringAttribute{Computed: true, MarkdownDescription: "The address applications connect to (port 3306)."},
				}},
		},
	}
}
