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
// member. HAProxy starts new servers UP until enough checks fail, so right
// after a change every node can get connections, even in single_writer
// mode; the pool is ready only once the checks have spoken: one writer in
// single_writer mode, at least one fit node in multi_writer mode.
func (m *Manager) waitMembersSettled(ctx context.Context, p *Pool) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	var last string
	err := openstack.WaitFor(ctx, "health checks of pool "+p.PoolID, func(ctx context.Context) (bool, error) {
		members, err := m.cloud.ListPoolMembers(ctx, p.PoolID)
		if err != nil {
			return false, err
		}
		online, judged := 0, 0
		var states []string
		for _, mem := range members {
			states = append(states, mem.Name+"="+mem.OperatingStatus)
			switch mem.OperatingStatus {
			case "ONLINE":
				online++
				judged++
			case "ERROR":
				judged++
			}
		}
		last = strings.Join(states, ", ")
		if judged < len(members) || online == 0 {
			return false, nil
		}
		return p.Mode != ModeSingleWriter || online == 1, nil
	})
	if err != nil {
		return fmt.Errorf("members %s: %w", last, err)
	}
	return nil
}

// SyncPoolMembers makes the members exactly the cluster's nodes in one
// batch update: one PENDING_UPDATE cycle however many nodes changed.
func (m *Manager) SyncPoolMembers(ctx context.Context, p *Pool, c *Cluster) error {
	port := 0
	if l, err := m.cloud.GetListener(ctx, p.ListenerID); err == nil {
		port = l.Port
	} else {
		return err
	}
	if _, err := m.cloud.SetPoolMembers(ctx, p.LoadBalancerID, p.PoolID, DesiredMembers(c, p, port)); err != nil {
		return err
	}
	return m.waitMembersSettled(ctx, p)
}
