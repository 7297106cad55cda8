package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
)

// FloatingIP is a Neutron floating IP: an address of an external network
// that, once associated with a port, answers for the port's fixed address.
type FloatingIP struct {
	ID        string
	Address   string // the floating address
	NetworkID string // the external network it comes from
	PortID    string // empty: not associated
	FixedIP   string // the port's address it maps to
	Status    string // ACTIVE or DOWN
}

// CreateFloatingIP allocates a floating IP on the external network
// networkID and, when portID is not empty, associates it with that port.
func (c *Client) CreateFloatingIP(ctx context.Context, networkID, portID string) (FloatingIP, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return FloatingIP{}, err
	}
	f, err := floatingips.Create(ctx, sc, floatingips.CreateOpts{FloatingNetworkID: networkID, PortID: portID}).Extract()
	if err != nil {
		if portID != "" {
			return FloatingIP{}, fmt.Errorf("create floating ip on network %s for port %s: %w", networkID, portID, err)
		}
		return FloatingIP{}, fmt.Errorf("create floating ip on network %s: %w", networkID, err)
	}
	return floatingIPOf(f), nil
}

// GetFloatingIP reads a floating IP; IsNotFound(err) when it does not exist.
func (c *Client) GetFloatingIP(ctx context.Context, id string) (FloatingIP, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return FloatingIP{}, err
	}
	f, err := floatingips.Get(ctx, sc, id).Extract()
	if err != nil {
		return FloatingIP{}, fmt.Errorf("get floating ip %s: %w", id, err)
	}
	return floatingIPOf(f), nil
}

// ListFloatingIPs lists the floating IPs associated with portID (all the
// project's when portID is empty).
func (c *Client) ListFloatingIPs(ctx context.Context, portID string) ([]FloatingIP, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := floatingips.List(sc, floatingips.ListOpts{PortID: portID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list floating ips of port %q: %w", portID, err)
	}
	all, err := floatingips.ExtractFloatingIPs(pages)
	if err != nil {
		return nil, fmt.Errorf("list floating ips of port %q: %w", portID, err)
	}
	var out []FloatingIP
	for i := range all {
		// Filter here too, in case the server ignores the filter.
		if portID == "" || all[i].PortID == portID {
			out = append(out, floatingIPOf(&all[i]))
		}
	}
	return out, nil
}

// DeleteFloatingIP releases a floating IP; a missing one counts as deleted.
func (c *Client) DeleteFloatingIP(ctx context.Context, id string) error {
	sc, err := c.Network(ctx)
	if err != nil {
		return err
	}
	if err := floatingips.Delete(ctx, sc, id).ExtractErr(); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete floating ip %s: %w", id, err)
	}
	return nil
}

func floatingIPOf(f *floatingips.FloatingIP) FloatingIP {
	return FloatingIP{ID: f.ID, Address: f.FloatingIP, NetworkID: f.FloatingNetworkID, PortID: f.PortID,
		FixedIP: f.FixedIP, Status: f.Status}
}
