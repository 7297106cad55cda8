package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// RestartOrder is the order a rolling restart takes: the members that are
// not the writer in node order, the writer last (the operators' order:
// replicas first, primary last), so the writer moves once.
func RestartOrder(c *Cluster) []string {
	var order []string
	for _, n := range c.Nodes {
		if n.Name != c.Writer {
			order = append(order, n.Name)
		}
	}
	if c.Writer != "" {
		order = append(order, c.Writer)
	}
	return order
}

// RollingRestart restarts every member once so it reads the spec's option
// file (settings the servers read only at start): one node at a time in
// RestartOrder, the writer moved away before its turn (the single-writer
// pools switched, its clients drained), each node Synced and ONLINE in
// every pool that balances over all members before the next. why is the
// reason given in progress ("innodb_log_file_size is not dynamic").
func (m *Manager) RollingRestart(ctx context.Context, c *Cluster, spec Spec, why string) error {
	pools, err := m.poolsOf(ctx, c)
	if err != nil {
		return &PhaseError{Phase: PhaseRollingRestart, Err: err}
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	order := RestartOrder(c)
	for i, name := range order {
		start := time.Now()
		if name == c.Writer {
			if err := m.moveWriter(ctx, c, gc, pools, name); err != nil {
				return err
			}
		}
		if err := gc.RestartMember(ctx, name); err != nil {
			pe := guestDayTwoError(PhaseRollingRestart, err)
			pe.Node = name
			return pe
		}
		for _, p := range pools {
			if p.Mode == ModeSingleWriter {
				continue // a reader is never ONLINE there
			}
			if err := m.waitMemberOnline(ctx, p, name); err != nil {
				return &PhaseError{Phase: PhaseRollingRestart, Node: name, Err: err}
			}
		}
		m.log.Progress(ctx, rollEvent(PhaseRollingRestart, name, "restarted ("+why+")", i+1, len(order), time.Since(start)))
	}
	return nil
}

// waitMemberOnline waits until the pool's health check passes for member
// name again.
func (m *Manager) waitMemberOnline(ctx context.Context, p *Pool, name string) error {
	ctx, cancel := context.WithTimeout(ctx, switchTimeout)
	defer cancel()
	var last string
	err := openstack.WaitFor(ctx, "load balancer "+p.LoadBalancerID+" to send to "+name+" again", func(ctx context.Context) (bool, error) {
		st, err := m.cloud.GetLoadBalancerStatus(ctx, p.LoadBalancerID)
		if err != nil {
			return false, err
		}
		_, pool := st.FirstPool()
		var states []string
		online := false
		for _, mem := range pool.Members {
			states = append(states, mem.Name+"="+mem.OperatingStatus)
			online = online || (mem.Name == name && mem.OperatingStatus == "ONLINE")
		}
		last = strings.Join(states, ", ")
		return online, nil
	})
	if err != nil {
		return fmt.Errorf("members %s: %w", last, err)
	}
	return nil
}
