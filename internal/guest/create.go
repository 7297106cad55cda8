package guest

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Create runs the whole create sequence, the one every caller uses:
// Prepare (all nodes at once), Bootstrap the first node, Join the others
// one by one, RestartBootstrapNode, EnsureUsers (when users are given),
// the membership gate, and the clustercheck responder when the spec asks
// for one. A node's start waits for its own prepare only (createMembers).
// Each step skips what is already done. A failure is a *NodeError naming
// the phase and, where one is at fault, the node.
func (c *Cluster) Create(ctx context.Context, users ...User) (Status, error) {
	start := time.Now()
	if err := c.createMembers(ctx); err != nil {
		return Status{}, err
	}
	steps := []step{{PhaseRestart, c.RestartBootstrapNode}}
	if len(users) > 0 {
		steps = append(steps, step{PhaseUsers, func(ctx context.Context) error { return c.EnsureUsers(ctx, users...) }})
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.f(ctx); err != nil {
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

// step is one phase of a sequence.
type step struct {
	phase string
	f     func(context.Context) error
}

// createMembers is Prepare, Bootstrap and Join with each node's start
// waiting only for its own prepare: node 1 bootstraps as soon as it is
// prepared while the others still initialise their datadirs (their
// prepare times differ by up to a second on a loaded machine), and each
// joiner is started in turn once it is prepared. The first failure, of a
// prepare or of the starts, stops the rest and is the error reported.
func (c *Cluster) createMembers(ctx context.Context) error {
	nodes := c.nodes()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	prepared := make([]chan struct{}, len(nodes))
	var wg sync.WaitGroup
	t := time.Now()
	for i, n := range nodes {
		prepared[i] = make(chan struct{})
		wg.Go(func() {
			defer close(prepared[i])
			start := time.Now()
			if err := c.prepareNode(ctx, n); err != nil {
				fail(stepError(PhasePrepare, &NodeError{Phase: PhasePrepare, Node: n.Name, Err: err}))
				return
			}
			c.emitDone("prepare", n.Name, start, "prepared (init system %s)", n.init)
		})
	}
	allPrepared := make(chan struct{})
	go func() {
		wg.Wait()
		if ctx.Err() == nil {
			c.emitDone(PhasePrepare, "", t, "%s done", PhasePrepare)
		}
		close(allPrepared)
	}()
	// ready waits for node i's prepare; false when the sequence stopped.
	ready := func(i int) bool {
		select {
		case <-prepared[i]:
			return ctx.Err() == nil
		case <-ctx.Done():
			return false
		}
	}
	if err := c.startMembers(ctx, nodes, ready); err != nil {
		fail(err)
	}
	<-allPrepared
	return first
}

// startMembers bootstraps node 1 and joins the others one by one, each
// once ready says it is prepared; nil also when ready said stop.
func (c *Cluster) startMembers(ctx context.Context, nodes []*node, ready func(int) bool) error {
	if !ready(0) {
		return nil
	}
	t := time.Now()
	if err := c.Bootstrap(ctx); err != nil {
		return stepError(PhaseBootstrap, err)
	}
	c.emitDone(PhaseBootstrap, "", t, "%s done", PhaseBootstrap)
	t = time.Now()
	for i, n := range nodes[1:] {
		if !ready(i + 1) {
			return nil
		}
		if err := c.joinNode(ctx, nodes[0], n, i+2, len(nodes)); err != nil {
			return stepError(PhaseJoin, &NodeError{Phase: PhaseJoin, Node: n.Name, Err: err})
		}
	}
	c.emitDone(PhaseJoin, "", t, "%s done", PhaseJoin)
	return nil
}
