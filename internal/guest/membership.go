package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// JoinMember brings one member of the spec into the running cluster: a new
// node (grow) or a fresh server that replaces one of the same name
// (repair). It prepares the node (meanwhile it finds the donors), joins it
// with a state transfer from donors that are not the single writer
// (wsrep_sst_donor), waits until it is Synced, then writes every member's
// option file with the full member list (gcomm://), which the others read
// at their next start. It is safe to re-run: a node already Synced is not
// restarted.
func (c *Cluster) JoinMember(ctx context.Context, name string) error {
	n, err := c.node(name)
	if err != nil {
		return &NodeError{Phase: PhaseJoin, Node: name, Err: err}
	}
	start := time.Now()
	// The members' status is read while the joiner prepares: the first
	// look at each costs a connection (about 0.1 s), and joinNode checks
	// again just before the start that none is in a state transfer.
	type found struct {
		donors []*node
		err    error
	}
	donorsFound := make(chan found, 1)
	go func() {
		d, err := c.donors(ctx, n)
		donorsFound <- found{d, err}
	}()
	err = c.prepareNode(ctx, n, nil)
	f := <-donorsFound
	if err != nil {
		return &NodeError{Phase: PhasePrepare, Node: name, Err: err}
	}
	donors, err := f.donors, f.err
	if err != nil {
		return &NodeError{Phase: PhaseJoin, Node: name, Err: err}
	}
	members := c.Spec().Nodes
	if err := c.writeJoinerConfig(ctx, n, members, donors); err != nil {
		return &NodeError{Phase: PhaseJoin, Node: name, Err: err}
	}
	c.emit(PhaseJoin, name, "joining the running cluster, state transfer from %s", strings.Join(names(donors), " or "))
	if err := c.joinNode(ctx, donors[0], n, len(members), len(members)); err != nil {
		return &NodeError{Phase: PhaseJoin, Node: name, Err: err}
	}
	// The joiner's own file loses the donor list: a named donor that later
	// leaves would keep it from rejoining.
	if err := parallel(c.nodes(), func(m *node) error { return c.writeConfig(ctx, m, members) }); err != nil {
		return &NodeError{Phase: PhaseJoin, Node: name, Err: fmt.Errorf("rewrite gcomm:// on the members: %w", err)}
	}
	c.emitDone(PhaseJoin, name, start, "joined, Synced; gcomm:// lists %d members", len(members))
	return nil
}

// donors are the Synced members a joiner may take its state from, in spec
// order: never the recorded single writer while another Synced member can
// donate (a donor blocks or slows its clients during the transfer). The
// writer donates only when it is the one Synced member left.
func (c *Cluster) donors(ctx context.Context, joiner *node) ([]*node, error) {
	var healthy []*node
	writer := ""
	for _, o := range c.nodes() {
		if o == joiner {
			continue
		}
		st, err := c.nodeStatus(ctx, o)
		if err != nil || !st.Healthy() {
			continue
		}
		healthy = append(healthy, o)
		if writer == "" {
			writer = st.RecordedWriter
		}
	}
	if len(healthy) == 0 {
		return nil, errors.New("no Synced member to take the state from")
	}
	var out []*node
	for _, o := range healthy {
		if o.Address != writer {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		c.opts.observe.emit(Event{Phase: PhaseJoin, Node: joiner.Name, Level: LevelWarn,
			Message: "the writer " + healthy[0].Name + " is the only Synced member: it donates the state"})
		return healthy, nil
	}
	return out, nil
}

// writeJoinerConfig is the joiner's option file naming its donors.
func (c *Cluster) writeJoinerConfig(ctx context.Context, n *node, members []Node, donors []*node) error {
	cnf, err := renderConfig(c.spec, members, n.Name)
	if err != nil {
		return err
	}
	cnf = withDonors(cnf, names(donors))
	if err := n.upload(ctx, c.layout.ConfigFile, []byte(cnf), 0o640); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := n.run(ctx, "chgrp mysql "+c.layout.ConfigFile, nil); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// withDonors adds wsrep_sst_donor after wsrep_sst_method. No trailing
// comma: the server must not fall back to any other node (the writer).
func withDonors(cnf string, donors []string) string {
	line := fmt.Sprintf("%-31s = %s\n", "wsrep_sst_donor", strings.Join(donors, ","))
	i := strings.Index(cnf, "wsrep_sst_method")
	if i < 0 {
		return cnf
	}
	end := strings.IndexByte(cnf[i:], '\n')
	if end < 0 {
		return cnf + "\n" + line
	}
	return cnf[:i+end+1] + line + cnf[i+end+1:]
}

func names(nodes []*node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	return out
}
