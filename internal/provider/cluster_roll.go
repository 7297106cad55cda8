package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

const (
	nodeFlavorDescription = "The flavor (name) Nova reports for the node's server. While a `flavor` change rolls, or after one stopped part way, " +
		"it shows which nodes are on which flavor; the next apply resizes only the nodes still on another."
	nodeImageDescription = "The image id the node's server was built or last rebuilt from (Nova). While an `image` change rolls, or after one stopped part way, " +
		"it shows which nodes are rebuilt; the next apply rebuilds only the others."
)

// rollServers applies a flavor change (a rolling Nova resize) and then an
// image change (a rolling rebuild keeping the data volumes) to the running
// cluster c. A failure is reported naming the node and the attribute; state
// then keeps the old flavor and image with what the nodes now run (nodes
// flavor and image), and the new host keys of rebuilt servers, so the next
// plan shows the roll is unfinished and the next apply resumes on the nodes
// still on the old setting. It returns false when Update must stop.
func rollServers(ctx context.Context, mgr *cluster.Manager, c *cluster.Cluster, spec cluster.Spec, plan, state *clusterModel, resp *resource.UpdateResponse) bool {
	type roll struct {
		attribute string
		changed   bool
		apply     func(context.Context, *cluster.Cluster, cluster.Spec) error
		want      string
	}
	rolls := []roll{
		{"flavor", !plan.Flavor.Equal(state.Flavor), mgr.ChangeFlavor, spec.Flavor},
		{"image", !plan.Image.Equal(state.Image), mgr.ChangeImage, spec.Image},
	}
	for _, r := range rolls {
		if !r.changed {
			continue
		}
		err := r.apply(ctx, c, spec)
		resp.Diagnostics.Append(saveHostKeys(ctx, resp.Private, c.HostKeys)...)
		if err == nil {
			continue
		}
		resp.Diagnostics.Append(rollFailed(r.attribute, r.want, state.ID.ValueString(), c, err))
		resp.Diagnostics.Append(state.setObserved(ctx, c)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return false
	}
	return true
}

// rollFailed reports a roll that stopped at one node, listing where each
// node is.
func rollFailed(attribute, want, id string, c *cluster.Cluster, err error) diag.Diagnostic {
	node := "a node"
	var pe *cluster.PhaseError
	if errors.As(err, &pe) && pe.Node != "" {
		node = pe.Node
	}
	var where []string
	for _, n := range c.Nodes {
		if n.Extra {
			continue
		}
		on := n.Flavor
		if attribute == "image" {
			on = n.Image
		}
		where = append(where, n.Name+" on "+on)
	}
	title := map[string]string{"flavor": "Rolling Resize Failed", "image": "Rolling Rebuild Failed"}[attribute]
	return diag.NewAttributeErrorDiagnostic(path.Root(attribute), title,
		fmt.Sprintf("Changing %s of cluster %s to %q stopped at node %s, which is back in the cluster on its old %s. "+
			"The nodes before it have the new %s, the others the old one (%s); state keeps the old %s, so the next plan shows the roll "+
			"unfinished and the next apply resumes with the nodes still on the old %s. Fix the cause and apply again.\n\n%s",
			attribute, id, want, node, attribute, attribute, strings.Join(where, ", "), attribute, attribute, err))
}

// planRoll warns what a flavor or image change will do, naming the nodes
// still on another setting (all of them, or those a stopped roll left).
func (r *clusterResource) planRoll(ctx context.Context, plan, state *clusterModel, diags *diag.Diagnostics) {
	flavor := !plan.Flavor.IsUnknown() && !plan.Flavor.Equal(state.Flavor)
	image := !plan.Image.IsUnknown() && !plan.Image.Equal(state.Image)
	if !flavor && !image {
		return
	}
	var nodes []nodeModel
	if d := state.Nodes.ElementsAs(ctx, &nodes, false); d.HasError() {
		return
	}
	wantFlavor, wantImage := plan.Flavor.ValueString(), ""
	if r.data != nil {
		var quiet diag.Diagnostics
		if mgr := clusterManager(r.data, "resolve the new flavor and image", &quiet); mgr != nil {
			var ref string
			if image {
				ref = plan.Image.ValueString()
			}
			if name, id, err := mgr.RollTargets(ctx, plan.Flavor.ValueString(), ref); err == nil {
				wantFlavor, wantImage = name, id
			}
		}
	}
	if flavor {
		pending, finished := pendingNodes(nodes, func(n nodeModel) bool { return n.Flavor.ValueString() == wantFlavor })
		diags.Append(rollPlannedDiagnostic("flavor", plan.Flavor.ValueString(),
			"resized (Nova resize, confirmed once the server answers; the server reboots)", pending, finished))
	}
	if image {
		pending, finished := pendingNodes(nodes, func(n nodeModel) bool { return wantImage != "" && n.Image.ValueString() == wantImage })
		diags.Append(rollPlannedDiagnostic("image", plan.Image.ValueString(),
			"rebuilt (Nova rebuild keeping the data volume; mysqld rejoins by IST, new host keys verified from the console)", pending, finished))
	}
}

// pendingNodes are the nodes (name and what they run) a roll still has to change.
func pendingNodes(nodes []nodeModel, done func(nodeModel) bool) (pending, finished []string) {
	for _, n := range nodes {
		if done(n) {
			finished = append(finished, n.Name.ValueString())
		} else {
			pending = append(pending, n.Name.ValueString())
		}
	}
	return pending, finished
}

func rollPlannedDiagnostic(attribute, want, how string, pending, finished []string) diag.Diagnostic {
	msg := fmt.Sprintf("Changing %s to %q is a rolling change: %d of %d nodes are %s one at a time, the writer last after it moved to another node, "+
		"each Synced and back in its load balancer pools before the next. Still on the old %s: %s.",
		attribute, want, len(pending), len(pending)+len(finished), how, attribute, orNone(pending))
	if len(finished) > 0 {
		msg += fmt.Sprintf(" Already on it (a roll that stopped part way): %s.", strings.Join(finished, ", "))
	}
	return diag.NewAttributeWarningDiagnostic(path.Root(attribute), "Rolling "+strings.ToUpper(attribute[:1])+attribute[1:]+" Change", msg)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
