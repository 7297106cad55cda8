package openstack

import (
	"context"
	"fmt"

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
}

// PoolUpdate changes a pool; empty fields stay as they are.
type PoolUpdate struct {
	Name     *string
	LBMethod string
}

// CreatePool creates a pool and waits until the load balancer is ACTIVE again.
func (c *Client) CreatePool(ctx context.Context, lbID string, in PoolCreate) (Pool, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Pool{}, err
	}
	opts := pools.CreateOpts{
		Name: in.Name, Protocol: pools.Protocol(in.Protocol), LBMethod: pools.LBMethod(in.LBMethod),
		ListenerID: in.ListenerID, LoadbalancerID: in.LoadBalancerID,
	}
	var id string
	err = c.lbChange(ctx, lbID, fmt.Sprintf("create pool %s on load balancer %s", in.Name, lbID), func(ctx context.Context) error {
		p, err := pools.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = p.ID
		}
		return err
	}, true)
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
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Pool{}, err
	}
	opts := pools.UpdateOpts{Name: in.Name, LBMethod: pools.LBMethod(in.LBMethod)}
	err = c.lbChange(ctx, lbID, "update pool "+id, func(ctx context.Context) error {
		return pools.Update(ctx, sc, id, opts).Err
	}, true)
	if err != nil {
		return Pool{}, err
	}
	return c.checkPool(ctx, id)
}

// DeletePool deletes a pool and waits until the load balancer is ACTIVE
// again. A missing one counts as deleted.
func (c *Client) DeletePool(ctx context.Context, lbID, id string) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	err = c.lbChange(ctx, lbID, "delete pool "+id, func(ctx context.Context) error {
		return pools.Delete(ctx, sc, id).ExtractErr()
	}, true)
	if err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

func (c *Client) checkPool(ctx context.Context, id string) (Pool, error) {
	p, err := c.GetPool(ctx, id)
	if err != nil {
		return Pool{}, err
	}
	if matchStatus(lbFailed, p.ProvisioningStatus) {
		return p, &StatusError{What: "pool " + id, Status: p.ProvisioningStatus, Target: []string{"ACTIVE"}}
	}
	return p, nil
}

func poolOf(p *pools.Pool) Pool {
	return Pool{
		ID: p.ID, Name: p.Name, Protocol: p.Protocol, LBMethod: p.LBMethod, MonitorID: p.MonitorID,
		ProvisioningStatus: p.ProvisioningStatus, OperatingStatus: p.OperatingStatus,
	}
}
