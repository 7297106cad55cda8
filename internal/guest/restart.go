package guest

import (
	"context"
	"fmt"
	"time"
)

// RestartMember restarts one running member so it reads the spec's option
// file (written first): a clean stop, a normal start (it rejoins by IST),
// and a wait until it is Synced. The caller has moved the writer away and
// restarts one member at a time, so quorum holds.
func (c *Cluster) RestartMember(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return err
	}
	if err := c.detectInit(ctx, n); err != nil {
		return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
	}
	if err := c.writeConfig(ctx, n, c.Spec().Nodes); err != nil {
		return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
	}
	if err := c.waitOthersSynced(ctx, n); err != nil {
		return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
	}
	start := time.Now()
	n.resetDB()
	if n.init == InitSystemd {
		if _, err := n.run(ctx, "systemctl restart "+c.layout.SystemdUnit, nil); err != nil {
			return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: fmt.Errorf("restart: %w", err)}
		}
	} else {
		if err := c.stop(ctx, n); err != nil {
			return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
		}
		if err := c.start(ctx, n, false); err != nil {
			return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
		}
	}
	if _, err := c.waitSynced(ctx, n, joinTimeout(c.opts.joinTimeout, 0), "Synced after restart"); err != nil {
		return &NodeError{Phase: PhaseRestart, Node: n.Name, Err: err}
	}
	c.emitDone("restart", n.Name, start, "restarted with the new option file, Synced")
	return nil
}
