package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

func backupResourceSchema() schema.Schema {
	t := backupChanges
	keep := func() []planmodifier.String { return []planmodifier.String{stringplanmodifier.UseStateForUnknown()} }
	keepInt := []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}
	return schema.Schema{
		MarkdownDescription: "One on-demand backup of a `pxc_cluster`: create takes it from a Synced node that is not the writer " +
			"(physical, streamed into the cluster's restic repository, encrypted on the node) and waits until it is verified by reading it back; " +
			"destroy deletes it unless `retain_on_destroy`. Restore it with `pxc_cluster.restore_from`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep(),
				MarkdownDescription: "The backup's id (restic's snapshot id, 64 hex digits)."},
			"cluster_id": schema.StringAttribute{Required: true, PlanModifiers: t.stringModifiers("cluster_id"),
				MarkdownDescription: "The cluster to back up (`pxc_cluster.<name>.id`)."},
			"backup": schema.SingleNestedAttribute{Required: true, PlanModifiers: t.objectModifiers("backup"),
				MarkdownDescription: "The store, usually `pxc_cluster.<name>.backup`. A new `container` or `s3_endpoint` replaces the backup; new credentials change in place.",
				Attributes:          backupStoreAttributes(false)},
			"root_password": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The cluster's root password (`pxc_cluster.<name>.root_password`): the backup tool logs in with an account derived from it."},
			"ssh_private_key": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "A private key the servers accept (`pxc_cluster.<name>.generated_private_key`, or the key of `key_pair`)."},
			"ssh_user": schema.StringAttribute{Optional: true, MarkdownDescription: "SSH login user (default `root`)."},
			"ssh_host_key_check": schema.StringAttribute{Optional: true,
				MarkdownDescription: "How SSH host keys are verified: `console` (default), `known_hosts` or `insecure`.",
				Validators:          []validator.String{stringvalidator.OneOf(cluster.HostKeyConsole, cluster.HostKeyKnownHosts, cluster.HostKeyInsecure)}},
			"ssh_known_hosts_file": schema.StringAttribute{Optional: true, MarkdownDescription: "known_hosts file for `ssh_host_key_check = \"known_hosts\"`."},
			"node": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: t.stringModifiers("node", stringplanmodifier.UseStateForUnknown()),
				MarkdownDescription: "The node backed up. Omitted: the first Synced node (in node order) that is not the writer; a named writer is refused."},
			"retain_on_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Keep the backup in the store when this resource is destroyed (default `false`: delete it and the data no other backup shares)."},
			"time":           schema.StringAttribute{Computed: true, PlanModifiers: keep(), MarkdownDescription: "When the backup was taken (RFC 3339, UTC)."},
			"size":           schema.Int64Attribute{Computed: true, PlanModifiers: keepInt, MarkdownDescription: "Bytes of the backup stream (the physical backup before compression)."},
			"stored_size":    schema.Int64Attribute{Computed: true, PlanModifiers: keepInt, MarkdownDescription: "Bytes the repository grew by: after compression and deduplication against earlier backups."},
			"sha256":         schema.StringAttribute{Computed: true, PlanModifiers: keep(), MarkdownDescription: "SHA-256 of the stream, checked by reading the backup back after upload."},
			"gtid_position":  schema.StringAttribute{Computed: true, PlanModifiers: keep(), MarkdownDescription: "The server's GTID position at the backup's consistent point (empty without binary logs)."},
			"source_cluster": schema.StringAttribute{Computed: true, PlanModifiers: keep(), MarkdownDescription: "The Galera cluster name the backup is tagged with."},
			"status": schema.StringAttribute{Computed: true,
				MarkdownDescription: "`verified` once read back intact; `available` when a later read finds it listed in the repository."},
		},
	}
}
