package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// settleTimeout bounds waiting for the first health check verdicts; they
// take a few seconds, so minutes mean the checks cannot pass.
const settleTimeout = 3 * time.Minute

// waitMembersSettled waits until the health monitor has judged every
// member, polling Octavia's status tree (which also gives the caller the
// final ids and statuses). HAProxy starts new servers UP until a check
// fails, so right after a create every node can get connections, even in
// single_writer mode (a sync stages new members as backups there); the
// pool is ready only once the checks have spoken: one writer in
// single_writer mode, at least one fit node in multi_writer mode.
func (m *Manager) waitMembersSettled(ctx context.Context, p *Pool) (openstack.LoadBalancerStatus, error) {
	return m.waitMembersJudged(ctx, p, "")
}

// waitMembersJudged is waitMembersSettled for a pool whose member
// disabled (if not empty) is administratively down: never checked, OFFLINE.
func (m *Manager) waitMembersJudged(ctx context.Context, p *Pool, disabled string) (openstack.LoadBalancerStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	return m.waitMembers(ctx, p, "health checks of load balancer "+p.LoadBalancerID, func(members []openstack.Member) bool {
		online, judged, counted := 0, 0, 0
		for _, mem := range members {
			if mem.Name == disabled {
				continue
			}
			counted++
			switch mem.OperatingStatus {
			case "ONLINE":
				online++
				judged++
			case "ERROR":
				judged++
			}
		}
		if judged < counted || online == 0 {
			return false
		}
		return p.Mode != ModeSingleWriter || online == 1
	})
}

// waitMembers polls the load balancer's status tree until done says the
// first pool's members are as wanted. A child Octavia put in ERROR ends
// the wait; on a timeout the error lists every member's operating status.
func (m *Manager) waitMembers(ctx context.Context, p *Pool, what string, done func([]openstack.Member) bool) (openstack.LoadBalancerStatus, error) {
	var last string
	var tree openstack.LoadBalancerStatus
	err := openstack.WaitFor(ctx, what, func(ctx context.Context) (bool, error) {
		st, err := m.cloud.GetLoadBalancerStatus(ctx, p.LoadBalancerID)
		if err != nil {
			return false, err
		}
		tree = st
		if f, ok := st.FailedChild(); ok {
			return false, failedChildError(p, f)
		}
		_, pool := st.FirstPool()
		var states []string
		for _, mem := range pool.Members {
			states = append(states, mem.Name+"="+mem.OperatingStatus)
		}
		last = strings.Join(states, ", ")
		return done(pool.Members), nil
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
// batch update: one PENDING_UPDATE cycle however many nodes changed. In
// single_writer mode a member new to the pool takes two (addUnchecked).
func (m *Manager) SyncPoolMembers(ctx context.Context, p *Pool, c *Cluster) error {
	return m.syncPoolMembers(ctx, p, c, "")
}

// syncPoolMembers is SyncPoolMembers with member disabled (admin state
// down: no new connection, the health check stops), none when empty.
// Every member ends non-backup, so a backup member left by an interrupted
// change is corrected here too.
func (m *Manager) syncPoolMembers(ctx context.Context, p *Pool, c *Cluster, disabled string) error {
	members, err := m.poolMembers(ctx, p, c)
	if err != nil {
		return err
	}
	for i := range members {
		if members[i].Name == disabled {
			down := false
			members[i].AdminStateUp = &down
		}
	}
	if p.Mode == ModeSingleWriter {
		if err := m.addUnchecked(ctx, p, members, disabled); err != nil {
			return err
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

// poolMembers is what the pool's members should be: the cluster's nodes
// on the listener's port.
func (m *Manager) poolMembers(ctx context.Context, p *Pool, c *Cluster) ([]openstack.MemberSpec, error) {
	port := p.Port
	if port == 0 {
		l, err := m.cloud.GetListener(ctx, p.ListenerID)
		if err != nil {
			return nil, err
		}
		port = l.Port
	}
	return DesiredMembers(c, p, port), nil
}

// addUnchecked puts the members HAProxy has not checked yet into a
// single-writer pool as backups and waits for their first health check.
// HAProxy (before 3.1's init-state) starts a server it has no saved state
// for UP: a new non-backup member would take new connections for up to
// one check interval although it is not the writer. A backup takes none
// while the writer (non-backup) is UP. Unchecked are the members not in
// the pool yet and the backups Octavia shows no verdict for (OFFLINE: a
// change staged them and was interrupted before their first check); the
// others keep their place, and a backup already judged (ONLINE or ERROR:
// HAProxy keeps its state when it loses the flag) is promoted at once.
func (m *Manager) addUnchecked(ctx context.Context, p *Pool, members []openstack.MemberSpec, disabled string) error {
	live, err := m.cloud.ListPoolMembers(ctx, p.PoolID)
	if err != nil {
		return fmt.Errorf("members of pool %s: %w", p.PoolID, err)
	}
	checked := map[string]bool{}
	for _, l := range live {
		if !l.Backup || l.OperatingStatus == "ONLINE" || l.OperatingStatus == "ERROR" {
			checked[memberKey(l.Address, l.Port)] = true
		}
	}
	staged := slices.Clone(members)
	var unchecked []string
	for i, s := range staged {
		if s.Name == disabled || checked[memberKey(s.Address, s.Port)] {
			continue // a disabled member is never checked, nor sent connections
		}
		staged[i].Backup = true
		unchecked = append(unchecked, s.Name)
	}
	if len(unchecked) == 0 {
		return nil
	}
	if _, err := m.cloud.SetPoolMembers(ctx, p.LoadBalancerID, p.PoolID, staged); err != nil {
		return err
	}
	return m.waitFirstChecks(ctx, p, unchecked)
}

// memberKey is how Octavia's batch update matches members: by address and
// protocol port.
func memberKey(address string, port int) string {
	return fmt.Sprintf("%s:%d", address, port)
}

// firstCheckTimeout bounds waiting for new members' first health check:
// it runs within a second, so a minute means it does not run.
var firstCheckTimeout = switchTimeout

// waitFirstChecks waits until the health monitor has judged each of the
// named members: ONLINE (it passes: it became the writer meanwhile) or
// ERROR (it fails). Before its first check Octavia shows a new member
// OFFLINE. An ONLINE beside another ONLINE member is not taken as a
// verdict: a writer that just moved, or an unchecked server some Octavia
// reports UP; it settles within the wait.
func (m *Manager) waitFirstChecks(ctx context.Context, p *Pool, names []string) error {
	ctx, cancel := context.WithTimeout(ctx, firstCheckTimeout)
	defer cancel()
	_, err := m.waitMembers(ctx, p, "first health checks of "+strings.Join(names, ", ")+" in load balancer "+p.LoadBalancerID, func(members []openstack.Member) bool {
		online, judged, newOnline := 0, 0, false
		for _, mem := range members {
			isNew := slices.Contains(names, mem.Name)
			switch mem.OperatingStatus {
			case "ONLINE":
				online++
				if isNew {
					judged++
					newOnline = true
				}
			case "ERROR":
				if isNew {
					judged++
				}
			}
		}
		return judged == len(names) && (!newOnline || online == 1)
	})
	return err
}
