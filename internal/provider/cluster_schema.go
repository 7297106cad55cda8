package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// clusterNameRegexp mirrors cluster.ValidateName so the error shows at validate time.
var clusterNameRegexp = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,57}[a-z0-9])?$`)

// Bounds of node_count and volume.size; the attribute descriptions say why.
const (
	maxNodes     = 15
	maxVolumeGiB = 16384
)

// Attribute types of the computed nodes list.
var nodeAttrTypes = map[string]attr.Type{
	"id":                 types.StringType,
	"name":               types.StringType,
	"ip":                 types.StringType,
	"volume_id":          types.StringType,
	"availability_zone":  types.StringType,
	"wsrep_local_state":  types.StringType,
	"wsrep_cluster_size": types.Int64Type,
	"role":               types.StringType,
	"flavor":             types.StringType,
	"image":              types.StringType,
}

const (
	writerDescription = "Name of the node a `single_writer` pool sends writes to: of the nodes in node order, the first in the primary component, " +
		"if it is Synced (the rule the `/writer` health check applies). Empty when no node is fit or the live state was not read. " +
		"It changes with failovers; a read refreshes it without making a plan."
	roleDescription = "`writer` (see `writer`), `reader` (Synced, in the primary component), `unavailable` (not a healthy member), " +
		"or empty when the live state was not read."
)

func clusterResourceSchema(ctx context.Context) schema.Schema {
	s := clusterResourceBaseSchema(ctx)
	for name, a := range healthSchemaAttributes() {
		s.Attributes[name] = a
	}
	for name, a := range clusterTLSComputedAttributes() {
		s.Attributes[name] = a
	}
	return s
}

func clusterResourceBaseSchema(ctx context.Context) schema.Schema {
	t := clusterChanges
	return schema.Schema{
		MarkdownDescription: "A highly available Percona XtraDB Cluster or MariaDB Galera cluster on OpenStack. " +
			"`terraform apply` reports it created only after every node is Synced and Primary in one cluster " +
			"of `node_count` members (checked over SQL through SSH).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Cluster id (a UUID), also written into every server's metadata as `pxc_cluster_id`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Cluster name, a DNS label of at most 59 characters. Nodes are named `<name>-<n>`.",
				PlanModifiers:       t.stringModifiers("name"),
				Validators: []validator.String{stringvalidator.RegexMatches(clusterNameRegexp,
					"must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 59 characters")},
			},
			"datastore": schema.SingleNestedAttribute{
				Required:            true,
				MarkdownDescription: "Database flavour and version.",
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{
						Required:            true,
						PlanModifiers:       t.stringModifiers("datastore.type"),
						MarkdownDescription: "`percona` (Percona XtraDB Cluster) or `mariadb` (MariaDB Galera).",
						Validators:          []validator.String{stringvalidator.OneOf("percona", "mariadb")},
					},
					"version": schema.StringAttribute{
						Required: true,
						MarkdownDescription: "Major version: `5.7` or `8.0` for percona; `10.6`, `10.11` or `11.x` (e.g. `11.4`) for mariadb. " +
							"Changing it on a running cluster is refused at plan (upgrades are not supported yet).",
					},
				},
			},
			"node_count": schema.Int64Attribute{
				CustomType: wholeNumberType{},
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(3),
				MarkdownDescription: "Number of data nodes, 2 to 15 (default 3). An even count plans with a split-brain warning; 2 plans with a warning that one failure " +
					"loses quorum unless an arbitrator (`pxc_node` with `role = \"arbitrator\"`) is added. " +
					"At most 15 because every commit waits until every member has certified it, so latency and flow control grow with each member, " +
					"and Galera clusters beyond about 15 members are not run in practice (add asynchronous replicas for reads instead). " +
					"Changing it grows or shrinks the running cluster in place: new nodes `<name>-<n>` join one at a time (each Synced, from a donor that is not the writer, " +
					"then added to the load balancer pools); a shrink removes the highest-numbered nodes first, each leaving the pools, the writer moved away first, " +
					"then stopping cleanly with its server and volume deleted. The plan names the nodes added or removed.",
				Validators:    []validator.Int64{int64validator.AtLeast(cluster.MinDataNodes), int64validator.AtMost(maxNodes)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"flavor": schema.StringAttribute{
				Required: true, PlanModifiers: t.stringModifiers("flavor"),
				MarkdownDescription: "Nova flavor, id or name.",
			},
			"image": schema.StringAttribute{
				Required: true, PlanModifiers: t.stringModifiers("image"),
				MarkdownDescription: "Image, id or name. It must have the datastore's packages, or set `install_packages`.",
			},
			"network": schema.StringAttribute{
				Required: true, PlanModifiers: t.stringModifiers("network"),
				MarkdownDescription: "Neutron network, id or name. Every node gets one port on its first IPv4 subnet.",
			},
			"volume": schema.SingleNestedAttribute{
				Required:            true,
				MarkdownDescription: "The Cinder data volume of every node, mounted at the datadir.",
				Attributes: map[string]schema.Attribute{
					"size": schema.Int64Attribute{
						Required: true, MarkdownDescription: "Size in GiB, 1 to 16384 (16 TiB, beyond what common Cinder back ends and quotas give one volume; a larger value is usually a size in MiB). " +
							"Growing it extends every node's volume while attached (Cinder microversion 3.42) and its filesystem online, without a restart; a smaller size is refused at plan.",
						Validators: []validator.Int64{int64validator.Between(1, maxVolumeGiB)},
					},
					"type": schema.StringAttribute{Optional: true, PlanModifiers: t.stringModifiers("volume.type"),
						MarkdownDescription: "Cinder volume type; the cloud's default when omitted. Changing it replaces the cluster."},
				},
			},
			"availability_zones": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Availability zones; nodes are spread over them round-robin.",
				PlanModifiers:       t.listModifiers("availability_zones"),
				Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues()},
			},
			"anti_affinity": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("anti-affinity"),
				MarkdownDescription: "Server group policy: `anti-affinity` (default: no two nodes on one hypervisor), `soft-anti-affinity`, or `none`.",
				Validators:          []validator.String{stringvalidator.OneOf("anti-affinity", "soft-anti-affinity", "none")},
				PlanModifiers:       t.stringModifiers("anti_affinity"),
			},
			"key_pair": schema.StringAttribute{
				Optional: true, PlanModifiers: t.stringModifiers("key_pair"),
				MarkdownDescription: "An existing Nova keypair; `ssh.private_key` must then hold its private key. Omitted: the cluster generates a keypair (see `generated_private_key`).",
			},
			"generated_private_key": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "The private key of the generated keypair (OpenSSH PEM), empty when `key_pair` is given.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ssh": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "How the provider reaches the servers to configure them. Changes in place (a new key, a bastion): the servers are not touched.",
				Attributes: map[string]schema.Attribute{
					"user": schema.StringAttribute{Optional: true, MarkdownDescription: "Login user (default `root`); it needs root or password-less sudo."},
					"private_key": schema.StringAttribute{
						Optional: true, Sensitive: true,
						MarkdownDescription: "Private key (PEM or OpenSSH format, unencrypted) for `key_pair`.",
						Validators:          []validator.String{privateKey()},
					},
					"host_key_check": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "`console` (default): trust only the host key fingerprints printed on the Nova console. Servers boot with user data (cloud-config) " +
							"whose `bootcmd` makes the ed25519 host key once per instance and prints its fingerprint before sshd starts, so the key is " +
							"verified as soon as the server answers, not after cloud-init's final stage; cloud-init's own block, later, names the same key; " +
							"`known_hosts`: a known_hosts file (`known_hosts_file`); `insecure`: no check (logged as a warning).",
						Validators: []validator.String{stringvalidator.OneOf("console", "known_hosts", "insecure")},
					},
					"known_hosts_file": schema.StringAttribute{Optional: true, Validators: []validator.String{readableFile()},
						MarkdownDescription: "known_hosts file for `host_key_check = \"known_hosts\"`; it must exist when the plan is made."},
					"source_cidrs": schema.ListAttribute{
						ElementType: types.StringType, Optional: true,
						MarkdownDescription: "Who may reach port 22, IPv4 CIDRs. Default: the address this machine uses to reach the cluster network, as a /32.",
						Validators:          []validator.List{listvalidator.ValueStringsAre(cidr(false))},
					},
					"host_key_timeout": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "How long to wait for a new server's SSH host key fingerprints on its Nova console (`host_key_check = \"console\"`), " +
							"a Go duration such as `10m`. Default `5m`.",
						Validators: []validator.String{positiveDuration()},
					},
					"connect_timeout": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "How long to wait for a new server to answer SSH, a Go duration such as `10m`. Default `5m`.",
						Validators:          []validator.String{positiveDuration()},
					},
					"bastion": schema.SingleNestedAttribute{
						Optional:            true,
						MarkdownDescription: "A jump host between this machine and the servers.",
						Attributes: map[string]schema.Attribute{
							"host": schema.StringAttribute{Required: true, MarkdownDescription: "Bastion address."},
							"port": schema.Int64Attribute{Optional: true, MarkdownDescription: "SSH port (default 22).",
								Validators: []validator.Int64{int64validator.Between(1, 65535)}},
							"user": schema.StringAttribute{Optional: true, MarkdownDescription: "Login user (default: `ssh.user`)."},
							"private_key": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Private key (default: the cluster key).",
								Validators: []validator.String{privateKey()}},
							"host_key": schema.StringAttribute{Optional: true, MarkdownDescription: "The bastion's public host key (authorized_keys format); required unless `host_key_check = \"insecure\"`.",
								Validators: []validator.String{hostKey()}},
						},
					},
				},
			},
			"root_password": schema.StringAttribute{
				Optional: true, Computed: true, Sensitive: true,
				MarkdownDescription: "Password of the database `root` account; generated when omitted, and kept in state. " +
					"Changing it rotates the password on the running cluster (ALTER USER once; it replicates), no restart. " +
					"To keep the password out of state use `root_password_wo` instead (the two conflict).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Validators: []validator.String{stringvalidator.LengthBetween(8, 128),
					stringvalidator.ConflictsWith(path.MatchRoot("root_password_wo"))},
			},
			"root_password_wo": schema.StringAttribute{
				Optional: true, WriteOnly: true, Sensitive: true,
				MarkdownDescription: "Write-only root password (Terraform and OpenTofu 1.11+): never stored in state or plan. " +
					"It wins over `root_password`, which must then be unset (state keeps none). Terraform does not compare write-only values, " +
					"so a new password is applied only when `root_password_wo_version` changes; the provider reads the current password from the nodes " +
					"(root's client file, reachable only over SSH as root) for its own connections.",
				Validators: []validator.String{stringvalidator.LengthBetween(8, 128),
					stringvalidator.AlsoRequires(path.MatchRoot("root_password_wo_version"))},
			},
			"root_password_wo_version": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Version of `root_password_wo`: change it (e.g. increment) to rotate the running cluster to the current `root_password_wo`.",
				Validators:          []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("root_password_wo"))},
			},
			"sst_method": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "State snapshot transfer method: `rsync`, `mariabackup` (mariadb) or `xtrabackup-v2` (percona). Default: `xtrabackup-v2` for percona, `mariabackup` for mariadb. " +
					"Changing it rewrites every node's option file and sets it on the running servers (no restart); the next state transfer uses it.",
				Validators:    []validator.String{stringvalidator.OneOf("rsync", "mariabackup", "xtrabackup-v2")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"parameters": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Extra `[mysqld]` settings. Keys the provider manages (bind-address, binlog_format, innodb_flush_log_at_trx_commit, sync_binlog..., and every wsrep_* key except " +
					"wsrep_slave_threads, wsrep_applier_threads, wsrep_sync_wait, wsrep_retry_autocommit, wsrep_max_ws_rows, wsrep_max_ws_size and wsrep_log_conflicts) are refused " +
					"in every spelling the server reads as them: abbreviations, `-` for `_`, and the `loose-`, `skip-`, `disable-`, `enable-`, `maximum-` prefixes. " +
					"Values may not contain `#`, quotes, backslashes, brackets or control characters. Elements whose value is not known until apply are checked by their key at plan time. " +
					"A change of a dynamic variable (the server reports it not read-only) is applied online with `SET GLOBAL` on every node and written to the option file, without a restart; " +
					"a change of a static one restarts every node once, one at a time (readers first, the writer last after it moved away, each Synced before the next). " +
					"The plan warns which path it takes and names the static variables.",
			},
			"allowed_cidrs": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Networks (IPv4 CIDRs) that may reach MySQL (3306) besides the members themselves; the root account accepts logins from them. " +
					"`0.0.0.0/0` plans with a warning. Can be changed in place.",
				Validators: []validator.List{listvalidator.ValueStringsAre(cidr(true))},
			},
			"failure_detection_timeout": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(3),
				Validators: []validator.Int64{int64validator.Between(1, 60)},
				MarkdownDescription: "Seconds the members wait for a silent node before dropping it from the cluster (Galera's `evs.suspect_timeout`; " +
					"Galera's own default is 5). Every commit stalls that long when a node dies, so it bounds a load balancer's failover. Default 3. " +
					"A change is set on the running servers through `wsrep_provider_options` and written to the option file, without a restart.",
			},
			"package_repository": packageRepositoryAttribute(),
			"install_packages": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Install the datastore's packages with apt on the servers (Debian/Ubuntu) when the image lacks them, from the image's apt sources (a cloud's mirror) and `package_repository`: set that for `percona`, whose packages neither Debian nor Ubuntu carry.",
			},
			"status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`ACTIVE` when every node is Synced and Primary; `DEGRADED` when nodes are missing or not Synced (quorum holds); `NO_QUORUM` when servers run but none is in a primary component; `DOWN` when the servers answer but no database server runs; `UNKNOWN` when no node answered.",
			},
			"nodes": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The members `node_count` makes, in node order (`pxc_node` members are on their own resources).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":                 schema.StringAttribute{Computed: true, MarkdownDescription: "Nova server id."},
					"name":               schema.StringAttribute{Computed: true, MarkdownDescription: "Server name, `<cluster>-<n>`."},
					"ip":                 schema.StringAttribute{Computed: true, MarkdownDescription: "Fixed IP on the cluster network."},
					"volume_id":          schema.StringAttribute{Computed: true, MarkdownDescription: "Cinder data volume id."},
					"availability_zone":  schema.StringAttribute{Computed: true, MarkdownDescription: "Availability zone of the server."},
					"wsrep_local_state":  schema.StringAttribute{Computed: true, MarkdownDescription: "Galera state (`Synced`, `Donor/Desynced`, `Joining`...), empty when the node did not answer."},
					"wsrep_cluster_size": schema.Int64Attribute{Computed: true, MarkdownDescription: "Cluster size as this node sees it; 0 when it did not answer."},
					"role":               schema.StringAttribute{Computed: true, MarkdownDescription: roleDescription},
					"flavor":             schema.StringAttribute{Computed: true, MarkdownDescription: nodeFlavorDescription},
					"image":              schema.StringAttribute{Computed: true, MarkdownDescription: nodeImageDescription},
				}},
			},
			"ips": schema.ListAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Node IPs in node order (the `nodes` above).",
			},
			"arbitrators": schema.Int64Attribute{
				// Refreshed by every read, like writer.
				Computed: true, MarkdownDescription: "How many arbitrator `pxc_node` members (garbd) the last read found. They vote, so they count toward the " +
					"3 voting members `node_count` must keep: 2 data nodes and an arbitrator keep quorum when one fails, and a shrink to 2 is allowed while one exists.",
			},
			"writer": schema.StringAttribute{
				// Refreshed by every read; planned unknown only when the
				// resource changes, so a failover alone never makes a plan.
				Computed: true, MarkdownDescription: writerDescription,
			},
			"security_group_id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The security group the provider made for the cluster.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"server_group_id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The server group, empty when `anti_affinity = \"none\"`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster_state_uuid": schema.StringAttribute{
				// Not kept from state: an imported cluster learns it on its first update.
				Computed: true, MarkdownDescription: "Galera's `wsrep_cluster_state_uuid`, the same on every node.",
			},
			"backup":        clusterBackupAttribute(),
			"restore_from":  clusterRestoreAttribute(),
			"tls":           clusterTLSAttribute(),
			"load_balancer": clusterLoadBalancerAttribute(),
			"timeouts":      timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
