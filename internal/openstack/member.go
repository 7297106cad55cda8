package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Member is one backend of a pool.
type Member struct {
	ID                 string
	Name               string
	Address            string
	Port               int
	SubnetID           string
	Weight             int
	Backup             bool
	AdminStateUp       bool
	MonitorAddress     string
	MonitorPort        int
	ProvisioningStatus string
	OperatingStatus    string // ONLINE, OFFLINE, ERROR, NO_MONITOR, DRAINING
}

// MemberSpec is the wanted state of one member in SetPoolMembers.
type MemberSpec struct {
	Name           string
	Address        string
	Port           int
	SubnetID       string
	Weight         *int  // nil: Octavia's default (1)
	Backup         bool  // receives traffic only when no non-backup member is up
	AdminStateUp   *bool // nil: up
	MonitorAddress string
	MonitorPort    int
}

// SetPoolMembers makes the pool's members exactly specs in one batch update
// (members not listed are removed) and waits until the load balancer is
// ACTIVE again. It returns the members as Octavia then reports them.
func (c *Client) SetPoolMembers(ctx context.Context, lbID, poolID string, specs []MemberSpec) ([]Member, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	opts := make([]pools.BatchUpdateMemberOpts, 0, len(specs))
	for _, s := range specs {
		o := pools.BatchUpdateMemberOpts{
			Address: s.Address, ProtocolPort: s.Port, Weight: s.Weight, AdminStateUp: s.AdminStateUp,
			Backup: &s.Backup,
		}
		if s.Name != "" {
			o.Name = &s.Name
		}
		if s.SubnetID != "" {
			o.SubnetID = &s.SubnetID
		}
		if s.MonitorAddress != "" {
			o.MonitorAddress = &s.MonitorAddress
		}
		if s.MonitorPort != 0 {
			o.MonitorPort = &s.MonitorPort
		}
		opts = append(opts, o)
	}
	err = c.lbChange(ctx, lbID, fmt.Sprintf("set %d members of pool %s", len(specs), poolID), func(ctx context.Context) error {
		return pools.BatchUpdateMembers(ctx, sc, poolID, opts).ExtractErr()
	}, true)
	if err != nil {
		return nil, err
	}
	return c.ListPoolMembers(ctx, poolID)
}

// ListPoolMembers lists the members of a pool.
func (c *Client) ListPoolMembers(ctx context.Context, poolID string) ([]Member, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := pools.ListMembers(sc, poolID, pools.ListMembersOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members of pool %s: %w", poolID, err)
	}
	all, err := pools.ExtractMembers(pages)
	if err != nil {
		return nil, fmt.Errorf("list members of pool %s: %w", poolID, err)
	}
	out := make([]Member, 0, len(all))
	for _, m := range all {
		out = append(out, Member{
			ID: m.ID, Name: m.Name, Address: m.Address, Port: m.ProtocolPort, SubnetID: m.SubnetID,
			Weight: m.Weight, Backup: m.Backup, AdminStateUp: m.AdminStateUp, MonitorAddress: m.MonitorAddress,
			MonitorPort: m.MonitorPort, ProvisioningStatus: m.ProvisioningStatus, OperatingStatus: m.OperatingStatus,
		})
	}
	return out, nil
}
