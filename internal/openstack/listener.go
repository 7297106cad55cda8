package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
)

// Listener is an Octavia listener.
type Listener struct {
	ID                  string
	Name                string
	Protocol            string
	Port                int
	DefaultPoolID       string
	AllowedCIDRs        []string
	TimeoutClientDataMs int
	TimeoutMemberDataMs int
	ProvisioningStatus  string
	OperatingStatus     string
}

// ListenerCreate is what a new listener needs. Zero timeouts keep Octavia's
// defaults (50 s, too short for idle database connections).
type ListenerCreate struct {
	Name                string
	Protocol            string // TCP for MySQL
	Port                int
	AllowedCIDRs        []string
	TimeoutClientDataMs int
	TimeoutMemberDataMs int
	// DefaultPool is made with the listener; only in a fully populated
	// load balancer create (LoadBalancerCreate.Listener).
	DefaultPool *PoolCreate
}

// ListenerUpdate changes a listener; nil fields stay as they are.
type ListenerUpdate struct {
	Name                *string
	DefaultPoolID       *string
	AllowedCIDRs        *[]string
	TimeoutClientDataMs *int
	TimeoutMemberDataMs *int
}

// CreateListener adds a listener to a load balancer and waits until the load
// balancer is ACTIVE again.
func (c *Client) CreateListener(ctx context.Context, lbID string, in ListenerCreate) (Listener, error) {
	opts := listeners.CreateOpts{
		LoadbalancerID: lbID, Name: in.Name, Protocol: listeners.Protocol(in.Protocol), ProtocolPort: in.Port,
		AllowedCIDRs: in.AllowedCIDRs, TimeoutClientData: positive(in.TimeoutClientDataMs), TimeoutMemberData: positive(in.TimeoutMemberDataMs),
	}
	var id string
	err := c.octaviaChange(ctx, lbID, fmt.Sprintf("create listener %s on load balancer %s", in.Name, lbID), func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		l, err := listeners.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = l.ID
		}
		return err
	})
	if err != nil {
		return Listener{}, err
	}
	return c.checkListener(ctx, id)
}

// GetListener reads a listener; IsNotFound(err) when it does not exist.
func (c *Client) GetListener(ctx context.Context, id string) (Listener, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Listener{}, err
	}
	l, err := listeners.Get(ctx, sc, id).Extract()
	if err != nil {
		return Listener{}, fmt.Errorf("get listener %s: %w", id, err)
	}
	return listenerOf(l), nil
}

// UpdateListener changes a listener and waits until the load balancer is
// ACTIVE again.
func (c *Client) UpdateListener(ctx context.Context, lbID, id string, in ListenerUpdate) (Listener, error) {
	opts := listeners.UpdateOpts{
		Name: in.Name, DefaultPoolID: in.DefaultPoolID, AllowedCIDRs: in.AllowedCIDRs,
		TimeoutClientData: in.TimeoutClientDataMs, TimeoutMemberData: in.TimeoutMemberDataMs,
	}
	err := c.octaviaChange(ctx, lbID, "update listener "+id, func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		return listeners.Update(ctx, sc, id, opts).Err
	})
	if err != nil {
		return Listener{}, err
	}
	return c.checkListener(ctx, id)
}

// DeleteListener deletes a listener and waits until the load balancer is
// ACTIVE again. A missing one counts as deleted.
func (c *Client) DeleteListener(ctx context.Context, lbID, id string) error {
	return c.octaviaDelete(ctx, lbID, "delete listener "+id, func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		return listeners.Delete(ctx, sc, id).ExtractErr()
	})
}

func (c *Client) checkListener(ctx context.Context, id string) (Listener, error) {
	l, err := c.GetListener(ctx, id)
	return provisioned(l, err, "listener "+id, l.ProvisioningStatus)
}

func listenerOf(l *listeners.Listener) Listener {
	return Listener{
		ID: l.ID, Name: l.Name, Protocol: l.Protocol, Port: l.ProtocolPort, DefaultPoolID: l.DefaultPoolID,
		AllowedCIDRs: l.AllowedCIDRs, TimeoutClientDataMs: l.TimeoutClientData, TimeoutMemberDataMs: l.TimeoutMemberData,
		ProvisioningStatus: l.ProvisioningStatus, OperatingStatus: l.OperatingStatus,
	}
}

func positive(v int) *int {
	if v <= 0 {
		return nil
	}
	return &v
}
