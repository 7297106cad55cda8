package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Phases of a repair, named in errors and progress events.
const (
	PhaseRepair  = "repair"
	PhaseRecover = "full-outage recovery"
)

// RecoveryOverride is the operator's say in a full-outage recovery.
type RecoveryOverride struct {
	// BootstrapNode is the node to bootstrap from instead of the survey's choice.
	BootstrapNode string
	// DataLossAcknowledgedOn is a date (YYYY-MM-DD): a bootstrap the survey
	// cannot justify can lose commits, and only today's date lets it run.
	DataLossAcknowledgedOn string
}

// Attribute names of the override, as diagnostics name them.
const (
	AttrBootstrapNode          = "bootstrap_node"
	AttrDataLossAcknowledgedOn = "data_loss_acknowledged_on"
)

// RecoveryRefusedError says why a full-outage recovery will not run and
// which override attribute would let it.
type RecoveryRefusedError struct {
	Attribute string // AttrBootstrapNode or AttrDataLossAcknowledgedOn
	Reason    string
}

func (e *RecoveryRefusedError) Error() string { return e.Reason }

// CheckRecovery says which node a recovery forces ("" lets the survey
// choose), or refuses: an ambiguous survey needs the override to name a
// member and to be acknowledged with today's date (UTC or local).
func CheckRecovery(o *Outage, ov RecoveryOverride, members []string, now time.Time) (string, error) {
	if ov.BootstrapNode != "" && !contains(members, ov.BootstrapNode) {
		return "", &RecoveryRefusedError{Attribute: AttrBootstrapNode,
			Reason: fmt.Sprintf("%q is not a member of the cluster (members: %s)", ov.BootstrapNode, strings.Join(members, ", "))}
	}
	if o == nil || o.Ambiguous == nil {
		return ov.BootstrapNode, nil
	}
	if ov.BootstrapNode == "" {
		return "", &RecoveryRefusedError{Attribute: AttrBootstrapNode,
			Reason: "the survey cannot choose the node to bootstrap (" + o.Ambiguous.Error() + "); name one you know holds a good copy"}
	}
	today := []string{now.UTC().Format(time.DateOnly), now.Local().Format(time.DateOnly)}
	if !contains(today, ov.DataLossAcknowledgedOn) {
		return "", &RecoveryRefusedError{Attribute: AttrDataLossAcknowledgedOn,
			Reason: fmt.Sprintf("bootstrapping %s without a clear survey can lose commits the other nodes hold (%s); set it to today's date (%s) to accept that", ov.BootstrapNode, o.Ambiguous.Error(), today[0])}
	}
	return ov.BootstrapNode, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// rejoinAttempts is how often a node is restarted before it is replaced.
const rejoinAttempts = 2

// Repair does what c.Health (from the last Read) says: a full outage is
// recovered first (the chosen node bootstraps, the others rejoin one by
// one), then each unhealthy node in order: a donor or joiner is waited
// for, a stopped server is cleaned and started, a dead responder is
// restarted; a node that fails to rejoin twice, or whose server or volume
// is gone or in ERROR, is replaced. Nodes apply cannot act on are reported
// after everything else was done.
func (m *Manager) Repair(ctx context.Context, c *Cluster, spec Spec, ov RecoveryOverride) error {
	if c.Health.Healthy() {
		return nil
	}
	var gc GuestCluster
	if c.Health.needsGuests() {
		var err error
		if gc, err = m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx)); err != nil {
			return &PhaseError{Phase: PhaseRepair, Err: err}
		}
		defer gc.Close()
	}
	if o := c.Health.Outage; o != nil {
		force, err := CheckRecovery(o, ov, expectedMembers(c, spec), time.Now())
		if err != nil {
			return &PhaseError{Phase: PhaseRecover, Err: err}
		}
		d, err := gc.Recover(ctx, force)
		if err != nil {
			return &PhaseError{Phase: PhaseRecover, Node: d.Source, Err: err}
		}
		m.log.Progress(ctx, Event{Phase: PhaseRecover, Node: d.Source, Message: "cluster recovered: " + d.String()})
	}
	if err := m.startServers(ctx, c); err != nil {
		return err
	}
	var blocked []string
	var replace []NodeRepair
	for _, r := range c.Health.Repairs {
		switch r.Kind {
		case RepairBootstrap, RepairRecover:
			// Done by the recovery above.
		case RepairBlocked:
			if c.Health.Outage == nil || c.Health.Outage.Ambiguous == nil {
				blocked = append(blocked, r.String())
			}
		case RepairReplace:
			replace = append(replace, r)
		case RepairResponder, RepairWait:
			// A donor or joiner is only waited for: never restarted or
			// replaced while its transfer runs.
			if err := gc.RepairNode(ctx, r.Node); err != nil {
				return &PhaseError{Phase: PhaseRepair, Node: r.Node, Err: err}
			}
		default: // rejoin
			var errs []error
			for attempt := 1; attempt <= rejoinAttempts; attempt++ {
				err := gc.RepairNode(ctx, r.Node)
				if err == nil {
					errs = nil
					break
				}
				errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
				m.log.Warn(ctx, fmt.Sprintf("%s did not rejoin (attempt %d of %d): %v", r.Node, attempt, rejoinAttempts, err))
			}
			if len(errs) > 0 {
				replace = append(replace, NodeRepair{Node: r.Node, Kind: RepairReplace, Problem: "failed to rejoin twice", Action: "new server and volume, SST"})
			}
		}
	}
	// One at a time: each replacement is Synced before the next starts.
	for _, r := range replace {
		if err := m.replaceNode(ctx, c, spec, r); err != nil {
			return &PhaseError{Phase: PhaseRepair, Node: r.Node, Err: fmt.Errorf("replace (%s): %w", r.Problem, err)}
		}
	}
	if len(blocked) > 0 {
		return &PhaseError{Phase: PhaseRepair, Err: errors.New("left as they are: " + strings.Join(blocked, "; "))}
	}
	return nil
}

// startServers powers on every SHUTOFF member first, so the rejoins that
// follow find their servers running. When no member was left running (all
// powered off), nothing holds a primary component to rejoin: the servers
// are started and the apply stops, so the next plan surveys them and shows
// the full-outage recovery it would run.
func (m *Manager) startServers(ctx context.Context, c *Cluster) error {
	var started []string
	for _, r := range c.Health.Repairs {
		if r.Kind != RepairStart {
			continue
		}
		n := c.nodeNamed(r.Node)
		if n.ServerID == "" {
			continue
		}
		t := time.Now()
		s, err := m.cloud.StartServer(ctx, n.ServerID)
		if err != nil {
			return &PhaseError{Phase: PhaseRepair, Node: r.Node, Err: err}
		}
		c.setServerStatus(r.Node, s.Status)
		started = append(started, r.Node)
		m.progress(ctx, PhaseRepair, r.Node, "server "+r.Node+" powered on", t)
	}
	if len(started) == 0 || c.Health.Outage != nil || c.Health.anyMemberUntouched(c) {
		return nil
	}
	return &PhaseError{Phase: PhaseRepair, Err: fmt.Errorf("every member was powered off; %s powered on, but none holds a primary component to rejoin: apply again, the plan then surveys the nodes and shows the full-outage recovery", strings.Join(started, ", "))}
}

// anyMemberUntouched is true when some member has no repair: it runs and
// holds the primary component the repaired ones rejoin.
func (h Health) anyMemberUntouched(c *Cluster) bool {
	repaired := map[string]bool{}
	for _, r := range h.Repairs {
		repaired[r.Node] = true
	}
	for _, n := range c.Nodes {
		if !n.Extra && !repaired[n.Name] {
			return true
		}
	}
	return false
}

// replaceNode rebuilds one member under the same name and address: what is
// left of it (server, data volume) is deleted, its port kept, and grow's
// AddNode provisions a new server and volume, joins it by SST from a donor
// that is not the writer, waits Synced and puts it back into the pools.
func (m *Manager) replaceNode(ctx context.Context, c *Cluster, spec Spec, r NodeRepair) error {
	n := c.nodeNamed(r.Node)
	if n.Name == "" {
		idx := nodeIndexOfName(c.Name, r.Node)
		if idx < 1 {
			return fmt.Errorf("%s is not a numbered member of %s", r.Node, c.Name)
		}
		n = Node{Name: r.Node, Index: idx}
	}
	if n.PortID == "" {
		ports, err := m.cloud.ListPorts(ctx, openstack.PortFilter{Description: ownerDescription(c.ID)})
		if err != nil {
			return fmt.Errorf("find the port of %s: %w", r.Node, err)
		}
		for _, p := range ports {
			if p.Name == r.Node {
				n.PortID = p.ID
				if len(p.FixedIPs) > 0 {
					n.IP = p.FixedIPs[0].IP
				}
			}
		}
	}
	// The old data volume goes too: the new member starts empty and takes
	// a full state transfer (a volume left by a deleted server would also
	// share its name with the new one).
	vols, err := m.cloud.ListVolumes(ctx, volumeName(c.Name, n.Index), map[string]string{metaClusterID: c.ID, metaNodeIndex: strconv.Itoa(n.Index)})
	if err != nil {
		return fmt.Errorf("find the volume of %s: %w", r.Node, err)
	}
	old := Node{ServerID: n.ServerID}
	if err := m.deleteNodeObjects(ctx, old); err != nil {
		return err
	}
	for _, v := range vols {
		if err := m.deleteNodeObjects(ctx, Node{VolumeID: v.ID}); err != nil {
			return err
		}
	}
	n.ServerID, n.VolumeID, n.ServerStatus, n.Wsrep, n.Role = "", "", "", nil, ""
	return m.AddNode(ctx, c, spec, &n)
}

// needsGuests is true when a repair acts on running servers (a
// replacement alone brings its own).
func (h Health) needsGuests() bool {
	if h.Outage != nil {
		return true
	}
	for _, r := range h.Repairs {
		if r.Kind != RepairReplace && r.Kind != RepairBlocked {
			return true
		}
	}
	return false
}

// setServerStatus records what Nova said of a member's server.
func (c *Cluster) setServerStatus(name, status string) {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			c.Nodes[i].ServerStatus = status
		}
	}
}
