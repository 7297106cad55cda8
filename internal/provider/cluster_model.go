package provider

import (
	"context"
	"net/netip"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// clusterModel is the pxc_cluster resource's state.
type clusterModel struct {
	ID                  types.String      `tfsdk:"id"`
	Name                types.String      `tfsdk:"name"`
	Datastore           *datastoreModel   `tfsdk:"datastore"`
	NodeCount           wholeNumber       `tfsdk:"node_count"`
	Flavor              types.String      `tfsdk:"flavor"`
	Image               types.String      `tfsdk:"image"`
	Network             types.String      `tfsdk:"network"`
	Volume              *volumeModel      `tfsdk:"volume"`
	AvailabilityZones   types.List        `tfsdk:"availability_zones"`
	AntiAffinity        types.String      `tfsdk:"anti_affinity"`
	KeyPair             types.String      `tfsdk:"key_pair"`
	GeneratedPrivateKey types.String      `tfsdk:"generated_private_key"`
	SSH                 *sshModel         `tfsdk:"ssh"`
	RootPassword        types.String      `tfsdk:"root_password"`
	RootPasswordWO      types.String      `tfsdk:"root_password_wo"`
	RootPasswordVersion types.Int64       `tfsdk:"root_password_wo_version"`
	SSTMethod           types.String      `tfsdk:"sst_method"`
	Parameters          types.Map         `tfsdk:"parameters"`
	AllowedCIDRs        types.List        `tfsdk:"allowed_cidrs"`
	InstallPackages     types.Bool        `tfsdk:"install_packages"`
	FailureDetection    types.Int64       `tfsdk:"failure_detection_timeout"`
	Status              types.String      `tfsdk:"status"`
	Nodes               types.List        `tfsdk:"nodes"`
	IPs                 types.List        `tfsdk:"ips"`
	SecurityGroupID     types.String      `tfsdk:"security_group_id"`
	ServerGroupID       types.String      `tfsdk:"server_group_id"`
	ClusterStateUUID    types.String      `tfsdk:"cluster_state_uuid"`
	Writer              types.String      `tfsdk:"writer"`
	Arbitrators         types.Int64       `tfsdk:"arbitrators"`
	Backup              *backupStoreModel `tfsdk:"backup"`
	// The cluster's own load balancer (cluster_load_balancer.go).
	LoadBalancer *clusterLoadBalancerModel `tfsdk:"load_balancer"`
	RestoreFrom  *restoreModel             `tfsdk:"restore_from"`
	Timeouts     timeouts.Value            `tfsdk:"timeouts"`
	// Self-repair (cluster_health.go).
	Health       types.String   `tfsdk:"health"`
	HealthIssues types.List     `tfsdk:"health_issues"`
	Recovery     *recoveryModel `tfsdk:"recovery"`

	// Read while a node is being built (cluster_package_repository.go).
	PackageRepository *packageRepositoryModel `tfsdk:"package_repository"`
	// TLS (cluster_tls.go).
	TLS            *tlsModel    `tfsdk:"tls"`
	CACertificate  types.String `tfsdk:"ca_certificate"`
	GeneratedCAKey types.String `tfsdk:"generated_ca_key"`
}

type datastoreModel struct {
	Type    types.String `tfsdk:"type"`
	Version types.String `tfsdk:"version"`
}

type volumeModel struct {
	Size types.Int64  `tfsdk:"size"`
	Type types.String `tfsdk:"type"`
}

type sshModel struct {
	User           types.String  `tfsdk:"user"`
	PrivateKey     types.String  `tfsdk:"private_key"`
	HostKeyCheck   types.String  `tfsdk:"host_key_check"`
	KnownHostsFile types.String  `tfsdk:"known_hosts_file"`
	SourceCIDRs    types.List    `tfsdk:"source_cidrs"`
	Bastion        *bastionModel `tfsdk:"bastion"`
	HostKeyTimeout types.String  `tfsdk:"host_key_timeout"`
	ConnectTimeout types.String  `tfsdk:"connect_timeout"`
}

type bastionModel struct {
	Host       types.String `tfsdk:"host"`
	Port       types.Int64  `tfsdk:"port"`
	User       types.String `tfsdk:"user"`
	PrivateKey types.String `tfsdk:"private_key"`
	HostKey    types.String `tfsdk:"host_key"`
}

type nodeModel struct {
	ID               types.String `tfsdk:"id"`
	Name             types.String `tfsdk:"name"`
	IP               types.String `tfsdk:"ip"`
	VolumeID         types.String `tfsdk:"volume_id"`
	AvailabilityZone types.String `tfsdk:"availability_zone"`
	WsrepLocalState  types.String `tfsdk:"wsrep_local_state"`
	WsrepClusterSize types.Int64  `tfsdk:"wsrep_cluster_size"`
	Role             types.String `tfsdk:"role"`
	Flavor           types.String `tfsdk:"flavor"`
	Image            types.String `tfsdk:"image"`
}

// spec turns the plan into a cluster spec; attribute errors name their path.
func (m *clusterModel) spec(ctx context.Context) (cluster.Spec, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := cluster.Spec{
		Name:             m.Name.ValueString(),
		NodeCount:        int(m.NodeCount.ValueInt64()),
		Flavor:           m.Flavor.ValueString(),
		Image:            m.Image.ValueString(),
		Network:          m.Network.ValueString(),
		KeyPair:          m.KeyPair.ValueString(),
		RootPassword:     m.RootPassword.ValueString(),
		SSTMethod:        m.SSTMethod.ValueString(),
		InstallPackages:  m.InstallPackages.ValueBool(),
		AntiAffinity:     m.AntiAffinity.ValueString(),
		FailureDetection: time.Duration(m.FailureDetection.ValueInt64()) * time.Second,
	}
	if s.AntiAffinity == "none" {
		s.AntiAffinity = ""
	}
	if m.Datastore != nil {
		s.Datastore = cluster.Datastore{Type: m.Datastore.Type.ValueString(), Version: m.Datastore.Version.ValueString()}
	}
	s.PackageRepository = m.packageRepository(ctx, &diags)
	if m.Volume != nil {
		s.Volume = cluster.VolumeSpec{SizeGiB: int(m.Volume.Size.ValueInt64()), Type: m.Volume.Type.ValueString()}
	}
	diags.Append(m.AvailabilityZones.ElementsAs(ctx, &s.AvailabilityZones, true)...)
	if !m.Parameters.IsNull() && !m.Parameters.IsUnknown() {
		diags.Append(m.Parameters.ElementsAs(ctx, &s.Parameters, false)...)
	}
	s.AllowedCIDRs = parseCIDRs(ctx, m.AllowedCIDRs, path.Root("allowed_cidrs"), &diags)

	s.SSH = cluster.SSHSpec{User: "root", HostKeyCheck: cluster.HostKeyConsole}
	if m.SSH != nil {
		if v := m.SSH.User.ValueString(); v != "" {
			s.SSH.User = v
		}
		if v := m.SSH.HostKeyCheck.ValueString(); v != "" {
			s.SSH.HostKeyCheck = v
		}
		s.SSH.PrivateKey = m.SSH.PrivateKey.ValueString()
		s.SSH.KnownHostsFile = m.SSH.KnownHostsFile.ValueString()
		s.SSH.SourceCIDRs = parseCIDRs(ctx, m.SSH.SourceCIDRs, path.Root("ssh").AtName("source_cidrs"), &diags)
		s.SSH.HostKeyTimeout = parseWaitBound(m.SSH.HostKeyTimeout, path.Root("ssh").AtName("host_key_timeout"), &diags)
		s.SSH.ConnectTimeout = parseWaitBound(m.SSH.ConnectTimeout, path.Root("ssh").AtName("connect_timeout"), &diags)
		if b := m.SSH.Bastion; b != nil {
			s.SSH.Bastion = &cluster.BastionSpec{
				Host:       b.Host.ValueString(),
				Port:       int(b.Port.ValueInt64()),
				User:       b.User.ValueString(),
				PrivateKey: b.PrivateKey.ValueString(),
				HostKey:    b.HostKey.ValueString(),
			}
			if s.SSH.Bastion.Port == 0 {
				s.SSH.Bastion.Port = 22
			}
			if s.SSH.Bastion.User == "" {
				s.SSH.Bastion.User = s.SSH.User
			}
		}
	}
	if s.SSH.PrivateKey == "" {
		// A generated keypair's key lives in state once created.
		s.SSH.PrivateKey = m.GeneratedPrivateKey.ValueString()
	}
	m.backupSpecs(&s, &diags)
	m.tlsSpec(ctx, &s, &diags)
	m.loadBalancerSpec(&s)
	return s, diags
}

// parseCIDRs reads a list of CIDRs, reporting each bad element at its index.
func parseCIDRs(ctx context.Context, l types.List, at path.Path, diags *diag.Diagnostics) []netip.Prefix {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var raw []string
	diags.Append(l.ElementsAs(ctx, &raw, false)...)
	var out []netip.Prefix
	for i, s := range raw {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			diags.Append(invalidCIDRDiagnostic(at.AtListIndex(i), s, err))
			continue
		}
		out = append(out, p)
	}
	return out
}

// setObserved copies what the cloud and the guests report into the model.
func (m *clusterModel) setObserved(ctx context.Context, c *cluster.Cluster) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(c.ID)
	m.Status = types.StringValue(c.Status)
	m.SecurityGroupID = types.StringValue(c.SecurityGroupID)
	m.ServerGroupID = types.StringValue(c.ServerGroupID)
	m.ClusterStateUUID = types.StringValue(c.ClusterStateUUID)
	m.Writer = types.StringValue(c.Writer)
	nodes := make([]nodeModel, 0, len(c.Nodes))
	var ips []string
	arbitrators := int64(0)
	for _, n := range c.Nodes {
		if n.Extra { // a pxc_node's member: on its own resource, outside node_count
			if n.Kind == cluster.KindArbitrator {
				arbitrators++
			}
			continue
		}
		ips = append(ips, n.IP)
		nm := nodeModel{
			ID:               types.StringValue(n.ServerID),
			Name:             types.StringValue(n.Name),
			IP:               types.StringValue(n.IP),
			VolumeID:         types.StringValue(n.VolumeID),
			AvailabilityZone: types.StringValue(n.AvailabilityZone),
			WsrepLocalState:  types.StringValue(""),
			WsrepClusterSize: types.Int64Value(0),
			Role:             types.StringValue(n.Role),
			Flavor:           types.StringValue(n.Flavor),
			Image:            types.StringValue(n.Image),
		}
		if n.Wsrep != nil {
			nm.WsrepLocalState = types.StringValue(n.Wsrep.LocalState)
			nm.WsrepClusterSize = types.Int64Value(int64(n.Wsrep.ClusterSize))
		}
		nodes = append(nodes, nm)
	}
	var d diag.Diagnostics
	m.Nodes, d = types.ListValueFrom(ctx, types.ObjectType{AttrTypes: nodeAttrTypes}, nodes)
	diags.Append(d...)
	if ips == nil {
		ips = []string{}
	}
	m.IPs, d = types.ListValueFrom(ctx, types.StringType, ips)
	diags.Append(d...)
	m.Arbitrators = types.Int64Value(arbitrators)
	m.setLoadBalancer(c.LoadBalancer)
	diags.Append(m.setHealth(ctx, c)...)
	return diags
}

// applyCreated copies values that only exist once the cluster does.
func (m *clusterModel) applyCreated(c *cluster.Cluster) {
	m.ID = types.StringValue(c.ID)
	m.RootPassword = types.StringValue(c.RootPassword)
	m.GeneratedPrivateKey = types.StringValue(c.GeneratedPrivateKey)
	if m.SecurityGroupID.IsUnknown() {
		m.SecurityGroupID = types.StringValue("")
	}
	m.applyBackupCreated(c)
	m.CACertificate = types.StringValue(c.CACertificate)
	m.GeneratedCAKey = types.StringValue(c.GeneratedCAKey)
}

// applyRead adopts what the cloud records and what the guests report; on
// import it restores the configuration from server metadata. A node deleted
// out of band lowers node_count, which the next plan shows as drift. c is
// not changed.
func (m *clusterModel) applyRead(ctx context.Context, c *cluster.Cluster) diag.Diagnostics {
	var diags diag.Diagnostics
	lastStateUUID := m.ClusterStateUUID.ValueString()
	if c.Name != "" {
		m.Name = types.StringValue(c.Name)
	}
	if c.Datastore.Type != "" {
		m.Datastore = &datastoreModel{Type: types.StringValue(c.Datastore.Type), Version: types.StringValue(c.Datastore.Version)}
	}
	// A server deleted out of band is still a member: apply replaces it.
	// pxc_node members are not node_count's.
	m.NodeCount = wholeNumberValue(int64(c.OwnNodes() + len(c.Health.Missing())))
	rq := c.Requested
	setIfEmpty := func(dst *types.String, v string) {
		if (dst.IsNull() || dst.IsUnknown()) && v != "" {
			*dst = types.StringValue(v)
		}
	}
	setIfEmpty(&m.Flavor, rq.Flavor)
	setIfEmpty(&m.Image, rq.Image)
	setIfEmpty(&m.Network, rq.Network)
	setIfEmpty(&m.SSTMethod, rq.SSTMethod)
	if m.AntiAffinity.IsNull() || m.AntiAffinity.IsUnknown() {
		if rq.AntiAffinity == "" {
			m.AntiAffinity = types.StringValue("none")
		} else {
			m.AntiAffinity = types.StringValue(rq.AntiAffinity)
		}
	}
	if m.Volume == nil && rq.Volume.SizeGiB > 0 {
		m.Volume = &volumeModel{Size: types.Int64Value(int64(rq.Volume.SizeGiB)), Type: types.StringNull()}
		if rq.Volume.Type != "" {
			m.Volume.Type = types.StringValue(rq.Volume.Type)
		}
	}
	if m.AvailabilityZones.IsNull() && len(rq.AvailabilityZones) > 0 {
		var d diag.Diagnostics
		m.AvailabilityZones, d = types.ListValueFrom(ctx, types.StringType, rq.AvailabilityZones)
		diags.Append(d...)
	}
	if m.KeyPair.IsNull() && !c.KeyPairGenerated && c.KeyPairName != "" {
		m.KeyPair = types.StringValue(c.KeyPairName)
	}
	if m.AllowedCIDRs.IsNull() && len(c.AllowedCIDRs) > 0 {
		var cidrs []string
		for _, p := range c.AllowedCIDRs {
			cidrs = append(cidrs, p.String())
		}
		var d diag.Diagnostics
		m.AllowedCIDRs, d = types.ListValueFrom(ctx, types.StringType, cidrs)
		diags.Append(d...)
	}
	if m.FailureDetection.IsNull() || m.FailureDetection.IsUnknown() {
		secs := int64(rq.FailureDetection.Seconds())
		if secs == 0 {
			secs = 5 // a cluster that did not record it runs Galera's default
		}
		m.FailureDetection = types.Int64Value(secs)
	}
	if m.InstallPackages.IsNull() {
		m.InstallPackages = types.BoolValue(false)
	}
	// An import (or a cluster made before TLS) has no CA in state: the
	// servers never had its key, so it stays unknown to the provider.
	if m.CACertificate.IsNull() || m.CACertificate.IsUnknown() {
		m.CACertificate = types.StringValue("")
		if m.TLS != nil && !m.TLS.CACert.IsNull() {
			m.CACertificate = m.TLS.CACert
		}
	}
	if m.GeneratedCAKey.IsNull() || m.GeneratedCAKey.IsUnknown() {
		m.GeneratedCAKey = types.StringValue("")
	}
	diags.Append(m.setObserved(ctx, c)...)
	if c.ClusterStateUUID == "" {
		// Keep the last known UUID while no node answers.
		m.ClusterStateUUID = types.StringValue(lastStateUUID)
	}
	return diags
}

// parseWaitBound reads a wait bound such as "5m"; null or unknown is zero
// (the cluster's default). The validator has refused anything else.
func parseWaitBound(v types.String, at path.Path, diags *diag.Diagnostics) time.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil || d <= 0 {
		diags.Append(invalidDurationDiagnostic(at, v.ValueString()))
		return 0
	}
	return d
}
