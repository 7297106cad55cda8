package guest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NodeHealth is one member as a repair sees it: can it be reached, does
// its server run, is a state transfer under way, does the health responder
// listen, and what Galera says.
type NodeHealth struct {
	Node string
	// Err is set when the node could not be reached over SSH; nothing else
	// is then known.
	Err           error
	MysqldRunning bool
	// Transferring: an SST script runs (the node donates or joins).
	Transferring bool
	// MysqldUptime is how long the server process has run; -1 when the
	// probe could not tell.
	MysqldUptime time.Duration
	// BackingUp: the hot-backup tool runs (mariabackup, xtrabackup), which
	// an SST script also starts: see DesyncedByBackup.
	BackingUp bool
	// ResponderUp: the clustercheck responder listens (true when the
	// cluster has none).
	ResponderUp bool
	// Status is the SQL view; Status.Err is set when the server did not answer.
	Status NodeStatus
}

// Healthy is true for a reachable, Synced, Primary member whose responder listens.
func (h NodeHealth) Healthy() bool {
	return h.Err == nil && h.MysqldRunning && h.ResponderUp && h.Status.Healthy()
}

// InTransfer is true while the node donates or joins: it must not be
// restarted, only waited for.
func (h NodeHealth) InTransfer() bool {
	if h.Err != nil || !h.MysqldRunning {
		return false
	}
	return h.Transferring || transferState(h.Status.LocalState)
}

// DesyncedByBackup is true for a node a hot backup holds desynced: the
// tool's BACKUP STAGE BLOCK_DDL..END (FTWRL on Percona) pauses the node's
// replication, and Galera resyncs it when the stage ends. It is doing what
// it was asked, like a donor, but needs no repair and no wait: a scheduled
// backup must not make every plan that meets it propose one.
func (h NodeHealth) DesyncedByBackup() bool {
	return h.InTransfer() && h.BackingUp && !h.Transferring
}

// waitBooted lets a systemd guest finish its boot before a repair looks
// at it: after a reboot or resize the enabled unit starts the server by
// itself, and a repair that probed before it did, or while it joined,
// started a second one or stopped it mid-join. The boot is done once every
// start job is (the unit's start ends when the server has joined); bounded
// by the start timeout, after which the probe decides as before.
func (c *Cluster) waitBooted(ctx context.Context, n *node) error {
	if n.init != InitSystemd {
		return nil
	}
	cmd := fmt.Sprintf("timeout %d systemctl is-system-running --wait >/dev/null 2>&1; true", int(c.opts.startTimeout.Seconds()))
	if _, err := n.run(ctx, cmd, nil); err != nil {
		return fmt.Errorf("wait for the boot to finish: %w", err)
	}
	return nil
}

// startingGrace is how long after its start a server that answers but is
// not Synced yet counts as joining, not stuck: Galera connects, finds the
// primary component and asks for IST within seconds.
const startingGrace = time.Minute

// starting is true while the server started less than startingGrace ago.
func (h NodeHealth) starting() bool {
	return h.MysqldUptime >= 0 && h.MysqldUptime < startingGrace
}

// transferState is a wsrep_local_state_comment of a node in a state transfer.
func transferState(s string) bool {
	switch s {
	case "Donor/Desynced", "Joining", "Joined", "Joiner", "Joining: receiving State Transfer", "Joining: preparing for State Transfer":
		return true
	}
	return strings.HasPrefix(s, "Joining")
}

// Health probes every node in parallel: one SSH command (server process,
// SST scripts, responder socket) and, when the server runs, its SQL status.
// The error is only for a cancelled context.
func (c *Cluster) Health(ctx context.Context) ([]NodeHealth, error) {
	nodes := c.nodes()
	out := make([]NodeHealth, len(nodes))
	_ = parallel(nodes, func(n *node) error {
		out[indexOf(nodes, n)] = c.nodeHealth(ctx, n)
		return nil
	})
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

func (c *Cluster) nodeHealth(ctx context.Context, n *node) NodeHealth {
	h := NodeHealth{Node: n.Name, ResponderUp: true, Status: NodeStatus{Node: n.Name, Address: n.Address}}
	responder := "true"
	if cc := c.spec.Clustercheck; cc != nil {
		h.ResponderUp = false
		responder = fmt.Sprintf(`ss -Hltn "sport = :%d" | grep -q .`, cc.port())
	}
	cmd := fmt.Sprintf(`if %s; then echo mysqld; fi; `+
		`if pgrep -f %s >/dev/null; then echo sst; fi; `+
		`if pgrep -x %s >/dev/null; then echo backup; fi; `+
		`if %s; then echo responder; fi; `+
		`echo "uptime=$(ps -o etimes= -C %s | sort -n | head -n 1 | tr -d ' ')"`,
		serverRunning(c.layout.Server), sstScriptPattern, toolsFor(c.spec.Flavour).Backup, responder, c.layout.Server)
	out, err := n.run(ctx, cmd, nil)
	if err != nil {
		h.Err = fmt.Errorf("probe: %w", err)
		h.Status.Err = h.Err
		return h
	}
	h.MysqldUptime = -1
	for _, f := range strings.Fields(out) {
		if s, ok := strings.CutPrefix(f, "uptime="); ok {
			if secs, err := strconv.Atoi(s); err == nil {
				h.MysqldUptime = time.Duration(secs) * time.Second
			}
			continue
		}
		switch f {
		case "mysqld":
			h.MysqldRunning = true
		case "sst":
			h.Transferring = true
		case "backup":
			h.BackingUp = true
		case "responder":
			h.ResponderUp = true
		}
	}
	if !h.MysqldRunning {
		h.Status.Err = errors.New("server not running")
		return h
	}
	st, err := c.nodeStatus(ctx, n)
	if err != nil && st.Err == nil {
		st.Err = err
	}
	st.Node, st.Address = n.Name, n.Address
	h.Status = st
	return h
}

// sstScriptPattern (pgrep -f) matches a running state-transfer script as
// the server starts it ("wsrep_sst_rsync --role 'joiner' ..."), and not
// the health responder's SQL client, whose query names
// @@wsrep_sst_donor_rejects_queries: a bare 'wsrep_sst_' matched every
// responder check that ran at that moment, and a stopped node then looked
// like one in a state transfer. '[w]srep' keeps it from matching the
// command line of the shell that runs pgrep.
const sstScriptPattern = `'[w]srep_sst_[a-z0-9_-]* --role'`

// sstLeftovers are what an interrupted state transfer leaves in the
// datadir; a joiner that finds them may refuse to start or wait on a
// transfer that no longer runs.
var sstLeftovers = []string{"sst_in_progress", "wsrep_sst.pid", "rsync_sst.pid", "rsync_sst.conf", ".sst", "sst-xb-tmpdir", "xtrabackup_galera_info_SST"}

// cleanSSTLeftovers removes them, refusing while the server runs (they
// are then the live transfer's own files).
func (c *Cluster) cleanSSTLeftovers(ctx context.Context, n *node) error {
	paths := make([]string, 0, len(sstLeftovers))
	for _, f := range sstLeftovers {
		paths = append(paths, dataDir+"/"+f)
	}
	cmd := fmt.Sprintf(`if pgrep -x %s >/dev/null || pgrep -x mysqld_safe >/dev/null || pgrep -f %s >/dev/null; then echo "the server or a state transfer still runs" >&2; exit 1; fi
rm -rf -- %s`, c.layout.Server, sstScriptPattern, strings.Join(paths, " "))
	if _, err := n.run(ctx, cmd, nil); err != nil {
		return fmt.Errorf("clean stale state-transfer files: %w", err)
	}
	return nil
}

// RepairNode brings one member back into the primary component: a node
// in a state transfer is only waited for (never restarted); a Synced node
// only gets its responder back; a node whose server is down, or runs
// outside the primary component, is stopped if needed, cleaned of stale
// SST files and started (it rejoins by IST or SST), then waited to Synced.
func (c *Cluster) RepairNode(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.detectInit(ctx, n); err != nil {
		return fmt.Errorf("repair %s: %w", name, err)
	}
	if err := c.waitBooted(ctx, n); err != nil {
		return fmt.Errorf("repair %s: %w", name, err)
	}
	h := c.nodeHealth(ctx, n)
	if h.Err != nil {
		return fmt.Errorf("repair %s: %w", name, h.Err)
	}
	if h.InTransfer() {
		c.emit("repair", name, "in a state transfer (%s): waiting, not restarting", cmpOr(h.Status.LocalState, "SST running"))
		if _, err := c.waitSynced(ctx, n, joinTimeout(c.opts.joinTimeout, 0), "Synced after its state transfer"); err != nil {
			return fmt.Errorf("repair %s: %w", name, err)
		}
		h = c.nodeHealth(ctx, n)
	}
	if h.MysqldRunning && !h.Status.Healthy() && h.Status.Err == nil && !h.starting() {
		// Runs, answers, but is no Synced member of a primary component
		// (non-Primary after a partition, or stuck): restart it.
		c.emit("repair", name, "runs as %s/%s: restarting", h.Status.ClusterStatus, h.Status.LocalState)
		if err := c.stop(ctx, n); err != nil {
			return fmt.Errorf("repair %s: %w", name, err)
		}
		h.MysqldRunning = false
	}
	if h.MysqldRunning && !h.Status.Healthy() {
		// Runs but does not answer, or started moments ago (its unit
		// at boot, after a resize or reboot) and has not joined yet:
		// starting up, or hung. Stopping a server about to receive its
		// state transfer can hang its shutdown for the unit's whole stop
		// timeout. Give it the start timeout, then restart it.
		if _, err := c.waitSynced(ctx, n, c.opts.startTimeout, "Synced"); err != nil {
			c.emit("repair", name, "not Synced within %s: restarting", c.opts.startTimeout)
			if err := c.stop(ctx, n); err != nil {
				return fmt.Errorf("repair %s: %w", name, err)
			}
			h.MysqldRunning = false
		}
	}
	if !h.MysqldRunning {
		if err := c.cleanSSTLeftovers(ctx, n); err != nil {
			return fmt.Errorf("repair %s: %w", name, err)
		}
		if err := c.waitOthersSynced(ctx, n); err != nil {
			return fmt.Errorf("repair %s: %w", name, err)
		}
		// start also (re)starts the responder.
		if err := c.start(ctx, n, false); err != nil {
			return fmt.Errorf("repair %s: %w", name, err)
		}
		if _, err := c.waitSynced(ctx, n, joinTimeout(c.opts.joinTimeout, 0), "Synced after rejoining"); err != nil {
			return fmt.Errorf("repair %s: %w", name, err)
		}
		c.emitDone("repair", name, start, "rejoined, Synced")
		return nil
	}
	if cc := c.spec.Clustercheck; cc != nil && !h.ResponderUp {
		if err := c.installClustercheck(ctx, n, c.Spec().Nodes, *cc); err != nil {
			return fmt.Errorf("repair %s: health responder: %w", name, err)
		}
		c.emitDone("repair", name, start, "health responder restarted")
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
