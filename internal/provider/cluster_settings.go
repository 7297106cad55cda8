package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// imported reports whether state comes from an import that no apply has
// completed yet: it has no root password of either kind. Such a cluster
// adopts the configured settings and password as they are.
func (m *clusterModel) imported() bool {
	return m.RootPassword.IsNull() && m.RootPasswordVersion.IsNull()
}

// writeOnlyRootPassword is root_password_wo from the configuration (write-
// only values are in neither plan nor state); empty when not set.
func writeOnlyRootPassword(ctx context.Context, config tfsdk.Config) (string, bool) {
	var wo types.String
	if d := config.GetAttribute(ctx, path.Root("root_password_wo"), &wo); d.HasError() || wo.IsNull() || wo.IsUnknown() {
		return "", false
	}
	return wo.ValueString(), true
}

// rootPasswordChange says to which password an update rotates the cluster
// and from which: from is empty when state does not hold the current one
// (write-only), so it is read from the nodes. rotate is false when the
// password stays.
type rootPasswordChange struct {
	from, to string
	rotate   bool
}

// plannedRootPassword decides the rotation: root_password changed, or
// root_password_wo given with a new version (or replacing a root_password
// kept in state). An imported cluster adopts the configured password.
func plannedRootPassword(plan, state *clusterModel, wo string, woSet bool) rootPasswordChange {
	ch := rootPasswordChange{from: state.RootPassword.ValueString()}
	if woSet {
		ch.to = wo
		ch.rotate = !state.imported() && (!state.RootPassword.IsNull() || !plan.RootPasswordVersion.Equal(state.RootPasswordVersion))
		if ch.rotate && ch.from == wo {
			ch.rotate = false // root_password moved to root_password_wo unchanged
		}
		return ch.settled()
	}
	ch.to = plan.RootPassword.ValueString()
	if plan.RootPassword.IsNull() || plan.RootPassword.IsUnknown() {
		ch.to = ch.from
	}
	ch.rotate = !state.RootPassword.IsNull() && ch.to != ch.from
	return ch.settled()
}

// settled: without a rotation the servers have the planned password
// already (an import adopts it), so the read needs none from the nodes.
func (ch rootPasswordChange) settled() rootPasswordChange {
	if !ch.rotate && ch.from == "" {
		ch.from = ch.to
	}
	return ch
}

// planRootPasswordWO keeps root_password out of the plan when the
// write-only attribute carries the password (it wins).
func planRootPasswordWO(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if _, ok := writeOnlyRootPassword(ctx, req.Config); ok {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("root_password"), types.StringNull())...)
	}
}

// plannedSettings is the settings change from state to plan, nil when the
// plan cannot say yet (unknown values) or the cluster was just imported.
func plannedSettings(ctx context.Context, plan, state *clusterModel) *cluster.SettingsChange {
	if state.imported() || plan.Parameters.IsUnknown() || plan.SSTMethod.IsUnknown() || plan.FailureDetection.IsUnknown() {
		return nil
	}
	for _, v := range plan.Parameters.Elements() {
		if v.IsUnknown() {
			return nil
		}
	}
	from, d1 := state.spec(ctx)
	to, d2 := plan.spec(ctx)
	if d1.HasError() || d2.HasError() {
		return nil
	}
	ch := cluster.DiffSettings(from, to)
	return &ch
}

// describeSettings names what a change touches, for the plan's note.
func describeSettings(ch cluster.SettingsChange) []string {
	var what []string
	if ps := ch.Parameters(); len(ps) > 0 {
		what = append(what, "parameters ("+joinSorted(ps)+")")
	}
	if ch.FailureDetection {
		what = append(what, "failure_detection_timeout")
	}
	if ch.SSTMethod {
		what = append(what, "sst_method")
	}
	return what
}

func joinSorted(names []string) string {
	out := append([]string(nil), names...)
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// planOnlineChanges says at plan time how a settings change reaches the
// servers, asking them which changed parameters are dynamic: a static one
// means a rolling restart of every node, otherwise they are applied online.
func (r *clusterResource) planOnlineChanges(ctx context.Context, req resource.ModifyPlanRequest, plan, state *clusterModel, resp *resource.ModifyPlanResponse) {
	ch := plannedSettings(ctx, plan, state)
	if ch == nil || ch.Empty() {
		return
	}
	nodes := len(state.Nodes.Elements())
	if len(ch.Parameters()) > 0 && r.data != nil {
		static, err := r.staticParameters(ctx, req.Private, state, ch.Parameters())
		if err != nil {
			resp.Diagnostics.Append(settingsCheckFailedDiagnostic(err))
			return
		}
		if len(static) > 0 {
			resp.Diagnostics.Append(rollingRestartDiagnostic(nodes, static))
			return
		}
	}
	resp.Diagnostics.Append(onlineSettingsDiagnostic(nodes, describeSettings(*ch)))
}

// staticParameters asks the running cluster (with the credentials state
// holds, or the nodes for a write-only password) which names are static.
func (r *clusterResource) staticParameters(ctx context.Context, private privateState, state *clusterModel, names []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	spec, d := state.spec(ctx)
	if d.HasError() {
		return nil, diagError(d)
	}
	ctx = maskSecrets(ctx, spec.RootPassword, spec.SSH.PrivateKey)
	hostKeys, d := loadHostKeys(ctx, private)
	if d.HasError() {
		return nil, diagError(d)
	}
	diags := d
	mgr := clusterManager(r.data, "ask the servers which parameters are dynamic", &diags)
	if mgr == nil {
		return nil, diagError(diags)
	}
	c, err := mgr.Read(ctx, state.ID.ValueString(), &spec, hostKeys)
	if err != nil {
		return nil, err
	}
	return mgr.StaticParameters(ctx, c, spec, names)
}

// privateState is what loadHostKeys reads from.
type privateState interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

// diagError turns error diagnostics into one error, for a check whose
// failure is reported as a warning.
func diagError(diags diag.Diagnostics) error {
	var msgs []string
	for _, d := range diags.Errors() {
		msgs = append(msgs, d.Summary()+": "+d.Detail())
	}
	return errors.New(strings.Join(msgs, "; "))
}

// updateSettings applies the planned settings: online when every changed
// parameter is dynamic, else by a rolling restart of every node (which
// reads all the new settings at once). static is what the servers call
// static among the changed parameters.
func updateSettings(ctx context.Context, mgr *cluster.Manager, c *cluster.Cluster, spec cluster.Spec, ch *cluster.SettingsChange, static []string) error {
	if ch == nil || ch.Empty() {
		return nil
	}
	start := time.Now()
	if len(static) > 0 {
		return mgr.RollingRestart(ctx, c, spec, isAre(static)+" not dynamic")
	}
	if err := mgr.ApplySettings(ctx, c, spec, *ch); err != nil {
		return err
	}
	tflog.Info(ctx, fmt.Sprintf("%s applied online on %d nodes, no restart, %s", strings.Join(describeSettings(*ch), ", "), len(c.Nodes),
		time.Since(start).Round(100*time.Millisecond)), map[string]any{"phase": "settings"})
	return nil
}

// volumeGrows reports whether the plan asks for bigger data volumes (a
// smaller size is refused at plan).
func volumeGrows(plan, state *clusterModel) bool {
	return plan.Volume != nil && state.Volume != nil && !plan.Volume.Size.IsUnknown() &&
		plan.Volume.Size.ValueInt64() > state.Volume.Size.ValueInt64()
}
