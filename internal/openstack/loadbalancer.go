package openstack

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
)

// Octavia provisioning statuses.
var (
	lbPending = []string{"PENDING_CREATE", "PENDING_UPDATE"}
	lbFailed  = []string{"ERROR"}
)

// LoadBalancer is an Octavia load balancer.
type LoadBalancer struct {
	ID                 string
	Name               string
	Description        string
	VIPAddress         string
	VIPPortID          string
	VIPSubnetID        string
	VIPNetworkID       string
	ProvisioningStatus string
	OperatingStatus    string
	Tags               []string
}

// LoadBalancerCreate is what a new load balancer needs: a VIP subnet or network.
type LoadBalancerCreate struct {
	Name         string
	Description  string
	VIPSubnetID  string
	VIPNetworkID string
	VIPAddress   string
	Tags         []string
}

// CreateLoadBalancer creates a load balancer and waits until it is ACTIVE.
func (c *Client) CreateLoadBalancer(ctx context.Context, in LoadBalancerCreate) (LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return LoadBalancer{}, err
	}
	lb, err := loadbalancers.Create(ctx, sc, loadbalancers.CreateOpts{
		Name: in.Name, Description: in.Description, VipSubnetID: in.VIPSubnetID,
		VipNetworkID: in.VIPNetworkID, VipAddress: in.VIPAddress, Tags: in.Tags,
	}).Extract()
	if err != nil {
		return LoadBalancer{}, fmt.Errorf("create load balancer %s: %w", in.Name, err)
	}
	out, err := c.WaitLoadBalancerActive(ctx, lb.ID)
	if err != nil {
		return loadBalancerOf(lb), fmt.Errorf("create load balancer %s: %w", in.Name, err)
	}
	return out, nil
}

// GetLoadBalancer reads a load balancer; IsNotFound(err) when it does not exist.
func (c *Client) GetLoadBalancer(ctx context.Context, id string) (LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return LoadBalancer{}, err
	}
	lb, err := loadbalancers.Get(ctx, sc, id).Extract()
	if err != nil {
		return LoadBalancer{}, fmt.Errorf("get load balancer %s: %w", id, err)
	}
	return loadBalancerOf(lb), nil
}

// ListLoadBalancers lists load balancers with the given name (all when empty).
func (c *Client) ListLoadBalancers(ctx context.Context, name string) ([]LoadBalancer, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := loadbalancers.List(sc, loadbalancers.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list load balancers %s: %w", name, err)
	}
	all, err := loadbalancers.ExtractLoadBalancers(pages)
	if err != nil {
		return nil, fmt.Errorf("list load balancers %s: %w", name, err)
	}
	var out []LoadBalancer
	for i := range all {
		if name == "" || all[i].Name == name {
			out = append(out, loadBalancerOf(&all[i]))
		}
	}
	return out, nil
}

// WaitLoadBalancerActive waits until the load balancer is ACTIVE; ERROR ends
// the wait.
func (c *Client) WaitLoadBalancerActive(ctx context.Context, id string) (LoadBalancer, error) {
	var last LoadBalancer
	_, err := c.waitStatus(ctx, Wait{What: "load balancer " + id, Target: []string{"ACTIVE"}, Pending: lbPending, Failed: lbFailed},
		func(ctx context.Context) (Observation, error) {
			lb, err := c.GetLoadBalancer(ctx, id)
			if err != nil {
				return Observation{}, err
			}
			last = lb
			return Observation{Status: lb.ProvisioningStatus, Fault: "operating status " + lb.OperatingStatus}, nil
		})
	return last, err
}

// DeleteLoadBalancer deletes a load balancer (with everything under it when
// cascade is set) and waits until it is gone. A missing one counts as deleted.
func (c *Client) DeleteLoadBalancer(ctx context.Context, id string, cascade bool) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	err = c.lbWrite(ctx, id, "delete load balancer "+id, []string{"ACTIVE", "ERROR"}, func(ctx context.Context) error {
		return loadbalancers.Delete(ctx, sc, id, loadbalancers.DeleteOpts{Cascade: cascade}).ExtractErr()
	}, false)
	if err != nil {
		if IsNotFound(err) {
			return nil
		}
		return err
	}
	_, err = c.waitStatus(ctx, Wait{What: "load balancer " + id, Target: []string{"DELETED"}, GoneOK: true, Failed: lbFailed},
		func(ctx context.Context) (Observation, error) {
			lb, err := loadbalancers.Get(ctx, sc, id).Extract()
			if err != nil {
				return Observation{}, err
			}
			return Observation{Status: lb.ProvisioningStatus}, nil
		})
	if err != nil {
		return fmt.Errorf("delete load balancer %s: %w", id, err)
	}
	return nil
}

// lbChange makes one change under a load balancer the way Octavia wants:
// wait until the load balancer is ACTIVE, write, and when the write is
// refused with 409 (the tree is immutable while PENDING_*) wait again and
// retry. With waitAfter it then waits for ACTIVE again, so the change is
// done when lbChange returns.
func (c *Client) lbChange(ctx context.Context, lbID, what string, write func(context.Context) error, waitAfter bool) error {
	return c.lbWrite(ctx, lbID, what, []string{"ACTIVE"}, write, waitAfter)
}

// lbWrite is lbChange with the statuses the load balancer may be in before
// the write (a delete may start from ERROR too).
func (c *Client) lbWrite(ctx context.Context, lbID, what string, ready []string, write func(context.Context) error, waitAfter bool) error {
	pause := c.retryBase
	for {
		_, err := c.waitStatus(ctx, Wait{What: "load balancer " + lbID, Target: ready, Pending: lbPending, Failed: lbFailed},
			func(ctx context.Context) (Observation, error) {
				lb, err := c.GetLoadBalancer(ctx, lbID)
				return Observation{Status: lb.ProvisioningStatus, Fault: "operating status " + lb.OperatingStatus}, err
			})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		err = write(ctx)
		if err == nil {
			break
		}
		if !IsConflict(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		// 409: something under the load balancer is still PENDING_*. The load
		// balancer itself may already read ACTIVE, so pause before looking again.
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%s: still refused with 409 when time ran out: %w", what, ctx.Err())
		case <-timer.C:
		}
		pause = min(pause*2, 5*time.Second)
	}
	if waitAfter {
		if _, err := c.WaitLoadBalancerActive(ctx, lbID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// octaviaChange is lbChange for an object under the load balancer (listener,
// pool, monitor): write gets the Octavia client, and the load balancer is
// ACTIVE again when octaviaChange returns.
func (c *Client) octaviaChange(ctx context.Context, lbID, what string, write func(context.Context, *gophercloud.ServiceClient) error) error {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return err
	}
	return c.lbChange(ctx, lbID, what, func(ctx context.Context) error { return write(ctx, sc) }, true)
}

// octaviaDelete is octaviaChange for a delete: a missing object counts as
// deleted.
func (c *Client) octaviaDelete(ctx context.Context, lbID, what string, del func(context.Context, *gophercloud.ServiceClient) error) error {
	if err := c.octaviaChange(ctx, lbID, what, del); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

// provisioned returns obj as read after a change, or a *StatusError when
// Octavia put it in ERROR.
func provisioned[T any](obj T, err error, what, status string) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	if matchStatus(lbFailed, status) {
		return obj, &StatusError{What: what, Status: status, Target: []string{"ACTIVE"}}
	}
	return obj, nil
}

func loadBalancerOf(lb *loadbalancers.LoadBalancer) LoadBalancer {
	return LoadBalancer{
		ID: lb.ID, Name: lb.Name, Description: lb.Description, VIPAddress: lb.VipAddress,
		VIPPortID: lb.VipPortID, VIPSubnetID: lb.VipSubnetID, VIPNetworkID: lb.VipNetworkID,
		ProvisioningStatus: lb.ProvisioningStatus, OperatingStatus: lb.OperatingStatus, Tags: lb.Tags,
	}
}
