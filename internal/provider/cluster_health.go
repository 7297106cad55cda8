package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// Values of the computed health attribute. A read sets what it found; a
// plan sets healthHealthy back, so an unhealthy cluster plans an in-place
// update whose apply repairs it, and a healthy one plans nothing.
const (
	healthHealthy          = "healthy"
	healthRepairNeeded     = "repair_needed"      // some nodes need a repair; quorum holds
	healthRecoveryNeeded   = "recovery_needed"    // no primary component: bootstrap from the survey's choice
	healthRecoveryBlocked  = "recovery_ambiguous" // no primary component and the survey cannot choose
	recoveryAttribute      = "recovery"
	healthIssuesAttribute  = "health_issues"
	healthAttribute        = "health"
	dateOnlyPatternExample = "2006-01-02"
)

var dateOnlyRegexp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// recoveryModel is the operator's override of a full-outage recovery.
type recoveryModel struct {
	BootstrapNode          types.String `tfsdk:"bootstrap_node"`
	DataLossAcknowledgedOn types.String `tfsdk:"data_loss_acknowledged_on"`
}

// healthSchemaAttributes are pxc_cluster's self-repair attributes.
func healthSchemaAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		healthAttribute: schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "`healthy`, or what the last read found: `repair_needed` (quorum holds, some nodes need a repair), `recovery_needed` " +
				"(no primary component; the survey chose the node to bootstrap), `recovery_ambiguous` (no primary component and the survey cannot choose: " +
				"set `recovery`). Any value but `healthy` plans an in-place update whose apply repairs the cluster; `health_issues` says what it will do. " +
				"A node a running backup holds desynced (`Donor/Desynced` while its tool blocks commits, Galera resyncs it after) makes `status` `DEGRADED` but needs no repair: it stays `healthy`.",
		},
		healthIssuesAttribute: schema.ListAttribute{
			ElementType: types.StringType, Computed: true,
			MarkdownDescription: "One line per unhealthy node and what apply will do (`ledger-2: mysqld not running -> start, rejoin (IST)`); after a full outage, " +
				"the survey of every node (uuid, seqno, safe_to_bootstrap) and the node that bootstraps. Empty when healthy.",
		},
		recoveryAttribute: schema.SingleNestedAttribute{
			Optional: true,
			MarkdownDescription: "Override of a full-outage recovery (no node in a primary component). Without it, apply bootstraps the node with " +
				"`safe_to_bootstrap: 1`, else the highest seqno. Ignored while the cluster has a primary component.",
			Attributes: map[string]schema.Attribute{
				"bootstrap_node": schema.StringAttribute{
					Optional: true,
					MarkdownDescription: "The node to bootstrap from (`<cluster>-<n>`), e.g. one you know holds a good copy. Required when the survey is ambiguous " +
						"(a node cannot be surveyed, nodes hold different cluster UUIDs).",
				},
				"data_loss_acknowledged_on": schema.StringAttribute{
					Optional: true,
					MarkdownDescription: "Today's date (`YYYY-MM-DD`, UTC or local). An ambiguous survey is only overridden when this carries the date of the apply: " +
						"bootstrapping a node the survey cannot justify can lose commits other nodes hold.",
					Validators: []validator.String{stringvalidator.RegexMatches(dateOnlyRegexp, "must be a date, YYYY-MM-DD")},
				},
			},
		},
	}
}

// healthValues are the health attribute and its lines for c.
func healthValues(c *cluster.Cluster) (string, []string) {
	h := c.Health
	var lines []string
	value := healthHealthy
	if o := h.Outage; o != nil {
		value = healthRecoveryNeeded
		if o.Ambiguous != nil {
			value = healthRecoveryBlocked
		}
		lines = append(lines, "full outage, no primary component: "+o.Summary())
		lines = append(lines, o.Table()...)
	}
	for _, r := range h.Repairs {
		if r.Kind == cluster.RepairBootstrap || r.Kind == cluster.RepairRecover || (h.Outage != nil && h.Outage.Ambiguous != nil && r.Kind == cluster.RepairBlocked) {
			continue // the survey table says it
		}
		if value == healthHealthy {
			value = healthRepairNeeded
		}
		lines = append(lines, r.String())
	}
	return value, lines
}

// setHealth copies c's health into the model.
func (m *clusterModel) setHealth(ctx context.Context, c *cluster.Cluster) diag.Diagnostics {
	value, lines := healthValues(c)
	m.Health = types.StringValue(value)
	var d diag.Diagnostics
	m.HealthIssues, d = types.ListValueFrom(ctx, types.StringType, nonNil(lines))
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// recoveryOverride is the configured override, empty when none.
func (m *clusterModel) recoveryOverride() cluster.RecoveryOverride {
	if m.Recovery == nil {
		return cluster.RecoveryOverride{}
	}
	return cluster.RecoveryOverride{
		BootstrapNode:          m.Recovery.BootstrapNode.ValueString(),
		DataLossAcknowledgedOn: m.Recovery.DataLossAcknowledgedOn.ValueString(),
	}
}

// planRepair makes an unhealthy cluster plan an update: health goes back to
// healthy and its issues to none, and a warning lists what apply will do.
// An ambiguous full outage is refused at plan time unless the override
// names a node and carries today's date.
func planRepair(ctx context.Context, plan, state *clusterModel, resp *resource.ModifyPlanResponse) {
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(healthAttribute), types.StringValue(healthHealthy))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(healthIssuesAttribute), types.ListValueMust(types.StringType, nil))...)
	health := state.Health.ValueString()
	if state.Health.IsNull() || state.Health.IsUnknown() || health == healthHealthy {
		return
	}
	// The repair changes what the servers report: the observed values are
	// known only after it (the framework left them at their prior values,
	// since the configuration did not change).
	for _, name := range observedAttributes {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), unknownOf(ctx, resp, name))...)
	}
	var lines []string
	resp.Diagnostics.Append(state.HealthIssues.ElementsAs(ctx, &lines, false)...)
	resp.Diagnostics.Append(repairPlannedDiagnostic(state.Name.ValueString(), health, lines))
	if health != healthRecoveryNeeded && health != healthRecoveryBlocked {
		return
	}
	if plan.Recovery == nil || plan.Recovery.BootstrapNode.IsUnknown() || plan.Recovery.DataLossAcknowledgedOn.IsUnknown() {
		if health == healthRecoveryBlocked && plan.Recovery == nil {
			resp.Diagnostics.Append(recoveryRefusedDiagnostic(&cluster.RecoveryRefusedError{Attribute: cluster.AttrBootstrapNode,
				Reason: "the survey cannot choose the node to bootstrap; name one you know holds a good copy"}))
		}
		return
	}
	o := &cluster.Outage{}
	if health == healthRecoveryBlocked {
		o.Ambiguous = errAmbiguousSurvey
	}
	if _, err := cluster.CheckRecovery(o, plan.recoveryOverride(), memberNames(ctx, state), time.Now()); err != nil {
		resp.Diagnostics.Append(recoveryRefusedDiagnostic(err))
	}
}

// errAmbiguousSurvey stands for the survey's reason at plan time; the
// warning above carries the survey itself.
var errAmbiguousSurvey = ambiguousSurvey{}

type ambiguousSurvey struct{}

func (ambiguousSurvey) Error() string { return "the survey is ambiguous, see health_issues" }

// memberNames are the node names a recovery may bootstrap from.
func memberNames(ctx context.Context, state *clusterModel) []string {
	var nodes []nodeModel
	_ = state.Nodes.ElementsAs(ctx, &nodes, false)
	seen := map[string]bool{}
	var names []string
	for _, n := range nodes {
		seen[n.Name.ValueString()] = true
		names = append(names, n.Name.ValueString())
	}
	for i := 1; i <= int(state.NodeCount.ValueInt64()); i++ {
		if name := cluster.NodeName(state.Name.ValueString(), i); !seen[name] {
			names = append(names, name)
		}
	}
	return names
}

// repair runs what the read found and reads the cluster again; on failure
// it records what it observed in state and reports the diagnostic.
func (r *clusterResource) repair(ctx context.Context, mgr *cluster.Manager, c *cluster.Cluster, plan *clusterModel, spec cluster.Spec,
	diags *diag.Diagnostics) (*cluster.Cluster, error) {
	err := mgr.Repair(ctx, c, spec, plan.recoveryOverride())
	if err != nil {
		diags.Append(repairFailed(spec.Name, err))
		return c, err
	}
	// A replaced node has a new server whose verified host key the repair
	// recorded in c.
	after, err := mgr.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		diags.Append(readClusterFailed("reading the cluster after its repair", err))
		return c, err
	}
	if !after.Health.Healthy() {
		_, lines := healthValues(after)
		err := fmt.Errorf("still unhealthy after the repair: %s", strings.Join(lines, "; "))
		diags.Append(repairFailed(spec.Name, err))
		return after, err
	}
	return after, nil
}

// observedAttributes are the computed attributes a read refreshes from the
// servers, which a repair changes.
var observedAttributes = []string{"status", "nodes", "ips", "writer", "cluster_state_uuid"}

// unknownOf is the unknown value of a top-level attribute's type.
func unknownOf(ctx context.Context, resp *resource.ModifyPlanResponse, name string) attr.Value {
	t, _ := resp.Plan.Schema.TypeAtPath(ctx, path.Root(name))
	switch tt := t.(type) {
	case types.ListType:
		return types.ListUnknown(tt.ElemType)
	default:
		return types.StringUnknown()
	}
}

// stateMembers is spec with the node count state records: the members a
// repair restores, before a changed node_count grows or shrinks them.
func stateMembers(spec cluster.Spec, state *clusterModel) *cluster.Spec {
	if n := state.NodeCount.ValueInt64(); !state.NodeCount.IsNull() && !state.NodeCount.IsUnknown() && n > 0 {
		spec.NodeCount = int(n)
	}
	return &spec
}
