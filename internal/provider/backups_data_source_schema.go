package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

func backupsDataSourceSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A cluster's backups in its store, oldest first: scheduled ones and `pxc_backup`s alike.",
		Attributes: map[string]schema.Attribute{
			"cluster_id": schema.StringAttribute{Required: true, MarkdownDescription: "The cluster (`pxc_cluster.<name>.id`)."},
			"backup": schema.SingleNestedAttribute{Required: true, Attributes: backupStoreDataSourceAttributes(),
				MarkdownDescription: "The store, usually `pxc_cluster.<name>.backup`."},
			"root_password": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The cluster's root password (`pxc_cluster.<name>.root_password`)."},
			"ssh_private_key": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "A private key the servers accept (`pxc_cluster.<name>.generated_private_key`)."},
			"ssh_user": schema.StringAttribute{Optional: true, MarkdownDescription: "SSH login user (default `root`)."},
			"ssh_host_key_check": schema.StringAttribute{Optional: true,
				MarkdownDescription: "How SSH host keys are verified: `console` (default), `known_hosts` or `insecure`.",
				Validators:          []validator.String{stringvalidator.OneOf(cluster.HostKeyConsole, cluster.HostKeyKnownHosts, cluster.HostKeyInsecure)}},
			"ssh_known_hosts_file": schema.StringAttribute{Optional: true, MarkdownDescription: "known_hosts file for `ssh_host_key_check = \"known_hosts\"`."},
			"backups": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The backups, oldest first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":             schema.StringAttribute{Computed: true, MarkdownDescription: "The backup's id (for `restore_from.backup_id`)."},
					"time":           schema.StringAttribute{Computed: true, MarkdownDescription: "When it was taken (RFC 3339, UTC)."},
					"node":           schema.StringAttribute{Computed: true, MarkdownDescription: "The node it was taken on."},
					"source_cluster": schema.StringAttribute{Computed: true, MarkdownDescription: "The Galera cluster name it is tagged with."},
				}}},
		},
	}
}
