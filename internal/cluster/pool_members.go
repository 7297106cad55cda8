package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// settleTimeout bounds waiting for the first health check verdicts; they
// take a few seconds, so minutes mean the checks cannot pass.
const settleTimeout = 3 * time.Minute

// waitMembersSettled waits until the health monitor has judged every
// member, polling Octavia's status tree (which also gives the caller the
// final ids and statuses). HAProxy starts new servers UP until enough
// checks fail, so right after a change every node can get connections,
// even in single_writer mode; the pool is ready only once the checks have
// spoken: one writer in single_writer mode, at least one fit node in
// multi_writer mode.
func (m *Manager) waitMembersSettled(ctx context.Context, p *Pool) (openstack.LoadBalancerStatus, error) {
	return m.waitMembersJudged(ctx, p, "")
}

// waitMembersJudged is waitMembersSettled for a pool whose member
// disabled (if not empty) is administratively down: never checked, OFFLINE.
func (m *Manager) waitMembersJudged(ctx context.Context, p *Pool, disabled string) (openstack.LoadBalancerStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	var last string
	var tree openstack.LoadBalancerStatus
	err := openstack.WaitFor(ctx, "health checks of load balancer "+p.LoadBalancerID, func(ctx context.Context) (bool, error) {
		st, err := m.cloud.GetLoadBalancerStatus(ctx, p.LoadBalancerID)
		if err != nil {
			return false, err
		}
		tree = st
		if f, ok := st.FailedChild(); ok {
			return false, failedChildError(p, f)
		}
		_, pool := st.FirstPool()
		online, judged := 0, 0
		var states []string
		members := len(pool.Members)
		for _, mem := range pool.Members {
			states = append(states, mem.Name+"="+mem.OperatingStatus)
			if mem.Name == disabled {
				members--
				continue
			}
			switch mem.OperatingStatus {
			case "ONLINE":
				online++
				judged++
			case "ERROR":
				judged++
			}
		}
		last = strings.Join(states, ", ")
		if judged < members || online == 0 {
			return false, nil
		}
		return p.Mode != ModeSingleWriter || online == 1, nil
	})
	if err != nil {
		return tree, fmt.Errorf("members %s: %w", last, err)
	}
	return tree, nil
}

// failedChildError is the phase error of a child Octavia left in ERROR:
// the phase is the child's kind ("health monitor", "member"), and the
// message names it as the status tree does.
func failedChildError(p *Pool, f openstack.FailedChild) *PhaseError {
	return &PhaseError{Phase: f.Kind, Err: fmt.Errorf("%s of load balancer %s is in provisioning_status ERROR: Octavia could not configure it", f, p.LoadBalancerID)}
}

// SyncPoolMembers makes the members exactly the cluster's nodes in one
// batch update: one PENDING_UPDATE cycle however many nodes changed.
func (m *Manager) SyncPoolMembers(ctx context.Context, p *Pool, c *Cluster) error {
	return m.syncPoolMembers(ctx, p, c, "")
}

// syncPoolMembers is SyncPoolMembers with member disabled (admin state
// down: no new connection, the health check stops), none when empty.
func (m *Manager) syncPoolMembers(ctx context.Context, p *Pool, c *Cluster, disabled string) error {
	port := p.Port
	if port == 0 {
		l, err := m.cloud.GetListener(ctx, p.ListenerID)
		if err != nil {
			return err
		}
		port = l.Port
	}
	members := DesiredMembers(c, p, port)
	for i := range members {
		if members[i].Name == disabled {
			down := false
			members[i].AdminStateUp = &down
		}
	}
	if _, err := m.cloud.SetPoolMembers(ctx, p.LoadBalancerID, p.PoolID, members); err != nil {
		return err
	}
	st, err := m.waitMembersJudged(ctx, p, disabled)
	if err != nil {
		return err
	}
	p.observe(st)
	return nil
}
