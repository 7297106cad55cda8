package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Phases of the server rolls in errors and progress events.
const (
	PhaseResize  = "resize"
	PhaseRebuild = "rebuild"
)

// serverChange is one kind of roll over the members' servers: what the
// cloud does to one server, and how its mysqld rejoins afterwards.
type serverChange struct {
	phase string
	// attribute is the configuration attribute the roll applies ("flavor").
	attribute string
	// change changes the node's server in the cloud and returns once it
	// answers SSH again (with its recorded or newly verified host key),
	// saying what it did ("resized to m1.medium"). On failure the server
	// is back on its old setting, or the error says why not.
	change func(ctx context.Context, n *Node) (string, error)
	// rejoin brings the node's mysqld back into the cluster, Synced, its
	// health responder up.
	rejoin func(ctx context.Context, gc GuestCluster, name string) error
}

// rollOrder is RestartOrder restricted to the named nodes: the members
// that are not the writer in node order, the writer last.
func rollOrder(c *Cluster, todo []string) []string {
	var order []string
	for _, name := range RestartOrder(c) {
		if slices.Contains(todo, name) {
			order = append(order, name)
		}
	}
	return order
}

// roll applies ch to the servers of the named nodes one at a time in
// rollOrder: the writer moved away first (its clients drained), the node
// taken out of every pool that balances over all members and drained, its
// mysqld stopped cleanly, its server changed, mysqld back and Synced, the
// member enabled and ONLINE again before the next. A failure stops the
// roll at that node after bringing it back into the cluster: the nodes
// before it keep the new setting (recorded in c), the others the old one,
// so the next apply resumes with the nodes still on the old setting.
func (m *Manager) roll(ctx context.Context, c *Cluster, spec Spec, ch serverChange, todo []string) error {
	pools, err := m.poolsOf(ctx, c)
	if err != nil {
		return &PhaseError{Phase: ch.phase, Err: err}
	}
	order := rollOrder(c, todo)
	for i, name := range order {
		start := time.Now()
		did, err := m.rollNode(ctx, c, spec, ch, pools, name)
		if err != nil {
			return err
		}
		m.log.Progress(ctx, rollEvent(ch.phase, name, did, i+1, len(order), time.Since(start)))
	}
	return nil
}

// rollEvent is one node's progress line: "db-2: resized to m1.medium,
// Synced, 7.2s; 2 of 3 done".
func rollEvent(phase, name, did string, done, total int, took time.Duration) Event {
	took = took.Round(100 * time.Millisecond)
	return Event{Phase: phase, Node: name, Duration: took,
		Message: fmt.Sprintf("%s: %s, Synced, %s; %d of %d done", name, did, took, done, total)}
}

// rollNode is one node's turn of a roll.
func (m *Manager) rollNode(ctx context.Context, c *Cluster, spec Spec, ch serverChange, pools []*Pool, name string) (string, error) {
	i := c.nodeIndex(name)
	if i < 0 {
		return "", &PhaseError{Phase: ch.phase, Node: name, Err: errors.New("no such member")}
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return "", err
	}
	if err := m.takeOut(ctx, c, gc, pools, name); err != nil {
		gc.Close()
		return "", err
	}
	if err := gc.StopNode(ctx, name); err != nil {
		gc.Close()
		return "", m.bringBack(ctx, c, spec, ch, pools, name, &PhaseError{Phase: ch.phase, Node: name, Err: fmt.Errorf("stop mysqld cleanly: %w", err)})
	}
	gc.Close()
	n := &c.Nodes[i]
	did, err := ch.change(ctx, n)
	if err != nil {
		var pe *PhaseError
		if !errors.As(err, &pe) {
			err = &PhaseError{Phase: ch.phase, Node: name, Err: fmt.Errorf("%s: %w", ch.attribute, err)}
		}
		return "", m.bringBack(ctx, c, spec, ch, pools, name, err)
	}
	// The server may have a new host key (rebuild): connect afresh.
	if err := m.bringBack(ctx, c, spec, ch, pools, name, nil); err != nil {
		return "", err
	}
	return did, nil
}

// takeOut moves the writer away from name (single-writer pools switched,
// its clients drained), or disables its member in the pools that balance
// over all members and drains its clients.
func (m *Manager) takeOut(ctx context.Context, c *Cluster, gc GuestCluster, pools []*Pool, name string) error {
	if name == c.Writer {
		if err := m.moveWriter(ctx, c, gc, pools, name); err != nil {
			return err
		}
	}
	disabled := false
	for _, p := range pools {
		if p.Mode == ModeSingleWriter {
			continue // a reader gets no connection there
		}
		if err := m.syncPoolMembers(ctx, p, c, name); err != nil {
			return &PhaseError{Phase: PhaseMembership, Node: name, Err: fmt.Errorf("disable in load balancer %s: %w", p.LoadBalancerID, err)}
		}
		disabled = true
	}
	if disabled {
		if err := gc.DrainClients(ctx, name, drainQuiet, drainTimeout); err != nil {
			return guestPhaseError(err)
		}
	}
	return nil
}

// bringBack rejoins name's mysqld (ch.rejoin), enables its member again
// in the pools that balance over all members and waits until it is ONLINE
// there. failed is the error that stopped the roll at name (nil when its
// change succeeded); it is returned with what bringing the node back did
// not manage.
func (m *Manager) bringBack(ctx context.Context, c *Cluster, spec Spec, ch serverChange, pools []*Pool, name string, failed error) error {
	back := func() error {
		gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
		if err != nil {
			return err
		}
		defer gc.Close()
		rejoin := ch.rejoin
		if failed != nil {
			rejoin = repairRejoin // the server kept its old setting and root disk
		}
		if err := rejoin(ctx, gc, name); err != nil {
			pe := guestDayTwoError(ch.phase, err)
			pe.Node = name
			return pe
		}
		for _, p := range pools {
			if p.Mode == ModeSingleWriter {
				continue
			}
			if err := m.syncPoolMembers(ctx, p, c, ""); err != nil {
				return &PhaseError{Phase: PhaseMembership, Node: name, Err: fmt.Errorf("enable in load balancer %s: %w", p.LoadBalancerID, err)}
			}
			if err := m.waitMemberOnline(ctx, p, name); err != nil {
				return &PhaseError{Phase: ch.phase, Node: name, Err: err}
			}
		}
		return nil
	}
	err := back()
	if failed == nil {
		return err
	}
	if err != nil {
		m.log.Warn(ctx, fmt.Sprintf("%s: bringing the node back after the failed %s: %v", name, ch.phase, err))
		return errors.Join(failed, fmt.Errorf("bringing %s back afterwards failed too: %w", name, err))
	}
	return failed
}

// repairRejoin starts a member whose root disk is the one it had (after
// a reboot): started if down, waited for while it joins, its responder
// restarted.
func repairRejoin(ctx context.Context, gc GuestCluster, name string) error {
	return gc.RepairNode(ctx, name)
}

// RollTargets resolves what a flavor or image roll moves the nodes to:
// the flavor's name (as Nova reports a server's flavor) and the image's
// id. An empty reference is skipped.
func (m *Manager) RollTargets(ctx context.Context, flavor, image string) (flavorName, imageID string, err error) {
	if flavor != "" {
		f, err := m.cloud.ResolveFlavor(ctx, flavor)
		if err != nil {
			return "", "", &ReferenceError{Field: "flavor", Err: err}
		}
		flavorName = f.Name
	}
	if image != "" {
		img, err := m.cloud.ResolveImage(ctx, image)
		if err != nil {
			return "", "", &ReferenceError{Field: "image", Err: err}
		}
		imageID = img.ID
	}
	return flavorName, imageID, nil
}
