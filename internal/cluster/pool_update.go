package cluster

import (
	"context"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// UpdatePool changes what can change in place: the balancing method and
// the listener's idle timeouts, each one Octavia change.
func (m *Manager) UpdatePool(ctx context.Context, p *Pool, s PoolSpec) error {
	if s.LBMethod != "" && s.LBMethod != p.LBMethod {
		if _, err := m.cloud.UpdatePool(ctx, p.LoadBalancerID, p.PoolID, openstack.PoolUpdate{LBMethod: s.LBMethod}); err != nil {
			return err
		}
	}
	if s.ClientTimeoutMs != p.ClientTimeoutMs || s.MemberTimeoutMs != p.MemberTimeoutMs {
		_, err := m.cloud.UpdateListener(ctx, p.LoadBalancerID, p.ListenerID, openstack.ListenerUpdate{
			TimeoutClientDataMs: &s.ClientTimeoutMs, TimeoutMemberDataMs: &s.MemberTimeoutMs,
		})
		if err != nil {
			return err
		}
	}
	return nil
}
