package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// Cluster statuses a read reports when the servers answer but no node is in
// a primary component (see also StatusActive, StatusDegraded, StatusUnknown).
const (
	StatusNoQuorum = "NO_QUORUM" // servers run, none in a primary component
	StatusDown     = "DOWN"      // servers reachable, no database server runs
)

// Repair kinds: what apply does about one node.
const (
	RepairRejoin    = "rejoin"    // start the server; it rejoins by IST or SST
	RepairResponder = "responder" // restart the health responder
	RepairStart     = "start"     // power the server on (Nova start), then rejoin
	RepairWait      = "wait"      // in a state transfer: wait, never restart
	RepairReplace   = "replace"   // new server and volume, same name, SST
	RepairBootstrap = "bootstrap" // full outage: the node the cluster restarts from
	RepairRecover   = "recover"   // full outage: rejoins after the bootstrap
	RepairBlocked   = "blocked"   // apply cannot act on it (the Problem says why)
)

// NodeRepair is one unhealthy node and what apply will do about it.
type NodeRepair struct {
	Node    string
	Problem string
	Kind    string
	Action  string
}

// String is the plan's line: "ledger-2: mysqld not running -> start, rejoin (IST)".
func (r NodeRepair) String() string {
	return fmt.Sprintf("%s: %s -> %s", r.Node, r.Problem, r.Action)
}

// Health is what a read found wrong with a cluster and what an apply will
// do about it; the zero value is a healthy cluster.
type Health struct {
	Repairs []NodeRepair
	// Outage is set when no node is in a primary component.
	Outage *Outage
}

// Healthy is true when apply has nothing to repair.
func (h Health) Healthy() bool { return len(h.Repairs) == 0 && h.Outage == nil }

// Replacements names the nodes apply will rebuild.
func (h Health) Replacements() []string {
	var out []string
	for _, r := range h.Repairs {
		if r.Kind == RepairReplace {
			out = append(out, r.Node)
		}
	}
	return out
}

// Missing names the members whose server is gone (apply rebuilds them).
func (h Health) Missing() []string {
	var out []string
	for _, r := range h.Repairs {
		if r.Kind == RepairReplace && r.Problem == problemServerMissing {
			out = append(out, r.Node)
		}
	}
	return out
}

const problemServerMissing = "server missing"

// Outage is a full outage: every node's survey and the bootstrap decision.
type Outage struct {
	Decision guest.Decision
	// Ambiguous is why no node can be chosen without the operator (a node
	// not surveyed, different cluster UUIDs...); nil when the choice is clear.
	Ambiguous error
}

// Table is the survey, one line per node, for the plan's warning.
func (o Outage) Table() []string {
	lines := make([]string, 0, len(o.Decision.Nodes))
	for _, n := range o.Decision.Nodes {
		role := "rejoins"
		switch {
		case n.Node == o.Decision.Source:
			role = "BOOTSTRAPS"
		case slices.Contains(o.Decision.Outside, n.Node):
			role = "waits for pc.recovery, else stopped and surveyed"
		}
		switch {
		case n.Err != nil:
			lines = append(lines, fmt.Sprintf("%s: not surveyed (%v)", n.Node, n.Err))
		case n.Running:
			lines = append(lines, fmt.Sprintf("%s: server running, primary=%v, uuid %s, seqno %d -> %s", n.Node, n.Primary, n.UUID, n.Seqno, role))
		default:
			how := "grastate.dat"
			if n.Recovered {
				how = "--wsrep-recover"
			}
			safe := 0
			if n.SafeToBootstrap {
				safe = 1
			}
			lines = append(lines, fmt.Sprintf("%s: uuid %s, seqno %d (%s), safe_to_bootstrap %d -> %s", n.Node, n.UUID, n.Seqno, how, safe, role))
		}
	}
	return lines
}

// Summary says in one sentence what apply will do, or why it cannot.
func (o Outage) Summary() string {
	if o.Ambiguous != nil {
		return "no node can be chosen to bootstrap from: " + o.Ambiguous.Error()
	}
	if o.Decision.Source == "" {
		return o.Decision.Reason
	}
	return fmt.Sprintf("%s bootstraps: %s; the others rejoin one by one", o.Decision.Source, o.Decision.Reason)
}

// nodeFacts is what a read knows of one expected member.
type nodeFacts struct {
	name   string
	server *Node             // nil: no server of that name
	health *guest.NodeHealth // nil: not asked
	volume bool              // the spec wants a data volume
}

// planRepairs decides, for every expected member, what is wrong and what
// apply does about it. donor is the node a replacement copies from.
func planRepairs(facts []nodeFacts, donor string) []NodeRepair {
	var out []NodeRepair
	add := func(f nodeFacts, kind, problem, action string) {
		out = append(out, NodeRepair{Node: f.name, Kind: kind, Problem: problem, Action: action})
	}
	replace := "new server and volume, SST from " + cmpOr(donor, "a Synced member")
	for _, f := range facts {
		h := f.health
		switch {
		case f.server == nil:
			add(f, RepairReplace, problemServerMissing, replace)
		case f.server.ServerStatus == "ERROR":
			add(f, RepairReplace, "server in ERROR", replace)
		case f.volume && f.server.VolumeID == "":
			add(f, RepairReplace, "data volume missing", replace)
		case f.server.ServerStatus == "SHUTOFF":
			add(f, RepairStart, "server SHUTOFF", "power on (Nova start), start mysqld, rejoin (IST)")
		case h == nil:
			// Not asked (no SSH access): nothing to say.
		case h.Err != nil:
			add(f, RepairBlocked, "unreachable over SSH ("+firstLine(h.Err.Error())+")", "nothing until it answers")
		case h.DesyncedByBackup():
			// Galera resyncs it when the backup's stage ends.
		case h.InTransfer():
			add(f, RepairWait, "in a state transfer ("+cmpOr(h.Status.LocalState, "SST running")+")", "wait for Synced, not restarted")
		case !h.MysqldRunning:
			add(f, RepairRejoin, "mysqld not running", "start, rejoin (IST)")
		case h.Status.Err != nil:
			add(f, RepairRejoin, "mysqld runs but does not answer", "wait, else restart and rejoin")
		case !h.Status.Healthy():
			add(f, RepairRejoin, fmt.Sprintf("mysqld runs as %s/%s", h.Status.ClusterStatus, h.Status.LocalState), "restart, rejoin (IST)")
		case !h.ResponderUp:
			add(f, RepairResponder, "health responder down", "restart")
		}
	}
	return out
}

// planOutage turns a survey into the per-node rows of a full-outage recovery.
func planOutage(o *Outage) []NodeRepair {
	var out []NodeRepair
	for _, n := range o.Decision.Nodes {
		r := NodeRepair{Node: n.Node, Problem: "no primary component", Kind: RepairRecover, Action: "rejoin after the bootstrap"}
		switch {
		case o.Ambiguous != nil:
			r.Kind, r.Action = RepairBlocked, "nothing until recovery.bootstrap_node names the node to bootstrap"
		case n.Node == o.Decision.Source:
			r.Kind, r.Action = RepairBootstrap, "bootstrap a new primary component ("+o.Decision.Reason+")"
		case slices.Contains(o.Decision.Outside, n.Node):
			r.Problem = "runs outside a primary component"
			r.Action = "wait for pc.recovery, else stop it; the most advanced node then bootstraps, the others rejoin"
		}
		out = append(out, r)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// surveyTimeout bounds a full-outage survey: --wsrep-recover starts each
// stopped server once to read its position.
const surveyTimeout = 3 * time.Minute

// readHealth finds what apply would repair. A healthy gate costs nothing
// more; otherwise every node is probed, and when no node is in a primary
// component every node is surveyed and the bootstrap node decided. With no
// guest handle (gc nil: too few servers left to open one) only what the
// cloud shows is planned.
func (m *Manager) readHealth(ctx context.Context, c *Cluster, spec Spec, a guestAccess, gc GuestCluster, st guest.Status) {
	c.Health = Health{}
	expected := expectedMembers(c, spec)
	present := map[string]*Node{}
	for i := range c.Nodes {
		present[c.Nodes[i].Name] = &c.Nodes[i]
	}
	missing := false
	for _, name := range expected {
		if present[name] == nil {
			missing = true
		}
	}
	if st.OK() && len(st.Nodes) > 0 && !missing && !c.anyServerDown() {
		return
	}
	var hs []guest.NodeHealth
	if gc != nil {
		var err error
		if hs, err = gc.Health(ctx); err != nil {
			m.log.Warn(ctx, "probing node health: "+err.Error())
		}
	}
	byName := map[string]*guest.NodeHealth{}
	reachable, running, primary := false, false, false
	for i := range hs {
		h := &hs[i]
		byName[h.Node] = h
		if h.Err != nil {
			continue
		}
		reachable = true
		running = running || h.MysqldRunning
		primary = primary || (h.Status.Err == nil && h.Status.ClusterStatus == "Primary")
	}
	if reachable && !primary {
		survey, err := m.surveyAnswering(ctx, c, spec, a, gc, hs)
		if err != nil {
			m.log.Warn(ctx, "surveying the nodes after a full outage: "+err.Error())
		}
		d, derr := guest.Decide(survey, "")
		c.Health.Outage = &Outage{Decision: d, Ambiguous: derr}
		c.Status = StatusDown
		if running {
			c.Status = StatusNoQuorum
		}
		c.Health.Repairs = planOutage(c.Health.Outage)
	}
	facts := make([]nodeFacts, 0, len(expected))
	for _, name := range expected {
		f := nodeFacts{name: name, server: present[name], health: byName[name], volume: spec.Volume.SizeGiB > 0}
		if c.Health.Outage != nil && f.server != nil && f.server.ServerStatus == "ACTIVE" {
			continue // the recovery rows say what happens to it
		}
		facts = append(facts, f)
	}
	c.Health.Repairs = append(c.Health.Repairs, planRepairs(facts, replacementDonor(c, byName))...)
}

// surveyAnswering surveys the nodes that answered the health probe hs, for
// at most surveyTimeout. A node that did not answer is not asked again: its
// survey would retry SSH for the whole surveyTimeout (every plan and
// destroy of a cluster with a partitioned node waited 3 minutes for it),
// and it counts as not surveyed, which makes the decision ambiguous just as
// a failed survey of it does. The others still report their positions, so
// the plan shows what a recovery.bootstrap_node override would start from.
func (m *Manager) surveyAnswering(ctx context.Context, c *Cluster, spec Spec, a guestAccess, gc GuestCluster, hs []guest.NodeHealth) ([]guest.NodeRecovery, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), surveyTimeout)
	defer cancel()
	silent := map[string]error{}
	for _, h := range hs {
		if h.Err != nil {
			silent[h.Node] = h.Err
		}
	}
	if len(silent) == 0 {
		return gc.Survey(ctx)
	}
	answering := *c
	answering.Nodes = slices.DeleteFunc(slices.Clone(c.Nodes), func(n Node) bool { return silent[n.Name] != nil })
	sub, err := m.openGuests(spec, &answering, a, nil)
	if err != nil {
		// Too few nodes answered to open a guest cluster of them: survey
		// all, waiting for the silent ones.
		return gc.Survey(ctx)
	}
	defer sub.Close()
	got, err := sub.Survey(ctx)
	byName := map[string]guest.NodeRecovery{}
	for _, r := range got {
		byName[r.Node] = r
	}
	out := make([]guest.NodeRecovery, 0, len(hs))
	for _, h := range hs {
		if e := silent[h.Node]; e != nil {
			out = append(out, guest.NodeRecovery{Node: h.Node, Seqno: -1, Err: fmt.Errorf("not surveyed: it did not answer the health probe: %w", e)})
		} else if r, ok := byName[h.Node]; ok {
			out = append(out, r)
		}
	}
	return out, err
}

// expectedMembers names the nodes the cluster should have: every server
// found, plus the numbered names up to the spec's node count (the members
// the caller knows of: an update reads with the count in state, so the
// new names of a grow are not missing). A pxc_node member is its own
// resource's to repair, not the cluster's.
func expectedMembers(c *Cluster, spec Spec) []string {
	want := spec.NodeCount
	if want == 0 {
		want = c.Requested.NodeCount
	}
	seen := map[string]bool{}
	var names []string
	for i := 1; i <= want; i++ {
		names = append(names, NodeName(c.Name, i))
		seen[NodeName(c.Name, i)] = true
	}
	for _, n := range c.Nodes {
		if !seen[n.Name] && !n.Extra {
			names = append(names, n.Name)
		}
	}
	return names
}

func (c *Cluster) anyServerDown() bool {
	for _, n := range c.Nodes {
		if n.ServerStatus != "ACTIVE" {
			return true
		}
	}
	return false
}

// replacementDonor is the node a replacement copies from: a healthy member
// that is not the writer when there is one, so the writer never donates.
func replacementDonor(c *Cluster, hs map[string]*guest.NodeHealth) string {
	var fallback string
	for _, n := range c.Nodes {
		h := hs[n.Name]
		if h == nil || !h.Status.Healthy() {
			continue
		}
		if n.Name != c.Writer {
			return n.Name
		}
		fallback = n.Name
	}
	return fallback
}
