package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
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

// NewClusterResource is the pxc_cluster resource.
func NewClusterResource() resource.Resource { return &clusterResource{} }

type clusterResource struct {
	resourceBase
}

func (r *clusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *clusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = clusterResourceSchema(ctx)
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
// `terraform validate` and name the attribute. Unknown values (a module's
// variables, another resource's outputs) are skipped element by element.
func validateClusterConfig(ctx context.Context, m *clusterModel, diags *diag.Diagnostics) {
	if !m.NodeCount.IsNull() && !m.NodeCount.IsUnknown() && m.NodeCount.ValueInt64() >= 3 && m.NodeCount.ValueInt64()%2 == 0 {
		diags.Append(evenNodeCountDiagnostic(m.NodeCount.ValueInt64()))
	}
	if !m.NodeCount.IsNull() && !m.NodeCount.IsUnknown() && m.NodeCount.ValueInt64() == cluster.MinDataNodes {
		diags.Append(twoDataNodesDiagnostic())
	}
	if m.Datastore != nil && !m.Datastore.Type.IsUnknown() && !m.Datastore.Version.IsUnknown() {
		d := cluster.Datastore{Type: m.Datastore.Type.ValueString(), Version: m.Datastore.Version.ValueString()}
		if err := cluster.CheckDatastore(d); err != nil {
			diags.Append(unsupportedDatastoreDiagnostic(d, err))
		} else {
			if !m.SSTMethod.IsNull() && !m.SSTMethod.IsUnknown() {
				if err := cluster.CheckSSTMethod(d, m.SSTMethod.ValueString()); err != nil {
					diags.Append(unsupportedSSTMethodDiagnostic(err))
				}
			}
			checkParameters(d, m.Parameters, diags)
		}
	}
	if !m.RootPassword.IsNull() && !m.RootPassword.IsUnknown() {
		if err := cluster.CheckRootPassword(m.RootPassword.ValueString()); err != nil {
			diags.Append(invalidRootPasswordDiagnostic(err))
		}
	}
	if !m.KeyPair.IsNull() && !m.KeyPair.IsUnknown() && (m.SSH == nil || m.SSH.PrivateKey.IsNull()) {
		diags.Append(missingPrivateKeyDiagnostic())
	}
	m.packageRepository(ctx, diags)
	if m.SSH != nil {
		if m.SSH.HostKeyCheck.ValueString() == cluster.HostKeyKnownHosts && m.SSH.KnownHostsFile.IsNull() {
			diags.Append(missingKnownHostsFileDiagnostic())
		}
		if b := m.SSH.Bastion; b != nil && b.HostKey.IsNull() && m.SSH.HostKeyCheck.ValueString() != cluster.HostKeyInsecure && m.SSH.HostKeyCheck.ValueString() != cluster.HostKeyKnownHosts {
			diags.Append(missingBastionHostKeyDiagnostic())
		}
	}
	// CIDR lists: the schema checks each known element.
	checkTimeouts(ctx, m.Timeouts, diags)
	validateBackupConfig(m, diags)
	validateTLSConfig(ctx, m, diags)
}

// checkParameters checks every parameters element whose value is known the
// way the guest library will, each at its own path (a key is always known;
// an unknown value is checked by its key alone).
func checkParameters(d cluster.Datastore, params types.Map, diags *diag.Diagnostics) {
	if params.IsNull() || params.IsUnknown() {
		return
	}
	elems := params.Elements()
	keys := make([]string, 0, len(elems))
	for k := range elems {
		keys = append(keys, k)
	}
	sort.Strings(keys) // diagnostics in a stable order
	for _, k := range keys {
		value := ""
		if s, ok := elems[k].(types.String); ok && !s.IsUnknown() {
			value = s.ValueString()
		}
		if err := cluster.CheckParameters(d, map[string]string{k: value}); err != nil {
			diags.Append(invalidParameterDiagnostic(path.Root("parameters").AtMapKey(k), err))
		}
	}
}

// checkTimeouts refuses a zero or negative timeout, which the timeouts
// attribute's own duration check accepts.
func checkTimeouts(ctx context.Context, t timeouts.Value, diags *diag.Diagnostics) {
	if t.IsNull() || t.IsUnknown() {
		return
	}
	const unset = time.Duration(1) // any positive value: an unset timeout is fine
	for _, op := range []struct {
		name string
		get  func(context.Context, time.Duration) (time.Duration, diag.Diagnostics)
	}{{"create", t.Create}, {"update", t.Update}, {"delete", t.Delete}} {
		if d, ds := op.get(ctx, unset); !ds.HasError() && d <= 0 {
			diags.Append(invalidTimeoutDiagnostic(path.Root("timeouts").AtName(op.name), d))
		}
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
	wo, woSet := writeOnlyRootPassword(ctx, req.Config)
	if woSet {
		spec.RootPassword = wo
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = maskSecrets(ctx, append(backupSecrets(spec), spec.RootPassword, spec.SSH.PrivateKey)...)

	mgr := clusterManager(r.data, fmt.Sprintf("create cluster %q", spec.Name), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	c, err := mgr.Create(ctx, spec)
	if c != nil {
		ctx = maskSecrets(ctx, c.RootPassword, c.GeneratedPrivateKey)
		if c.BackupStore != nil {
			ctx = maskSecrets(ctx, c.BackupStore.Key, c.BackupStore.ApplicationCredentialSecret)
		}
		plan.applyCreated(c)
		if woSet {
			plan.RootPassword = types.StringNull() // write-only: never in state
		}
		resp.Diagnostics.Append(plan.setObserved(ctx, c)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		resp.Diagnostics.Append(saveHostKeys(ctx, resp.Private, c.HostKeys)...)
		resp.Diagnostics.Append(saveBackupCredential(ctx, resp.Private, c.BackupCredentialID)...)
	}
	var pe *cluster.PhaseError
	switch {
	case err != nil && errors.As(err, &pe) && pe.Phase == cluster.PhaseRestore:
		resp.Diagnostics.Append(restoreFailedDiagnostic(spec.Name, err, c == nil))
	case err != nil:
		resp.Diagnostics.Append(createFailed(spec.Name, c, explainDeadline(ctx, "timeouts.create", timeout, err))...)
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
	lookForLoadBalancer(&spec, &state)
	ctx = maskSecrets(ctx, spec.RootPassword, spec.SSH.PrivateKey)
	hostKeys, d := loadHostKeys(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	mgr := clusterManager(r.data, "read cluster "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	c, err := mgr.Read(ctx, state.ID.ValueString(), &spec, hostKeys)
	if errors.Is(err, cluster.ErrNotFound) {
		tflog.Warn(ctx, "cluster is gone from the cloud; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(readClusterFailed(fmt.Sprintf("reading cluster %s from the cloud", state.ID.ValueString()), err))
		return
	}
	resp.Diagnostics.Append(state.applyRead(ctx, c)...)
	resp.Diagnostics.Append(saveCertificatesExpire(ctx, resp.Private, c)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
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
	wo, woSet := writeOnlyRootPassword(ctx, req.Config)
	if woSet {
		plan.RootPassword = types.StringNull() // write-only: never in state
	}
	password := plannedRootPassword(&plan, &state, wo, woSet)
	settings := plannedSettings(ctx, &plan, &state)
	spec, d := plan.spec(ctx)
	resp.Diagnostics.Append(d...)
	hostKeys, d := loadHostKeys(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = maskSecrets(ctx, append(backupSecrets(spec), password.from, password.to, spec.SSH.PrivateKey)...)
	mgr := clusterManager(r.data, "update cluster "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	// Read with the password the servers have now (empty: read from the
	// nodes, for a write-only one) and the members state knows (a grow's
	// new names are not missing), then work with the planned ones.
	spec.RootPassword = password.from
	members := stateMembers(spec, &state)
	lookForLoadBalancer(members, &state)
	c, err := mgr.Read(ctx, state.ID.ValueString(), members, hostKeys)
	if err != nil {
		resp.Diagnostics.Append(readClusterFailed("updating cluster "+state.ID.ValueString(), err))
		return
	}
	spec.RootPassword = members.RootPassword
	ctx = maskSecrets(ctx, spec.RootPassword) // a write-only one read from the nodes
	if !c.Health.Healthy() {
		// Repair first: every other change needs every member. On failure
		// the state keeps the old settings and what was observed (still
		// unhealthy), so the next plan shows the repair left and the rest.
		members.RootPassword = spec.RootPassword
		var failed diag.Diagnostics
		c, _ = r.repair(ctx, mgr, c, &plan, *members, &failed)
		resp.Diagnostics.Append(failed...)
		resp.Diagnostics.Append(saveHostKeys(ctx, resp.Private, c.HostKeys)...)
		if failed.HasError() {
			resp.Diagnostics.Append(state.setObserved(ctx, c)...)
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
	if backupChanged(plan.Backup, state.Backup) {
		created, err := setBackupSchedule(ctx, mgr, state.ID.ValueString(), spec, &plan, &state)
		if err != nil {
			resp.Diagnostics.Append(updateBackupFailed(state.ID.ValueString(), err))
			return
		}
		resp.Diagnostics.Append(replaceBackupCredential(ctx, mgr, req.Private, resp.Private, created, plan.Backup == nil)...)
	}
	ctx = maskSecrets(ctx, spec.RootPassword) // a write-only one read from the nodes
	if password.to == "" {
		password.to = spec.RootPassword // as the nodes have it
	}
	// Ask before changing anything: a static parameter means a rolling restart.
	var static []string
	if settings != nil && len(settings.Parameters()) > 0 {
		if static, err = mgr.StaticParameters(ctx, c, spec, settings.Parameters()); err != nil {
			resp.Diagnostics.Append(updateSettingsFailed(state.ID.ValueString(), err))
			return
		}
	}
	if password.rotate {
		spec.RootPassword = password.to
		if err := mgr.RotateRootPassword(ctx, c, spec); err != nil {
			resp.Diagnostics.Append(rotateRootPasswordFailed(state.ID.ValueString(), err))
			return
		}
	}
	spec.RootPassword = password.to
	if !plan.AllowedCIDRs.Equal(state.AllowedCIDRs) {
		if err := mgr.SetAllowedCIDRs(ctx, c, spec); err != nil {
			resp.Diagnostics.Append(updateAllowedCIDRsFailed(spec.AllowedCIDRs, state.ID.ValueString(), err))
			return
		}
	}
	if err := updateSettings(ctx, mgr, c, spec, settings, static); err != nil {
		resp.Diagnostics.Append(updateSettingsFailed(state.ID.ValueString(), err))
		return
	}
	if err := updateClusterTLS(ctx, mgr, c, &plan, &state, &spec); err != nil {
		resp.Diagnostics.Append(updateTLSFailed(state.ID.ValueString(), err))
		return
	}
	resp.Diagnostics.Append(saveCertificatesExpire(ctx, resp.Private, c)...)
	if volumeGrows(&plan, &state) {
		if err := mgr.GrowVolumes(ctx, c, spec); err != nil {
			resp.Diagnostics.Append(growVolumesFailed(state.ID.ValueString(), spec.Volume.SizeGiB, err))
			return
		}
	}
	if !rollServers(ctx, mgr, c, spec, &plan, &state, resp) {
		return
	}
	plan.ID = state.ID
	if c.OwnNodes() != spec.NodeCount {
		err := mgr.Resize(ctx, c, spec)
		resp.Diagnostics.Append(saveHostKeys(ctx, resp.Private, c.HostKeys)...)
		if err != nil {
			// State records the members that exist, so the next apply continues.
			plan.NodeCount = wholeNumberValue(int64(c.OwnNodes()))
			resp.Diagnostics.Append(resizeClusterFailed(state.ID.ValueString(), spec.NodeCount, explainDeadline(ctx, "timeouts.update", timeout, err)))
		}
	}
	// Last, so that it takes the nodes as they now are.
	if !resp.Diagnostics.HasError() {
		if err := mgr.SetLoadBalancer(ctx, c, spec.LoadBalancer); err != nil {
			resp.Diagnostics.Append(updateLoadBalancerFailed(state.ID.ValueString(), explainDeadline(ctx, "timeouts.update", timeout, err)))
		}
	}
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
	mgr := clusterManager(r.data, "delete cluster "+state.ID.ValueString(), &resp.Diagnostics)
	if mgr == nil {
		return
	}
	known := cluster.Cluster{
		Name:             state.Name.ValueString(),
		ServerGroupID:    state.ServerGroupID.ValueString(),
		KeyPairGenerated: state.KeyPair.IsNull(),
	}
	if known.KeyPairGenerated {
		known.KeyPairName = cluster.ObjectName(state.Name.ValueString(), state.ID.ValueString())
	}
	var d2 diag.Diagnostics
	known.BackupCredentialID, d2 = loadBackupCredential(ctx, req.Private)
	resp.Diagnostics.Append(d2...)
	if err := mgr.Delete(ctx, state.ID.ValueString(), known); err != nil {
		resp.Diagnostics.Append(deleteClusterFailed(state.Name.ValueString(), state.ID.ValueString(), err))
	}
}

func (r *clusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !uuidRegexp.MatchString(req.ID) {
		resp.Diagnostics.Append(unexpectedImportIDDiagnostic("pxc_cluster", "its id, a UUID (the pxc_cluster_id metadata of its servers)", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
