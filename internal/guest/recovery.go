package guest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

const zeroUUID = "00000000-0000-0000-0000-000000000000"

// NodeRecovery is what the survey found on one node.
type NodeRecovery struct {
	Node string
	// Err is set when the node could not be surveyed.
	Err error
	// Running: the server is up; Primary: it belongs to a primary component.
	Running bool
	Primary bool
	// From grastate.dat; Seqno is replaced by the --wsrep-recover position
	// when grastate says -1 (Recovered is then true).
	UUID            string
	Seqno           int64
	SafeToBootstrap bool
	Recovered       bool
	// PCRecovery: the node runs outside a primary component with a
	// gvwstate.dat, so Galera's pc.recovery is restoring the last primary
	// component (it does when every member of it is back).
	PCRecovery bool
}

// Decision is the outcome of a survey: which node bootstraps and why.
type Decision struct {
	Nodes []NodeRecovery
	// Source is the node that bootstraps the new primary component; empty
	// when a primary component still runs (the others just rejoin it).
	Source string
	Reason string
	Forced bool
	// Outside names the nodes that run outside a primary component (on
	// systemd images their units started the server at boot): Recover waits
	// for pc.recovery, else stops them and surveys again before it chooses.
	Outside []string
}

func (d Decision) String() string {
	var parts []string
	for _, n := range d.Nodes {
		switch {
		case n.Err != nil:
			parts = append(parts, fmt.Sprintf("%s=unknown", n.Node))
		case n.Running:
			parts = append(parts, fmt.Sprintf("%s=running(primary=%v)", n.Node, n.Primary))
		default:
			s := fmt.Sprintf("%s=%d", n.Node, n.Seqno)
			if n.SafeToBootstrap {
				s += "(safe_to_bootstrap)"
			}
			parts = append(parts, s)
		}
	}
	src := d.Source
	if src == "" {
		src = "none"
	}
	return fmt.Sprintf("source %s: %s [%s]", src, d.Reason, strings.Join(parts, " "))
}

type grastate struct {
	exists          bool
	UUID            string
	Seqno           int64
	SafeToBootstrap bool
}

func parseGrastate(s string) grastate {
	g := grastate{Seqno: -1}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "uuid":
			g.UUID, g.exists = v, true
		case "seqno":
			g.Seqno = parseInt64(v)
		case "safe_to_bootstrap":
			g.SafeToBootstrap = v == "1"
		}
	}
	return g
}

func (c *Cluster) readGrastate(ctx context.Context, n *node) (grastate, error) {
	out, err := n.run(ctx, "cat "+dataDir+"/grastate.dat 2>/dev/null || true", nil)
	if err != nil {
		return grastate{}, fmt.Errorf("read grastate.dat: %w", err)
	}
	return parseGrastate(out), nil
}

var recoveredRe = regexp.MustCompile(`WSREP: Recovered position:?\s+([0-9a-f-]{36}):(-?[0-9]+)`)

// recoverPosition runs the server once with --wsrep-recover (it reads the
// InnoDB logs, prints the last committed position and exits).
func (c *Cluster) recoverPosition(ctx context.Context, n *node) (string, int64, error) {
	// A fresh private directory (mktemp), not a fixed /tmp path a local
	// user could pre-create as a symlink; the server writes the log as mysql.
	cmd := fmt.Sprintf(`d=$(mktemp -d) && chown mysql "$d" || exit 1
%[1]s --user=mysql --wsrep-recover --log-error="$d/recover.log" >/dev/null 2>&1
grep 'Recovered position' "$d/recover.log" | tail -n 1
rm -rf "$d"`, c.layout.ServerPath)
	out, err := n.run(ctx, cmd, nil)
	if err != nil {
		return "", -1, fmt.Errorf("wsrep-recover: %w", err)
	}
	m := recoveredRe.FindStringSubmatch(out)
	if m == nil {
		return "", -1, fmt.Errorf("wsrep-recover printed no position (%q)", strings.TrimSpace(out))
	}
	return m[1], parseInt64(m[2]), nil
}

// Survey reads grastate.dat on every node (in parallel) and runs
// --wsrep-recover on stopped nodes whose seqno is -1.
func (c *Cluster) Survey(ctx context.Context) ([]NodeRecovery, error) {
	nodes := c.nodes()
	out := make([]NodeRecovery, len(nodes))
	_ = parallel(nodes, func(n *node) error {
		i := indexOf(nodes, n)
		out[i] = c.surveyNode(ctx, n)
		return nil
	})
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

func indexOf(nodes []*node, n *node) int {
	for i := range nodes {
		if nodes[i] == n {
			return i
		}
	}
	return -1
}

func (c *Cluster) surveyNode(ctx context.Context, n *node) NodeRecovery {
	r := NodeRecovery{Node: n.Name, Seqno: -1}
	start := time.Now()
	ps, err := c.processes(ctx, n)
	if err != nil {
		r.Err = err
		return r
	}
	r.Running = ps.Running
	if !ps.Running {
		// A unit starting the server (its ExecStartPre runs, or it waits to
		// restart) will run it in a moment: it counts as running outside a
		// primary component, so recovery stops it before reading positions
		// rather than race it for the datadir.
		busy, err := c.unitBusy(ctx, n)
		if err != nil {
			r.Err = err
			return r
		}
		r.Running = busy
	}
	if r.Running {
		st, err := c.nodeStatus(ctx, n)
		r.Primary = err == nil && st.ClusterStatus == "Primary"
		r.UUID, r.Seqno = st.StateUUID, st.LastCommitted
		if !r.Primary {
			out, err := n.run(ctx, "test -f "+dataDir+"/gvwstate.dat && echo gvwstate || true", nil)
			r.PCRecovery = err == nil && strings.Contains(out, "gvwstate")
		}
		return r
	}
	g, err := c.readGrastate(ctx, n)
	if err != nil {
		r.Err = err
		return r
	}
	r.UUID, r.Seqno, r.SafeToBootstrap = g.UUID, g.Seqno, g.SafeToBootstrap
	if r.Seqno < 0 {
		uuid, seqno, err := c.recoverPosition(ctx, n)
		if err != nil {
			r.Err = err
			return r
		}
		r.UUID, r.Seqno, r.Recovered = uuid, seqno, true
	}
	c.emitDone("survey", n.Name, start, "uuid %s seqno %d safe_to_bootstrap %v recovered %v", r.UUID, r.Seqno, r.SafeToBootstrap, r.Recovered)
	return r
}

// Decide chooses the bootstrap source the way mariadb-operator does: a
// node with safe_to_bootstrap: 1 wins; otherwise the highest seqno (ties go
// to the earlier node in spec order). It never decides while a node is
// unsurveyed, unless force names the source.
func Decide(nodes []NodeRecovery, force string) (Decision, error) {
	d := Decision{Nodes: nodes}
	if force != "" {
		for _, n := range nodes {
			if n.Node == force {
				d.Source, d.Forced = force, true
				d.Reason = "forced by the caller"
				return d, nil
			}
		}
		return d, fmt.Errorf("forced source %q is not a member", force)
	}
	var unknown []string
	for _, n := range nodes {
		if n.Err != nil {
			unknown = append(unknown, fmt.Sprintf("%s (%v)", n.Node, n.Err))
		}
	}
	for _, n := range nodes {
		if n.Running && n.Primary {
			d.Reason = fmt.Sprintf("%s still runs in a primary component; the other nodes rejoin it", n.Node)
			return d, nil
		}
	}
	if len(unknown) > 0 {
		return d, fmt.Errorf("cannot choose a bootstrap node before every node is surveyed; not surveyed: %s (name a node to force)", strings.Join(unknown, ", "))
	}
	for _, n := range nodes {
		if n.Running {
			d.Outside = append(d.Outside, n.Node)
		}
	}
	if len(d.Outside) > 0 {
		// Their positions are known only once they are stopped.
		d.Reason = fmt.Sprintf("%s run outside a primary component (started at boot by their units): recovery waits for Galera's pc.recovery, else stops them, surveys every node and bootstraps the most advanced", strings.Join(d.Outside, ", "))
		return d, nil
	}
	uuids := map[string][]string{}
	for _, n := range nodes {
		if n.UUID != "" && n.UUID != zeroUUID {
			uuids[n.UUID] = append(uuids[n.UUID], n.Node)
		}
	}
	if len(uuids) > 1 {
		return d, fmt.Errorf("nodes hold state of different clusters: %s", describeGroups(uuids))
	}
	for _, n := range nodes {
		if n.SafeToBootstrap {
			d.Source = n.Node
			d.Reason = fmt.Sprintf("%s has safe_to_bootstrap: 1 (it was the last to leave, cleanly)", n.Node)
			return d, nil
		}
	}
	best := -1
	for i, n := range nodes {
		if n.Seqno >= 0 && (best < 0 || n.Seqno > nodes[best].Seqno) {
			best = i
		}
	}
	if best < 0 {
		return d, errors.New("no node has a valid seqno: every node needs a full state transfer; name a node to force")
	}
	d.Source = nodes[best].Node
	var tied []string
	for _, n := range nodes {
		if n.Seqno == nodes[best].Seqno && n.Node != d.Source {
			tied = append(tied, n.Node)
		}
	}
	d.Reason = fmt.Sprintf("%s has the highest seqno %d", d.Source, nodes[best].Seqno)
	if len(tied) > 0 {
		d.Reason += fmt.Sprintf(" (tied with %s; the earlier node in order wins)", strings.Join(tied, ", "))
	}
	return d, nil
}

// Recover brings a cluster back after a full outage: survey, choose the
// source (or use force), bootstrap it, then start the others one by one,
// each waited to Synced. Nodes already Synced are left alone. The
// decision is returned even when a later step fails.
func (c *Cluster) Recover(ctx context.Context, force string) (Decision, error) {
	start := time.Now()
	survey, err := c.Survey(ctx)
	if err != nil {
		return Decision{Nodes: survey}, fmt.Errorf("recover: survey: %w", err)
	}
	if force == "" {
		if survey, err = c.settleOutsidePrimary(ctx, survey); err != nil {
			return Decision{Nodes: survey}, fmt.Errorf("recover: %w", err)
		}
	}
	d, err := Decide(survey, force)
	if err != nil {
		return d, fmt.Errorf("recover: %w", err)
	}
	if d.Source == "" && len(d.Outside) > 0 {
		return d, fmt.Errorf("recover: %s still run outside a primary component after being stopped", strings.Join(d.Outside, ", "))
	}
	c.emit("recover", d.Source, "decision: %s", d)
	nodes := c.nodes()
	if d.Source != "" {
		src, err := c.node(d.Source)
		if err != nil {
			return d, err
		}
		ps, err := c.processes(ctx, src)
		if err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		if ps.Running && d.Forced {
			if err := c.stop(ctx, src); err != nil {
				return d, fmt.Errorf("recover: %w", err)
			}
		}
		if err := c.detectInit(ctx, src); err != nil {
			return d, err
		}
		if err := c.quiesceUnit(ctx, src); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		cmd := fmt.Sprintf("sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' %s/grastate.dat", dataDir)
		if _, err := src.run(ctx, cmd, nil); err != nil {
			return d, fmt.Errorf("recover: mark %s safe to bootstrap: %w", src.Name, err)
		}
		if err := c.cleanSSTLeftovers(ctx, src); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		if err := c.start(ctx, src, true); err != nil {
			return d, fmt.Errorf("recover: %w%s", err, c.unitJournal(ctx, src))
		}
		if _, err := c.waitSynced(ctx, src, c.opts.startTimeout, "Primary/Synced as the bootstrap source"); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		c.emitDone("recover", src.Name, start, "bootstrapped as the source")
	}
	for _, n := range nodes {
		if n.Name == d.Source {
			continue
		}
		t := time.Now()
		if err := c.detectInit(ctx, n); err != nil {
			return d, err
		}
		ps, err := c.processes(ctx, n)
		if err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		if ps.Running {
			st, err := c.nodeStatus(ctx, n)
			if err == nil && st.Healthy() {
				continue
			}
			// In the primary component but not Synced yet (after
			// pc.recovery, an IST): waited for, not restarted.
			if err == nil && st.ClusterStatus == "Primary" {
				if _, err := c.waitSynced(ctx, n, joinTimeout(c.opts.joinTimeout, 0), "Synced in the restored primary component"); err == nil {
					continue
				}
			}
			if err := c.stop(ctx, n); err != nil {
				return d, fmt.Errorf("recover: %w", err)
			}
		}
		if err := c.cleanSSTLeftovers(ctx, n); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		if err := c.waitOthersSynced(ctx, n); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		if err := c.resetFailedUnit(ctx, n); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		if err := c.start(ctx, n, false); err != nil {
			return d, fmt.Errorf("recover: %w%s", err, c.unitJournal(ctx, n))
		}
		if _, err := c.waitSynced(ctx, n, joinTimeout(c.opts.joinTimeout, 0), "Synced after rejoining"); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
		c.emitDone("recover", n.Name, t, "rejoined, Synced")
	}
	if d.Source != "" {
		src, _ := c.node(d.Source)
		// The source runs under the bootstrap unit, or with
		// --wsrep-new-cluster under mysqld_safe, which would start a second
		// cluster if the server crashed and was restarted: restart it as a
		// normal member now that the others hold the primary component.
		if err := c.restartNormally(ctx, src); err != nil {
			return d, fmt.Errorf("recover: %w", err)
		}
	}
	c.emitDone("recover", "", start, "cluster recovered: %s", d)
	return d, nil
}

// pcRecoveryWait bounds the wait for Galera's pc.recovery: once every
// member of the last primary component is back it restores the component
// within seconds; a missing member keeps the others waiting for good.
const pcRecoveryWait = 90 * time.Second

// settleOutsidePrimary handles the nodes a survey found running outside a
// primary component (on systemd images the units start the server at boot,
// after a power loss of every server). When they hold a gvwstate.dat,
// pc.recovery is given time to restore the last primary component; the
// survey is returned as soon as a node is Primary (the others then rejoin
// it). Otherwise, or when it does not come, every such node is stopped
// (through its unit) so grastate.dat and --wsrep-recover tell its position,
// and the nodes are surveyed again. Nothing runs outside a primary
// component when Decide then picks the node to bootstrap.
func (c *Cluster) settleOutsidePrimary(ctx context.Context, survey []NodeRecovery) ([]NodeRecovery, error) {
	outside, pcRecovery := outsidePrimary(survey)
	if len(outside) == 0 {
		return survey, nil
	}
	if pcRecovery {
		start := time.Now()
		c.emit("recover", "", "%s run outside a primary component with gvwstate.dat: waiting up to %s for pc.recovery", strings.Join(outside, ", "), pcRecoveryWait)
		for time.Since(start) < pcRecoveryWait {
			for _, name := range outside {
				n, err := c.node(name)
				if err != nil {
					return survey, err
				}
				if st, err := c.nodeStatus(ctx, n); err == nil && st.ClusterStatus == "Primary" {
					c.emitDone("recover", name, start, "pc.recovery restored the primary component")
					s, err := c.Survey(ctx)
					if err != nil {
						return s, fmt.Errorf("survey: %w", err)
					}
					return s, nil
				}
			}
			select {
			case <-ctx.Done():
				return survey, ctx.Err()
			case <-time.After(max(c.opts.poll, time.Second)):
			}
		}
		c.emit("recover", "", "pc.recovery did not restore a primary component within %s", pcRecoveryWait)
	}
	for _, name := range outside {
		n, err := c.node(name)
		if err != nil {
			return survey, err
		}
		if err := c.detectInit(ctx, n); err != nil {
			return survey, err
		}
		t := time.Now()
		if err := c.stop(ctx, n); err != nil {
			return survey, fmt.Errorf("stop %s, which runs outside a primary component: %w", name, err)
		}
		c.emitDone("recover", name, t, "stopped: it ran outside a primary component")
	}
	s, err := c.Survey(ctx)
	if err != nil {
		return s, fmt.Errorf("survey after stopping %s: %w", strings.Join(outside, ", "), err)
	}
	return s, nil
}

// outsidePrimary names the surveyed nodes that run outside a primary
// component (none when some node is Primary: the others rejoin it), and
// whether any of them waits in pc.recovery.
func outsidePrimary(survey []NodeRecovery) (names []string, pcRecovery bool) {
	for _, n := range survey {
		if n.Err == nil && n.Running && n.Primary {
			return nil, false
		}
	}
	for _, n := range survey {
		if n.Err == nil && n.Running {
			names = append(names, n.Node)
			pcRecovery = pcRecovery || n.PCRecovery
		}
	}
	return names, pcRecovery
}

// serverUnits are the units that may run the server on a systemd node.
func (c *Cluster) serverUnits() string {
	if c.spec.Flavour == Percona {
		return "mysql@bootstrap.service " + c.layout.SystemdUnit
	}
	return c.layout.SystemdUnit
}

// unitBusy is true on a systemd node whose server unit is between states
// (activating, in its ExecStartPre or waiting for its RestartSec;
// deactivating; reloading) while no server process may show yet.
func (c *Cluster) unitBusy(ctx context.Context, n *node) (bool, error) {
	if err := c.detectInit(ctx, n); err != nil {
		return false, err
	}
	if n.init != InitSystemd {
		return false, nil
	}
	out, err := n.run(ctx, "systemctl show -p ActiveState --value "+c.serverUnits(), nil)
	if err != nil {
		return false, fmt.Errorf("read the state of %s: %w", c.serverUnits(), err)
	}
	for _, state := range strings.Fields(out) {
		if state == "activating" || state == "deactivating" || state == "reloading" {
			return true, nil
		}
	}
	return false, nil
}

// quiesceUnit makes sure nothing but the bootstrap touches the source's
// datadir on a systemd node: its unit is stopped (which also cancels a
// start the unit still had queued, at boot or by Restart=) and cleared of
// a failed state and of the starts it counted against its start limit,
// and no server process is left. A server exiting after the bootstrap
// marked grastate.dat would write safe_to_bootstrap: 0 over it.
func (c *Cluster) quiesceUnit(ctx context.Context, n *node) error {
	if n.init != InitSystemd {
		return nil
	}
	units := c.serverUnits()
	limit := int(c.opts.stopTimeout / (100 * time.Millisecond))
	cmd := fmt.Sprintf(`systemctl stop %[1]s && { systemctl reset-failed %[1]s 2>/dev/null || true; } && `+
		`for i in $(seq 1 %[2]d); do pgrep -x %[3]s >/dev/null || exit 0; sleep 0.1; done; echo "server still running after %[4]s" >&2; exit 1`,
		units, limit, c.layout.Server, c.opts.stopTimeout)
	n.resetDB()
	if _, err := n.run(ctx, cmd, nil); err != nil {
		return fmt.Errorf("stop %s on %s before the bootstrap: %w", units, n.Name, err)
	}
	return nil
}

// resetFailedUnit clears a failed state of the node's server unit (units
// that gave up at boot without a primary component): a start then counts
// from zero against the unit's start limit.
func (c *Cluster) resetFailedUnit(ctx context.Context, n *node) error {
	if n.init != InitSystemd {
		return nil
	}
	if _, err := n.run(ctx, "systemctl reset-failed "+c.serverUnits()+" 2>/dev/null || true", nil); err != nil {
		return fmt.Errorf("reset-failed %s on %s: %w", c.serverUnits(), n.Name, err)
	}
	return nil
}

// unitJournal is what the server unit logged last on a systemd node, for a
// failed start's error ("" elsewhere, or when it cannot be read).
func (c *Cluster) unitJournal(ctx context.Context, n *node) string {
	if n.init != InitSystemd {
		return ""
	}
	var units []string
	for _, u := range strings.Fields(c.serverUnits()) {
		units = append(units, "-u "+u)
	}
	out, err := n.run(context.WithoutCancel(ctx), "systemctl status --no-pager --lines=0 "+c.serverUnits()+"; journalctl --no-pager -n 40 "+strings.Join(units, " "), nil)
	if strings.TrimSpace(out) == "" {
		if err != nil {
			return ""
		}
	}
	return "\nunit status and journal:\n" + c.mask.mask(strings.TrimSpace(out))
}
