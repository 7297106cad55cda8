package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// GetSubnet reads a subnet; IsNotFound(err) when it does not exist.
func (c *Client) GetSubnet(ctx context.Context, id string) (Subnet, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return Subnet{}, err
	}
	s, err := subnets.Get(ctx, sc, id).Extract()
	if err != nil {
		return Subnet{}, fmt.Errorf("get subnet %s: %w", id, err)
	}
	return Subnet{ID: s.ID, NetworkID: s.NetworkID, CIDR: s.CIDR, IPVersion: s.IPVersion, GatewayIP: s.GatewayIP}, nil
}

// ListListeners lists the listeners of a load balancer.
func (c *Client) ListListeners(ctx context.Context, lbID string) ([]Listener, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := listeners.List(sc, listeners.ListOpts{LoadbalancerID: lbID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list listeners of load balancer %s: %w", lbID, err)
	}
	all, err := listeners.ExtractListeners(pages)
	if err != nil {
		return nil, fmt.Errorf("list listeners of load balancer %s: %w", lbID, err)
	}
	out := make([]Listener, 0, len(all))
	for i := range all {
		out = append(out, listenerOf(&all[i]))
	}
	return out, nil
}
