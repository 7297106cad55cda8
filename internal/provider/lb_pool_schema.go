package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

func lbPoolResourceSchema(ctx context.Context) schema.Schema {
	t := lbPoolChanges
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.Schema{
		MarkdownDescription: "An Octavia load balancer in front of a `pxc_cluster`: one TCP address for applications, " +
			"with a Galera-aware health check (only Synced, Primary nodes get traffic) and an optional strict single writer.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The load balancer id (also the import id)."},
			"cluster_id": schema.StringAttribute{Required: true, PlanModifiers: t.stringModifiers("cluster_id"),
				Validators:          []validator.String{stringvalidator.RegexMatches(uuidRegexp, "must be a UUID, the id of a pxc_cluster")},
				MarkdownDescription: "The `pxc_cluster` id (a UUID)."},
			"vip_subnet_id": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers:       t.stringModifiers("vip_subnet_id", stringplanmodifier.UseStateForUnknown()),
				MarkdownDescription: "Subnet of the virtual IP; default: the subnet of the cluster's nodes."},
			"port": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3306),
				PlanModifiers:       t.int64Modifiers("port"),
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
				MarkdownDescription: "TCP port of the listener (default 3306)."},
			"lb_method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("ROUND_ROBIN"),
				Validators:          []validator.String{stringvalidator.OneOf("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP")},
				MarkdownDescription: "`ROUND_ROBIN` (default), `LEAST_CONNECTIONS` or `SOURCE_IP`. Changes in place."},
			"mode": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(cluster.ModeSingleWriter),
				PlanModifiers: t.stringModifiers("mode"),
				Validators:    []validator.String{stringvalidator.OneOf(cluster.ModeSingleWriter, cluster.ModeMultiWriter)},
				MarkdownDescription: "`single_writer` (default): every new connection goes to one node, the writer, elected by the nodes' health checks " +
					"themselves and sticky (it stays writer while Synced and Primary; a joining or donating node is never elected; a returning node does not take it back), so Octavia's `option allbackups` cannot make several writers; connections already open to a former writer are not cut. " +
					"`multi_writer`: new connections spread over every fit node."},
			"health_check": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(cluster.HealthGalera),
				PlanModifiers: t.stringModifiers("health_check"),
				Validators:    []validator.String{stringvalidator.OneOf(cluster.HealthGalera, cluster.HealthTCP)},
				MarkdownDescription: "`galera` (default): HTTP to the clustercheck responder on port 9200 of each node (200 only when Primary, Synced, ready, not in maintenance); " +
					"`tcp`: a TCP connect, which also passes on a node that is not Primary."},
			"timeout_client_data": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(cluster.DefaultClientTimeoutMs),
				Validators:          []validator.Int64{int64validator.Between(1000, 2073600000)},
				MarkdownDescription: "Listener idle timeout towards clients, ms. Default 8 h, MySQL's wait_timeout, instead of Octavia's 50 s that cuts pooled connections."},
			"timeout_member_data": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(cluster.DefaultMemberTimeoutMs),
				Validators:          []validator.Int64{int64validator.Between(1000, 2073600000)},
				MarkdownDescription: "Listener idle timeout towards the nodes, ms (default 8 h)."},
			"member_source_cidrs": schema.ListAttribute{ElementType: types.StringType, Optional: true,
				Validators:          []validator.List{listvalidator.ValueStringsAre(cidr(false))},
				MarkdownDescription: "Where the load balancer connects to the nodes from (IPv4 CIDRs); the nodes' security group opens 3306 and 9200 to them. Default: the VIP subnet."},
			// Replacement on change is decided in ModifyPlan: an id and a
			// name of the same network are no change.
			"floating_ip_network": schema.StringAttribute{Optional: true,
				MarkdownDescription: "External network (id or name) of a floating IP for the VIP, made once the load balancer is ACTIVE: " +
					"applications outside the cluster's network connect to `floating_ip_address`. Changing it replaces the load balancer."},
			"floating_ip_address": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The VIP's floating IP (null without `floating_ip_network`)."},
			"load_balancer_id":    schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Octavia load balancer id."},
			"listener_id":         schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Listener id."},
			"pool_id":             schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Pool id."},
			"monitor_id":          schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Health monitor id."},
			"vip_address":         schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "The address applications connect to."},
			"provisioning_status": schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia's provisioning status; a load balancer in ERROR is replaced by the next apply."},
			"members": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "One member per cluster node. When the cluster's nodes change, the next apply updates them in one batch.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"node_name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Node name."},
					"address":          schema.StringAttribute{Computed: true, MarkdownDescription: "Node address."},
					"member_id":        schema.StringAttribute{Computed: true, MarkdownDescription: "Octavia member id."},
					"backup":           schema.BoolAttribute{Computed: true, MarkdownDescription: "Octavia backup flag, as every apply leaves it: false (the health check elects the writer). A `single_writer` pool adds a new member as a backup until its first health check has run, because HAProxy starts a server it has not checked yet UP, then makes it a full member; an apply interrupted in between leaves the backup, which the next change of the members corrects."},
					"operating_status": schema.StringAttribute{Computed: true, MarkdownDescription: "ONLINE, ERROR (failing its check), OFFLINE or NO_MONITOR."},
				}}},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
