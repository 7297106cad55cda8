package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// Pool is an Octavia pool.
type Pool struct {
	ID                 string
	Name               string
	Protocol           string
	LBMethod           string
	MonitorID          string
	ProvisioningStatus string
	OperatingStatus    string
	Members            []Member
}

// PoolCreate is what a new pool needs: a listener (it becomes the listener's
// default pool) or a load balancer.
type PoolCreate struct {
	Name           string
	Protocol       string // TCP for MySQL
	LBMethod       string // ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP...
	ListenerID     string
	LoadBalancerID string
	// Members and Monitor are made with the pool; only in a fully
	// populated load balancer create (LoadBalancerCreate.Listener).
	Members []MemberSpec
	Monitor *MonitorSpec
}

// PoolUpdate changes a pool; empty fields stay as they are.
type PoolUpdate struct {
	Name     *string
	LBMethod string
}

// CreatePool creates a pool and waits until the load balancer is ACTIVE again.
func (c *Client) CreatePool(ctx context.Context, lbID string, in PoolCreate) (Pool, error) {
	opts := pools.CreateOpts{
		Name: in.Name, Protocol: pools.Protocol(in.Protocol), LBMethod: pools.LBMethod(in.LBMethod),
		ListenerID: in.ListenerID, LoadbalancerID: in.LoadBalancerID,
	}
	var id string
	err := c.octaviaChange(ctx, lbID, fmt.Sprintf("create pool %s on load balancer %s", in.Name, lbID), func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		p, err := pools.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = p.ID
		}
		return err
	})
	if err != nil {
		return Pool{}, err
	}
	return c.checkPool(ctx, id)
}

// GetPool reads a pool and its members; IsNotFound(err) when it does not exist.
func (c *Client) GetPool(ctx context.Context, id string) (Pool, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Pool{}, err
	}
	p, err := pools.Get(ctx, sc, id).Extract()
	if err != nil {
		return Pool{}, fmt.Errorf("get pool %s: %w", id, err)
	}
	out := poolOf(p)
	members, err := c.ListPoolMembers(ctx, id)
	if err != nil {
		return out, err
	}
	out.Members = members
	return out, nil
}

// UpdatePool changes a pool and waits until the load balancer is ACTIVE again.
func (c *Client) UpdatePool(ctx context.Context, lbID, id string, in PoolUpdate) (Pool, error) {
	opts := pools.UpdateOpts{Name: in.Name, LBMethod: pools.LBMethod(in.LBMethod)}
	err := c.octaviaChange(ctx, lbID, "update pool "+id, func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		return pools.Update(ctx, sc, id, opts).Err
	})
	if err != nil {
		return Pool{}, err
	}
	return c.checkPool(ctx, id)
}

// DeletePool deletes a pool and waits until the load balancer is ACTIVE
// again. A missing one counts as deleted.
func (c *Client) DeletePool(ctx context.Context, lbID, id string) error {
	return c.octaviaDelete(ctx, lbID, "delete pool "+id, func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		return pools.Delete(ctx, sc, id).ExtractErr()
	})
}

func (c *Client) checkPool(ctx context.Context, id string) (Pool, error) {
	p, err := c.GetPool(ctx, id)
	return provisioned(p, err, "pool "+id, p.ProvisioningStatus)
}

func poolOf(p *pools.Pool) Pool {
	return Pool{
		ID: p.ID, Name: p.Name, Protocol: p.Protocol, LBMethod: p.LBMethod, MonitorID: p.MonitorID,
		ProvisioningStatus: p.ProvisioningStatus, OperatingStatus: p.OperatingStatus,
	}
}
