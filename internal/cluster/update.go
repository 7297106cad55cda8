package cluster

import (
	"context"
	"fmt"
	"net/netip"
)

// SetAllowedCIDRs makes the security group open 3306 to exactly the given
// networks (plus the members) and lets root log in from them. Rules for
// networks no longer listed are removed; the members' rules stay.
func (m *Manager) SetAllowedCIDRs(ctx context.Context, c *Cluster, spec Spec) error {
	sg, err := m.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	if err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	want := map[netip.Prefix]bool{}
	for _, p := range dedupe(spec.AllowedCIDRs) {
		want[p] = true
	}
	have := map[netip.Prefix]bool{}
	for _, r := range sg.Rules {
		if r.Direction != "ingress" || r.PortMin != portMySQL || r.RemoteIPPrefix == "" {
			continue
		}
		p, err := netip.ParsePrefix(r.RemoteIPPrefix)
		if err != nil {
			continue
		}
		p = p.Masked()
		if want[p] {
			have[p] = true
			continue
		}
		if err := m.cloud.DeleteSecurityGroupRule(ctx, r.ID); err != nil {
			return &PhaseError{Phase: PhaseCloud, Err: fmt.Errorf("remove MySQL access from %s: %w", p, err)}
		}
	}
	var missing []netip.Prefix
	for _, p := range dedupe(spec.AllowedCIDRs) {
		if !have[p] {
			missing = append(missing, p)
		}
	}
	if err := m.addRules(ctx, c.SecurityGroupID, clientRules(missing)); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	users := clientRootUsers(spec)
	if len(users) == 0 {
		return nil
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), nil)
	if err != nil {
		return err
	}
	defer gc.Close()
	if err := gc.EnsureUsers(ctx, users...); err != nil {
		return &PhaseError{Phase: PhaseUsers, Err: err}
	}
	return nil
}
