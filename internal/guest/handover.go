package guest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A planned handover of the single writer (writer.go) before a step stops
// the writer's node: the record moves to another Synced member by the same
// compare-and-swap the responders use, so the old writer's "/writer" check
// fails and the new one's passes on the load balancer's next checks; once
// the caller saw the pool switch, DrainClients closes what clients still
// hold on the old writer and waits until no new one lands there.

// PhaseHandover names the writer handover in events and errors.
const PhaseHandover = "handover"

// MoveWriter moves the writer away from member away to another Synced
// member (the first in spec order) and returns that member's name. When
// away is not the recorded writer nothing changes and it returns "".
func (c *Cluster) MoveWriter(ctx context.Context, away string) (string, error) {
	from, err := c.node(away)
	if err != nil {
		return "", &NodeError{Phase: PhaseHandover, Node: away, Err: err}
	}
	var to *node
	recorded := ""
	for _, o := range c.nodes() {
		st, err := c.nodeStatus(ctx, o)
		if err != nil || !st.Healthy() {
			continue
		}
		if recorded == "" {
			recorded = st.RecordedWriter
		}
		if to == nil && o != from {
			to = o
		}
	}
	if recorded != from.Address {
		return "", nil
	}
	if to == nil {
		return "", &NodeError{Phase: PhaseHandover, Node: away, Err: errors.New("no other Synced member can take the writer")}
	}
	start := time.Now()
	// On the new writer: once it commits there, its own check passes.
	out, err := to.run(ctx, c.layout.Client+" --batch -N", []byte(sqlScript([]string{
		"UPDATE " + writerTable + " SET address = " + quoteString(to.Address) + " WHERE id = 1 AND address = " + quoteString(from.Address),
		"SELECT ROW_COUNT()",
	})))
	if err != nil {
		return "", &NodeError{Phase: PhaseHandover, Node: away, Err: fmt.Errorf("record %s as writer: %w", to.Name, err)}
	}
	if strings.TrimSpace(out) != "1" {
		return "", &NodeError{Phase: PhaseHandover, Node: away, Err: fmt.Errorf("the writer record changed while moving it to %s; retry", to.Name)}
	}
	c.emitDone(PhaseHandover, away, start, "writer moved to %s", to.Name)
	return to.Name, nil
}

// DrainClients waits until member name has no client sessions, closing
// the ones still open, and until none has appeared for quiet (clients
// reconnect through the load balancer to the new writer). Sessions of the
// library (through 127.0.0.1), local ones and the server's own threads
// are not clients. It gives up after timeout.
func (c *Cluster) DrainClients(ctx context.Context, name string, quiet, timeout time.Duration) error {
	n, err := c.node(name)
	if err != nil {
		return &NodeError{Phase: PhaseHandover, Node: name, Err: err}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var calm time.Time
	closed := 0
	for {
		ids, err := c.clientSessions(ctx, n)
		if err != nil {
			return &NodeError{Phase: PhaseHandover, Node: name, Err: err}
		}
		if len(ids) == 0 {
			if calm.IsZero() {
				calm = time.Now()
			}
			if time.Since(calm) >= quiet {
				c.emitDone(PhaseHandover, name, start, "no client sessions (%d closed)", closed)
				return nil
			}
		} else {
			calm = time.Time{}
			if err := c.killSessions(ctx, n, ids); err != nil {
				return &NodeError{Phase: PhaseHandover, Node: name, Err: err}
			}
			closed += len(ids)
		}
		select {
		case <-ctx.Done():
			return &NodeError{Phase: PhaseHandover, Node: name, Err: fmt.Errorf("clients still connect after %s: the load balancer still sends them here", timeout)}
		case <-time.After(min(c.opts.poll, 200*time.Millisecond)):
		}
	}
}

// clientSessionsQuery lists the sessions that came over the network from
// anywhere but the node itself.
const clientSessionsQuery = "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()" +
	" AND USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user')" +
	" AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Killed')" +
	" AND HOST <> '' AND HOST NOT LIKE 'localhost%' AND HOST NOT LIKE '127.0.0.1:%' AND HOST NOT LIKE '::1:%'"

func (c *Cluster) clientSessions(ctx context.Context, n *node) ([]int64, error) {
	out, err := n.run(ctx, c.layout.Client+" --batch -N -e "+shellQuote(clientSessionsQuery), nil)
	if err != nil {
		return nil, fmt.Errorf("list client sessions: %w", err)
	}
	var ids []int64
	for _, f := range strings.Fields(out) {
		if id := parseInt64(f); id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// killSessions closes sessions; one already gone is not an error.
func (c *Cluster) killSessions(ctx context.Context, n *node, ids []int64) error {
	var b strings.Builder
	for _, id := range ids {
		// The CLI's --force goes on past a session that ended meanwhile.
		fmt.Fprintf(&b, "KILL CONNECTION %d;\n", id)
	}
	if _, err := n.run(ctx, c.layout.Client+" --batch --force", []byte(b.String())); err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "Unknown thread id") {
			return nil
		}
		return fmt.Errorf("close client sessions: %w", err)
	}
	return nil
}
