package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// switchTimeout bounds waiting for a single-writer pool's health checks to
// follow a moved writer: they run every second, so a minute means they
// cannot see it.
const switchTimeout = time.Minute

// MoveWriter moves the single writer away from member away before a
// planned step stops it: another Synced member takes the writer record,
// every single-writer pool of the cluster is waited for until its health
// check sends connections there (Octavia reports the new writer ONLINE and
// away not), and away's client sessions are drained until no new one lands
// on it. Nothing happens when away is not the writer.
func (m *Manager) MoveWriter(ctx context.Context, c *Cluster, spec Spec, away string) error {
	pools, err := m.poolsOf(ctx, c)
	if err != nil {
		return &PhaseError{Phase: PhaseMembership, Node: away, Err: err}
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	return m.moveWriter(ctx, c, gc, pools, away)
}

func (m *Manager) moveWriter(ctx context.Context, c *Cluster, gc GuestCluster, pools []*Pool, away string) error {
	start := time.Now()
	to, err := gc.MoveWriter(ctx, away)
	if err != nil {
		return guestPhaseError(err)
	}
	if to == "" {
		return nil
	}
	for _, p := range pools {
		if p.Mode != ModeSingleWriter {
			continue
		}
		if err := m.waitWriterSwitched(ctx, p, away, to); err != nil {
			return &PhaseError{Phase: PhaseMembership, Node: away, Err: err}
		}
	}
	if err := gc.DrainClients(ctx, away, drainQuiet, drainTimeout); err != nil {
		return guestPhaseError(err)
	}
	c.Writer = to
	for i := range c.Nodes {
		switch c.Nodes[i].Name {
		case to:
			c.Nodes[i].Role = RoleWriter
		case away:
			c.Nodes[i].Role = RoleReader
		}
	}
	m.progress(ctx, PhaseMembership, away, fmt.Sprintf("writer moved from %s to %s; no client left on %s", away, to, away), start)
	return nil
}

// waitWriterSwitched waits until the pool's health check passes only for
// the new writer among the two.
func (m *Manager) waitWriterSwitched(ctx context.Context, p *Pool, from, to string) error {
	ctx, cancel := context.WithTimeout(ctx, switchTimeout)
	defer cancel()
	var last string
	err := openstack.WaitFor(ctx, "load balancer "+p.LoadBalancerID+" to send writes to "+to, func(ctx context.Context) (bool, error) {
		st, err := m.cloud.GetLoadBalancerStatus(ctx, p.LoadBalancerID)
		if err != nil {
			return false, err
		}
		_, pool := st.FirstPool()
		var states []string
		newOnline, oldOnline := false, false
		for _, mem := range pool.Members {
			states = append(states, mem.Name+"="+mem.OperatingStatus)
			switch mem.Name {
			case to:
				newOnline = mem.OperatingStatus == "ONLINE"
			case from:
				oldOnline = mem.OperatingStatus == "ONLINE"
			}
		}
		last = strings.Join(states, ", ")
		return newOnline && !oldOnline, nil
	})
	if err != nil {
		return fmt.Errorf("members %s: %w", last, err)
	}
	return nil
}

// poolsOf reads the cluster's load balancers: its own and every
// pxc_lb_pool's, found by their description (clusterLBs).
func (m *Manager) poolsOf(ctx context.Context, c *Cluster) ([]*Pool, error) {
	lbs, err := m.clusterLBs(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("find the cluster's load balancers: %w", err)
	}
	var pools []*Pool
	for _, lb := range lbs {
		p, err := m.ReadPool(ctx, lb.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load balancer %s: %w", lb.ID, err)
		}
		if p.PoolID != "" {
			pools = append(pools, p)
		}
	}
	return pools, nil
}
