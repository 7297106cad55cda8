package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// Roles of a pxc_node.
const (
	nodeRoleData       = "data"
	nodeRoleArbitrator = "arbitrator"
)

func nodeResourceSchema(ctx context.Context) schema.Schema {
	t := nodeChanges
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.Schema{
		MarkdownDescription: "An extra member of an existing `pxc_cluster`, outside its `node_count`: a data node (its own flavor allowed, the cluster's volume size) " +
			"or an arbitrator (`garbd` on a small server: it votes and holds no data, so 2 data nodes and an arbitrator keep quorum when one fails, " +
			"or two zones and a witness survive the loss of a zone). A data node joins from a donor that is not the writer, waits Synced, " +
			"and joins the cluster's load balancer pools in the same apply; destroying it is a graceful leave (the writer moves first if it is the writer).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The server id (also the import id)."},
			"cluster_id": schema.StringAttribute{Required: true, PlanModifiers: t.stringModifiers("cluster_id"),
				Validators:          []validator.String{stringvalidator.RegexMatches(uuidRegexp, "must be a UUID, the id of a pxc_cluster")},
				MarkdownDescription: "The `pxc_cluster` id (a UUID)."},
			"role": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(nodeRoleData),
				PlanModifiers: t.stringModifiers("role"),
				Validators:    []validator.String{stringvalidator.OneOf(nodeRoleData, nodeRoleArbitrator)},
				MarkdownDescription: "`data` (default): MariaDB/Percona with a data volume of the cluster's size. " +
					"`arbitrator`: `garbd` only, no volume, nothing listening on MySQL's port; it counts in `wsrep_cluster_size` and in quorum."},
			"name": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers:       t.stringModifiers("name", stringplanmodifier.UseStateForUnknown()),
				Validators:          []validator.String{stringvalidator.RegexMatches(nodeNameRegexp, "must be a DNS label: lower-case letters, digits and '-', starting with a letter")},
				MarkdownDescription: "Server and Galera node name; default `<cluster>-<n>`, continuing the cluster's numbering."},
			"flavor": schema.StringAttribute{Optional: true, PlanModifiers: t.stringModifiers("flavor"),
				MarkdownDescription: "Nova flavor (id or name); default: the cluster's. May differ from the cluster's: a bigger reader, a small arbitrator."},
			"availability_zone": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers:       t.stringModifiers("availability_zone", stringplanmodifier.UseStateForUnknown()),
				MarkdownDescription: "Availability zone of the server (and volume); default: the cloud's choice."},
			"root_password": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The cluster's root password (`pxc_cluster.<name>.root_password`): the provider checks the node over SQL through SSH."},
			"ssh_private_key": schema.StringAttribute{Required: true, Sensitive: true, Validators: []validator.String{privateKey()},
				MarkdownDescription: "The cluster's SSH private key (`pxc_cluster.<name>.generated_private_key`, or `ssh.private_key` with your own `key_pair`)."},
			"ssh_user": schema.StringAttribute{Optional: true, MarkdownDescription: "SSH login user (default `root`)."},
			"ssh_host_key_check": schema.StringAttribute{Optional: true,
				Validators:          []validator.String{stringvalidator.OneOf(cluster.HostKeyConsole, cluster.HostKeyInsecure)},
				MarkdownDescription: "`console` (default: the fingerprints cloud-init prints on each server's console) or `insecure`."},
			"parameters": schema.MapAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "The cluster's `parameters` (`pxc_cluster.<name>.parameters`): the cloud does not record them, and a membership change rewrites every member's configuration."},
			"install_packages": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Install the database server (data) or garbd (arbitrator) packages when the image lacks them, as the cluster's `install_packages` does."},
			"ca_certificate": schema.StringAttribute{Optional: true,
				MarkdownDescription: "The cluster's CA certificate (`pxc_cluster.<name>.ca_certificate`): with `ca_key`, it issues this member's TLS certificate. Needed when the cluster uses TLS (the default)."},
			"ca_key": schema.StringAttribute{Optional: true, Sensitive: true,
				MarkdownDescription: "The key of that CA (`pxc_cluster.<name>.generated_ca_key`, or your `tls.ca_key`)."},
			"ip":                   schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "The node's address in the cluster network."},
			"server_id":            schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Nova server id."},
			"volume_id":            schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Cinder data volume id (empty for an arbitrator)."},
			"wsrep_local_state":    schema.StringAttribute{Computed: true, MarkdownDescription: "`Synced`, `Donor/Desynced`, `Joiner`...; for an arbitrator `Synced` while the data nodes count it in their cluster size; empty when it could not be asked."},
			"wsrep_cluster_status": schema.StringAttribute{Computed: true, MarkdownDescription: "`Primary` or `non-Primary` as the node sees it (a data node); empty otherwise."},
			"timeouts":             timeouts.Attributes(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}
