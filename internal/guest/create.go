package guest

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Create runs the whole create sequence, the one every caller uses:
// Prepare (all nodes at once; a node whose server is still being built,
// Node.Await, as soon as it is up), Bootstrap the first node ready (the
// first in order once it is prepared, or the first whose server was up and
// prepared), Join the others one by one in the order they are ready,
// RestartBootstrapNode, EnsureUsers (when users are given), the membership
// gate, and the clustercheck responder when the spec asks for one. Each
// step skips what is already done. A failure is a *NodeError naming the
// phase and, where one is at fault, the node.
func (c *Cluster) Create(ctx context.Context, users ...User) (Status, error) {
	start := time.Now()
	// Every node prepares at once; the first bootstraps as soon as it is
	// prepared and each other joins as soon as it is (and the one before
	// it is Synced), so a slow node's prepare overlaps the others' start.
	ctx, cancel := context.WithCancel(ctx)
	prep := c.startPrepare(ctx)
	defer func() {
		cancel()
		_ = prep.wait() // nothing of the create outlives it
	}()
	i, err := prep.nth(ctx, 0)
	if err == nil {
		err = prep.node(i)
	}
	if err != nil {
		return Status{}, stepError(PhasePrepare, err)
	}
	first := c.nodes()[i]
	steps := []step{
		{PhaseBootstrap, func(ctx context.Context) error {
			err := c.bootstrapNode(ctx, first)
			if before := c.bootstrappedBefore(ctx, err); before != nil {
				c.emit(PhaseBootstrap, before.Name, "bootstrapped by an earlier run; carrying on from it")
				first, err = before, nil
			}
			return err
		}},
		{PhaseJoin, func(ctx context.Context) error { return c.joinAsTheyCome(ctx, prep, first) }},
		{PhaseRestart, func(ctx context.Context) error { return c.restartBootstrapNode(ctx, first) }},
	}
	if len(users) > 0 {
		steps = append(steps, step{PhaseUsers, func(ctx context.Context) error { return c.EnsureUsers(ctx, users...) }})
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.f(ctx); err != nil {
			if perr := prepareFailure(err); perr != nil {
				return Status{}, stepError(PhasePrepare, perr)
			}
			return Status{}, stepError(s.phase, err)
		}
		c.emitDone(s.phase, "", t, "%s done", s.phase)
	}
	st, err := c.WaitGate(ctx, c.opts.startTimeout)
	if err != nil {
		return st, &NodeError{Phase: PhaseGate, Node: strings.Join(st.Missing, ", "), Err: err}
	}
	if cc := c.spec.Clustercheck; cc != nil {
		// The responders Prepare installed still listen: only the account
		// and the writer record are new.
		if err := c.ensureClustercheck(ctx, *cc, true); err != nil {
			return st, stepError(PhaseClustercheck, err)
		}
		// The responder's setup records the first writer: read it back so
		// the status the caller keeps names it.
		if fresh, err := c.Status(ctx); err == nil && fresh.OK() {
			st = fresh
		}
	}
	c.emitDone("create", "", start, "cluster %s is up: %d nodes Synced", c.spec.Name, len(st.Nodes))
	return st, nil
}

// prepareFailure is err when it is the failed prepare of a node (which
// Create's bootstrap and joins wait for), else nil.
func prepareFailure(err error) error {
	var ne *NodeError
	if errors.As(err, &ne) && ne.Phase == PhasePrepare {
		return err
	}
	return nil
}

// step is one phase of a sequence.
type step struct {
	phase string
	f     func(context.Context) error
}
