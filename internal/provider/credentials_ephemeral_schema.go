package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// Defaults of pxc_credentials (ephemeral schemas have no Default).
const (
	defaultCredentialsTTL  = "1h"
	defaultCredentialsPort = 3306
)

func credentialsEphemeralSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A temporary MySQL account on a cluster, for configuring a MySQL provider or running a migration in the same run. " +
			"Opening it creates an account with the grants asked for and a random password, through the provider's SSH connection to a node " +
			"(it replicates to every node); closing it drops the account. The password is never in the plan or the state.\n\n" +
			"The account's name carries its expiry (`tf_<unix seconds>_<random>`): an account left behind by an interrupted run " +
			"is dropped by the next open of any `pxc_credentials` on the cluster once `ttl` has passed. " +
			"Requires Terraform 1.10+ or OpenTofu 1.11+.",
		Attributes: map[string]schema.Attribute{
			"cluster_id": schema.StringAttribute{Required: true, MarkdownDescription: "The cluster's id (`pxc_cluster.<name>.id`)."},
			"root_password": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The cluster's root password (`pxc_cluster.<name>.root_password`): the provider creates the account as root, on the node, through SSH."},
			"ssh_private_key": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "A private key the servers accept (`pxc_cluster.<name>.generated_private_key`, or the key of `key_pair`)."},
			"ssh_user": schema.StringAttribute{Optional: true, MarkdownDescription: "SSH login user (default `root`)."},
			"ssh_host_key_check": schema.StringAttribute{Optional: true,
				MarkdownDescription: "How SSH host keys are verified: `console` (default: against the fingerprints cloud-init prints on each server's console), `known_hosts` or `insecure`.",
				Validators:          []validator.String{stringvalidator.OneOf(cluster.HostKeyConsole, cluster.HostKeyKnownHosts, cluster.HostKeyInsecure)}},
			"ssh_known_hosts_file": schema.StringAttribute{Optional: true, MarkdownDescription: "known_hosts file for `ssh_host_key_check = \"known_hosts\"`."},
			"grants": schema.ListNestedAttribute{Required: true,
				MarkdownDescription: "What the account may do, one `GRANT` each. Names are quoted by the provider.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"privileges": schema.ListAttribute{ElementType: types.StringType, Required: true,
						MarkdownDescription: "Privilege names such as `SELECT`, `INSERT`, `CREATE`, `ALL PRIVILEGES` (case does not matter).",
						Validators:          []validator.List{listvalidator.SizeAtLeast(1)}},
					"on": schema.StringAttribute{Required: true,
						MarkdownDescription: "`*.*`, `<database>.*` or `<database>.<table>`; names may not contain a dot."},
				}},
			},
			"ttl": schema.StringAttribute{Optional: true,
				MarkdownDescription: "How long the account may live if closing it fails, a Go duration from `1m` to `24h` (default `" + defaultCredentialsTTL + "`). " +
					"A normal run drops it when Terraform closes the resource, long before."},
			"account_host": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Host pattern of the account (default `%`: any client). Who reaches port 3306 at all is already limited by the " +
					"cluster's security group (`allowed_cidrs`, the pools' `member_source_cidrs`, the members); narrow it further with an address, " +
					"a pattern such as `10.0.%` or `address/netmask`. Clients coming through a load balancer connect from the load balancer's address.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"address": schema.StringAttribute{Optional: true,
				MarkdownDescription: "What `host` reports: the address clients should use, e.g. `pxc_lb_pool.<name>.vip_address`. Default: the current writer's IP (see `pxc_cluster.writer`)."},
			"port": schema.Int64Attribute{Optional: true, Computed: true,
				MarkdownDescription: "Port to connect to (default 3306; give a pool's `port` when `address` is a pool).",
				Validators:          []validator.Int64{int64validator.Between(1, 65535)}},

			"username": schema.StringAttribute{Computed: true, MarkdownDescription: "The account name, `tf_<expiry unix seconds>_<random>`."},
			"password": schema.StringAttribute{Computed: true, Sensitive: true, MarkdownDescription: "The account's random password."},
			"host":     schema.StringAttribute{Computed: true, MarkdownDescription: "Where to connect: `address`, else the writer's IP."},
			"expires_at": schema.StringAttribute{Computed: true,
				MarkdownDescription: "When a later open may drop the account if this run could not (RFC 3339)."},
		},
	}
}
