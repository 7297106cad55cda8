package cluster

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// SetAllowedCIDRs makes the security group open 3306 to exactly the given
// networks (plus the members) and lets root log in from them. Only rules
// the cluster made are removed: a load balancer's rules into the same group
// belong to the load balancer. The root accounts the cluster created for
// the networks it stops opening to are dropped.
func (m *Manager) SetAllowedCIDRs(ctx context.Context, c *Cluster, spec Spec) error {
	sg, err := m.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	if err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	want := map[netip.Prefix]bool{}
	for _, p := range dedupe(spec.AllowedCIDRs) {
		want[p] = true
	}
	// Any rule opening MySQL to a wanted network serves; a second one would
	// be answered 409 by Neutron, whoever made the first.
	have := map[netip.Prefix]bool{}
	var stale []ownedClientRule
	for _, r := range sg.Rules {
		p, ok := clientRuleCIDR(r)
		switch {
		case !ok:
		case want[p]:
			have[p] = true
		case ownsRule(c.ID, r):
			stale = append(stale, ownedClientRule{id: r.ID, cidr: p})
		}
	}
	var missing []netip.Prefix
	for _, p := range dedupe(spec.AllowedCIDRs) {
		if !have[p] {
			missing = append(missing, p)
		}
	}
	// New networks first, so a narrowing never closes what stays open.
	if err := m.addRules(ctx, c, clientRules(missing)); err != nil {
		return &PhaseError{Phase: PhaseCloud, Err: err}
	}
	for _, r := range stale {
		if err := m.cloud.DeleteSecurityGroupRule(ctx, r.id); err != nil {
			return &PhaseError{Phase: PhaseCloud, Err: fmt.Errorf("remove MySQL access from %s: %w", r.cidr, err)}
		}
	}
	users := clientRootUsers(spec)
	dropped := staleRootUsers(stale, want)
	if len(users) == 0 && len(dropped) == 0 {
		return nil
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), nil)
	if err != nil {
		return err
	}
	defer gc.Close()
	if len(users) > 0 {
		if err := gc.EnsureUsers(ctx, users...); err != nil {
			return &PhaseError{Phase: PhaseUsers, Err: err}
		}
	}
	if len(dropped) > 0 {
		if err := gc.DropUsers(ctx, dropped...); err != nil {
			return &PhaseError{Phase: PhaseUsers, Err: err}
		}
	}
	return nil
}

// ownedClientRule is a MySQL rule of the cluster's for a network no longer
// allowed.
type ownedClientRule struct {
	id   string
	cidr netip.Prefix
}

// staleRootUsers are the root accounts the cluster created for the
// networks of its removed rules: root@<network> exists because the network
// was in allowed_cidrs, and the cluster's rule for it is the record of that.
func staleRootUsers(stale []ownedClientRule, want map[netip.Prefix]bool) []guest.User {
	seen := map[string]bool{}
	var users []guest.User
	for _, r := range stale {
		host := mysqlHostPattern(r.cidr)
		if want[r.cidr] || seen[host] {
			continue
		}
		seen[host] = true
		users = append(users, guest.User{Name: "root", Host: host})
	}
	return users
}
