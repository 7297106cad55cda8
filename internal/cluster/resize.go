package cluster

import (
	"context"
	"fmt"
	"sort"
)

// Resize is what changing node_count does to a cluster's members.
type Resize struct {
	// Add names the nodes to add, in the order they join (ascending).
	Add []string
	// Remove names the nodes to remove, in the order they leave (highest
	// numbered first).
	Remove []string
	// Missing names members within the new count that the cloud lost:
	// bringing them back is a repair, not a resize.
	Missing []string
}

// PlanResize says which nodes a cluster named name with members have
// (node names) gets or loses at want nodes. Nodes are <name>-<n>: a grow
// adds the numbers after the highest, a shrink removes the highest.
func PlanResize(name string, have []string, want int) Resize {
	var r Resize
	present := map[int]bool{}
	highest := 0 // the highest member that stays
	for _, h := range have {
		i := nodeIndexOfName(name, h)
		if i < 1 {
			continue
		}
		present[i] = true
		if i <= want {
			highest = max(highest, i)
		}
	}
	for i := 1; i <= highest; i++ {
		if !present[i] {
			r.Missing = append(r.Missing, NodeName(name, i))
		}
	}
	for i := highest + 1; i <= want; i++ {
		r.Add = append(r.Add, NodeName(name, i))
	}
	var gone []int
	for i := range present {
		if i > want {
			gone = append(gone, i)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gone)))
	for _, i := range gone {
		r.Remove = append(r.Remove, NodeName(name, i))
	}
	return r
}

// nodeIndexOfName is n of "<name>-<n>", 0 when node is not named so.
func nodeIndexOfName(name, node string) int {
	var i int
	if _, err := fmt.Sscanf(node, name+"-%d", &i); err != nil || NodeName(name, i) != node {
		return 0
	}
	return i
}

// Resize brings the cluster to spec.NodeCount members: new nodes join one
// at a time, each Synced (and in the pools) before the next; then the
// highest-numbered nodes leave one at a time, the writer moved away first
// (RemoveNode). c follows every step, so after a failure it holds what
// exists and the next apply continues from there. A member the cloud lost
// within the count is not recreated here (a repair).
func (m *Manager) Resize(ctx context.Context, c *Cluster, spec Spec) error {
	names := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	plan := PlanResize(c.Name, names, spec.NodeCount)
	if len(plan.Missing) > 0 {
		return &PhaseError{Phase: PhaseMembership, Err: fmt.Errorf("nodes %v are missing from the cloud: repair the cluster before changing node_count", plan.Missing)}
	}
	if err := ValidateNodeCount(spec.NodeCount); err != nil {
		return &PhaseError{Phase: PhaseValidate, Err: err}
	}
	for _, name := range plan.Add {
		i := nodeIndexOfName(c.Name, name)
		n := &Node{Index: i, Name: name}
		if len(spec.AvailabilityZones) > 0 {
			n.AvailabilityZone = spec.AvailabilityZones[(i-1)%len(spec.AvailabilityZones)]
		}
		if err := m.AddNode(ctx, c, spec, n); err != nil {
			return err
		}
	}
	for _, name := range plan.Remove {
		if err := m.RemoveNode(ctx, c, spec, name); err != nil {
			return err
		}
	}
	if len(plan.Add)+len(plan.Remove) > 0 {
		m.readLive(ctx, c, spec, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys))
		m.log.Progress(ctx, Event{Phase: PhaseMembership, Message: fmt.Sprintf("cluster has %d members, status %s", len(c.Nodes), c.Status)})
	}
	return nil
}
