package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

var (
	_ resource.Resource                   = (*clusterResource)(nil)
	_ resource.ResourceWithConfigure      = (*clusterResource)(nil)
	_ resource.ResourceWithImportState    = (*clusterResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*clusterResource)(nil)
	_ resource.ResourceWithValidateConfig = (*clusterResource)(nil)
)

// Default operation timeouts: a create waits for SSTs, which scale with data.
const (
	defaultCreateTimeout = 60 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultDeleteTimeout = 30 * time.Minute
	defaultReadTimeout   = 5 * time.Minute
)

// privateHostKeys is the private-state key of the verified SSH host keys.
const privateHostKeys = "host_keys"

// NewClusterResource is the pxc_cluster resource.
func NewClusterResource() resource.Resource { return &clusterResource{} }

type clusterResource struct {
	data *ProviderData
}

func (r *clusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *clusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = clusterResourceSchema(ctx)
}

func (r *clusterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	data, diags := providerDataFrom(req.ProviderData)
	resp.Diagnostics.Append(diags...)
	r.data = data
}

func (r *clusterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m clusterModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateClusterConfig(ctx, &m, &resp.Diagnostics)
}

// validateClusterConfig holds the checks that need no cloud, so they run at
// `terraform validate` and name the attribute.
func validateClusterConfig(ctx context.Context, m *clusterModel, diags *diag.Diagnostics) {
	if !m.NodeCount.IsNull() && !m.NodeCount.IsUnknown() && m.NodeCount.ValueInt64() >= 3 && m.NodeCount.ValueInt64()%2 == 0 {
		diags.AddAttributeWarning(path.Root("node_count"), "Even Node Count",
			fmt.Sprintf("A cluster of %d nodes can split into two halves of %d; neither half keeps quorum and the whole cluster stops taking writes. Use an odd node_count.",
				m.NodeCount.ValueInt64(), m.NodeCount.ValueInt64()/2))
	}
	if m.Datastore != nil && !m.Datastore.Type.IsUnknown() && !m.Datastore.Version.IsUnknown() {
		d := cluster.Datastore{Type: m.Datastore.Type.ValueString(), Version: m.Datastore.Version.ValueString()}
		if err := cluster.CheckDatastore(d); err != nil {
			diags.AddAttributeError(path.Root("datastore").AtName("version"), "Unsupported Datastore",
				fmt.Sprintf("datastore %s %s: %v", d.Type, d.Version, err))
		} else {
			if !m.SSTMethod.IsNull() && !m.SSTMethod.IsUnknown() {
				if err := cluster.CheckSSTMethod(d, m.SSTMethod.ValueString()); err != nil {
					diags.AddAttributeError(path.Root("sst_method"), "Unsupported SST Method", "sst_method: "+err.Error())
				}
			}
			if !m.Parameters.IsNull() && !m.Parameters.IsUnknown() {
				params := map[string]string{}
				diags.Append(m.Parameters.ElementsAs(ctx, &params, false)...)
				if err := cluster.CheckParameters(d, params); err != nil {
					diags.AddAttributeError(path.Root("parameters"), "Invalid Parameters", "parameters: "+err.Error())
				}
			}
		}
	}
	if !m.KeyPair.IsNull() && !m.KeyPair.IsUnknown() && (m.SSH == nil || m.SSH.PrivateKey.IsNull()) {
		diags.AddAttributeError(path.Root("ssh").AtName("private_key"), "Missing Private Key",
			"key_pair names an existing keypair, so the provider needs its private key in ssh.private_key to configure the servers.")
	}
	if m.SSH != nil {
		if m.SSH.HostKeyCheck.ValueString() == cluster.HostKeyKnownHosts && m.SSH.KnownHostsFile.IsNull() {
			diags.AddAttributeError(path.Root("ssh").AtName("known_hosts_file"), "Missing known_hosts File",
				"ssh.host_key_check is \"known_hosts\": set ssh.known_hosts_file to the file holding the servers' host keys.")
		}
		if b := m.SSH.Bastion; b != nil && b.HostKey.IsNull() && m.SSH.HostKeyCheck.ValueString() != cluster.HostKeyInsecure && m.SSH.HostKeyCheck.ValueString() != cluster.HostKeyKnownHosts {
			diags.AddAttributeError(path.Root("ssh").AtName("bastion").AtName("host_key"), "Missing Bastion Host Key",
				"The bastion's host key cannot be read from a Nova console: set ssh.bastion.host_key (authorized_keys format).")
		}
		parseCIDRs(ctx, m.SSH.SourceCIDRs, path.Root("ssh").AtName("source_cidrs"), diags)
	}
	parseCIDRs(ctx, m.AllowedCIDRs, path.Root("allowed_cidrs"), diags)
}

// ModifyPlan refuses what is not supported in place, fills defaults that
// depend on other attributes, and checks cloud references at plan time.
func (r *clusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.SSTMethod.IsUnknown() && plan.Datastore != nil && !plan.Datastore.Type.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("sst_method"),
			types.StringValue(cluster.DefaultSSTMethod(plan.Datastore.Type.ValueString())))...)
	}
	if req.State.Raw.IsNull() {
		r.checkReferences(ctx, &plan, &resp.Diagnostics)
		return
	}
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.NodeCount.IsUnknown() && plan.NodeCount.ValueInt64() != state.NodeCount.ValueInt64() {
		detail := fmt.Sprintf("The cluster has %d nodes and the configuration asks for %d. Growing and shrinking a running cluster is not supported yet; "+
			"the provider will not replace a database cluster silently. Keep node_count at %d, or replace the cluster on purpose with `terraform apply -replace`.",
			state.NodeCount.ValueInt64(), plan.NodeCount.ValueInt64(), state.NodeCount.ValueInt64())
		if missing := missingNodes(ctx, &state, plan.NodeCount.ValueInt64()); missing != "" {
			detail = fmt.Sprintf("Nodes are missing from the cloud (%s): the cluster has %d of its %d nodes. Repairing a cluster arrives with node replacement; "+
				"until then restore quorum by hand or replace the cluster with `terraform apply -replace`.", missing, state.NodeCount.ValueInt64(), plan.NodeCount.ValueInt64())
		}
		resp.Diagnostics.AddAttributeError(path.Root("node_count"), "Changing node_count Is Not Supported", detail)
	}
	notInPlace := map[string]bool{
		"sst_method":                !plan.SSTMethod.IsUnknown() && !state.SSTMethod.IsNull() && !plan.SSTMethod.Equal(state.SSTMethod),
		"failure_detection_timeout": !plan.FailureDetection.IsUnknown() && !state.FailureDetection.IsNull() && !plan.FailureDetection.Equal(state.FailureDetection),
		// Parameters are not in the cloud: an imported cluster adopts the configured ones.
		"parameters": !plan.Parameters.IsUnknown() && !state.Parameters.IsNull() && !plan.Parameters.Equal(state.Parameters),
		// A password can be adopted after import (state has none) but not changed.
		"root_password": !plan.RootPassword.IsUnknown() && !state.RootPassword.IsNull() && !plan.RootPassword.Equal(state.RootPassword),
	}
	for attr, changed := range notInPlace {
		if changed {
			resp.Diagnostics.AddAttributeError(path.Root(attr), "Change Not Supported In Place",
				fmt.Sprintf("Changing %s needs a rolling restart of every node, which is not supported yet. Revert the change, or replace the cluster on purpose with `terraform apply -replace`.", attr))
		}
	}
}

// missingNodes names the nodes of a want-node cluster whose server the last
// read did not find.
func missingNodes(ctx context.Context, state *clusterModel, want int64) string {
	var nodes []nodeModel
	if diags := state.Nodes.ElementsAs(ctx, &nodes, false); diags.HasError() {
		return ""
	}
	if int64(len(nodes)) >= want {
		return ""
	}
	present := map[string]bool{}
	for _, n := range nodes {
		present[n.Name.ValueString()] = true
	}
	var missing []string
	for i := 1; i <= int(want); i++ {
		if name := cluster.NodeName(state.Name.ValueString(), i); !present[name] {
			missing = append(missing, name)
		}
	}
	return strings.Join(missing, ", ")
}

// checkReferences resolves flavor, image and network so a typo fails the
// plan, not the apply. It needs the cloud, so it runs only when configured.
func (r *clusterResource) checkReferences(ctx context.Context, plan *clusterModel, diags *diag.Diagnostics) {
	if r.data == nil || plan.Flavor.IsUnknown() || plan.Image.IsUnknown() || plan.Network.IsUnknown() {
		return
	}
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		diags.Append(openStackErrorDiagnostic("check flavor, image and network", err))
		return
	}
	_, errs := mgr.Resolve(ctx, plan.Flavor.ValueString(), plan.Image.ValueString(), plan.Network.ValueString())
	for _, err := range errs {
		var re *cluster.ReferenceError
		if errors.As(err, &re) {
			diags.AddAttributeError(path.Root(re.Field), "Unknown "+titleCase(re.Field), re.Err.Error())
			continue
		}
		diags.Append(openStackErrorDiagnostic("check flavor, image and network", err))
	}
}

func (r *clusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(d...)
	spec, d := plan.spec(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = maskSecrets(ctx, spec.RootPassword, spec.SSH.PrivateKey)

	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	c, err := mgr.Create(ctx, spec)
	if c != nil {
		ctx = maskSecrets(ctx, c.RootPassword, c.GeneratedPrivateKey)
		plan.applyCreated(c)
		resp.Diagnostics.Append(plan.setObserved(ctx, c)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		resp.Diagnostics.Append(saveHostKeys(ctx, resp.Private, c.HostKeys)...)
	}
	if err != nil {
		resp.Diagnostics.Append(createFailed(spec.Name, c, err)...)
	}
}

// applyCreated copies values that only exist once the cluster does.
func (m *clusterModel) applyCreated(c *cluster.Cluster) {
	m.ID = types.StringValue(c.ID)
	m.RootPassword = types.StringValue(c.RootPassword)
	m.GeneratedPrivateKey = types.StringValue(c.GeneratedPrivateKey)
	if m.SecurityGroupID.IsUnknown() {
		m.SecurityGroupID = types.StringValue("")
	}
}

func (r *clusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	spec, d := state.spec(ctx)
	resp.Diagnostics.Append(d...)
	ctx = maskSecrets(ctx, spec.RootPassword, spec.SSH.PrivateKey)
	hostKeys, d := loadHostKeys(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	c, err := mgr.Read(ctx, state.ID.ValueString(), &spec, hostKeys)
	if errors.Is(err, cluster.ErrNotFound) {
		tflog.Warn(ctx, "cluster is gone from the cloud; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Error Reading Cluster",
			fmt.Sprintf("While reading cluster %s from the cloud: %v", state.ID.ValueString(), err))
		return
	}
	state.applyRead(c)
	resp.Diagnostics.Append(state.setObserved(ctx, c)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// applyRead adopts what the cloud records; on import it restores the
// configuration from server metadata. A node deleted out of band lowers
// node_count, which the next plan shows as drift.
func (m *clusterModel) applyRead(c *cluster.Cluster) {
	if c.Name != "" {
		m.Name = types.StringValue(c.Name)
	}
	if c.Datastore.Type != "" {
		m.Datastore = &datastoreModel{Type: types.StringValue(c.Datastore.Type), Version: types.StringValue(c.Datastore.Version)}
	}
	m.NodeCount = types.Int64Value(int64(len(c.Nodes)))
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
		m.AvailabilityZones, _ = types.ListValueFrom(context.Background(), types.StringType, rq.AvailabilityZones)
	}
	if m.KeyPair.IsNull() && !c.KeyPairGenerated && c.KeyPairName != "" {
		m.KeyPair = types.StringValue(c.KeyPairName)
	}
	if m.AllowedCIDRs.IsNull() && len(c.AllowedCIDRs) > 0 {
		var cidrs []string
		for _, p := range c.AllowedCIDRs {
			cidrs = append(cidrs, p.String())
		}
		m.AllowedCIDRs, _ = types.ListValueFrom(context.Background(), types.StringType, cidrs)
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
	if c.ClusterStateUUID == "" {
		// Keep the last known UUID while no node answers.
		c.ClusterStateUUID = m.ClusterStateUUID.ValueString()
	}
}

func (r *clusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state clusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(d...)
	// Computed values the plan left open keep what state has (an imported
	// cluster has no secrets in state until the configuration brings them).
	if plan.GeneratedPrivateKey.IsUnknown() {
		plan.GeneratedPrivateKey = state.GeneratedPrivateKey
	}
	if plan.RootPassword.IsUnknown() {
		plan.RootPassword = state.RootPassword
	}
	spec, d := plan.spec(ctx)
	resp.Diagnostics.Append(d...)
	hostKeys, d := loadHostKeys(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = maskSecrets(ctx, spec.RootPassword, spec.SSH.PrivateKey)
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	c, err := mgr.Read(ctx, state.ID.ValueString(), &spec, hostKeys)
	if err != nil {
		resp.Diagnostics.AddError("Error Reading Cluster", fmt.Sprintf("While updating cluster %s: %v", state.ID.ValueString(), err))
		return
	}
	if !plan.AllowedCIDRs.Equal(state.AllowedCIDRs) {
		if err := mgr.SetAllowedCIDRs(ctx, c, spec); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("allowed_cidrs"), "Error Updating Allowed CIDRs",
				fmt.Sprintf("While opening MySQL to %v on cluster %s: %v", spec.AllowedCIDRs, state.ID.ValueString(), err))
			return
		}
	}
	plan.ID = state.ID
	resp.Diagnostics.Append(plan.setObserved(ctx, c)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *clusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mgr, err := clusterManager(ctx, r.data)
	if err != nil {
		resp.Diagnostics.Append(openStackErrorDiagnostic("reach the cloud", err))
		return
	}
	known := cluster.Cluster{
		ServerGroupID:    state.ServerGroupID.ValueString(),
		KeyPairGenerated: state.KeyPair.IsNull(),
	}
	if known.KeyPairGenerated {
		known.KeyPairName = cluster.ObjectName(state.Name.ValueString(), state.ID.ValueString())
	}
	if err := mgr.Delete(ctx, state.ID.ValueString(), known); err != nil {
		resp.Diagnostics.AddError("Error Deleting Cluster",
			fmt.Sprintf("While deleting cluster %s (%s): %v\n\nDeleting again is safe: objects already gone are skipped.",
				state.Name.ValueString(), state.ID.ValueString(), err))
	}
}

func (r *clusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !uuidRegexp.MatchString(req.ID) {
		resp.Diagnostics.AddError("Unexpected Import Identifier",
			fmt.Sprintf("Import a pxc_cluster by its id, a UUID (the pxc_cluster_id metadata of its servers); got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

func saveHostKeys(ctx context.Context, p interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, keys map[string]string) diag.Diagnostics {
	if len(keys) == 0 {
		return nil
	}
	b, err := json.Marshal(keys)
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Error Saving Host Keys", err.Error())
		return d
	}
	return p.SetKey(ctx, privateHostKeys, b)
}

func loadHostKeys(ctx context.Context, p interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) (map[string]string, diag.Diagnostics) {
	b, diags := p.GetKey(ctx, privateHostKeys)
	if diags.HasError() || len(b) == 0 {
		return nil, diags
	}
	keys := map[string]string{}
	if err := json.Unmarshal(b, &keys); err != nil {
		diags.AddError("Error Loading Host Keys", "The recorded SSH host keys in private state are unreadable: "+err.Error())
	}
	return keys, diags
}
