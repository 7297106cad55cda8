package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// PortFilter selects ports; empty fields match anything.
type PortFilter struct {
	Name        string
	Description string
	NetworkID   string
	DeviceID    string
}

// ListPorts lists the ports matching f. The filter is applied here as well,
// in case the server ignores one.
func (c *Client) ListPorts(ctx context.Context, f PortFilter) ([]Port, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return nil, err
	}
	opts := ports.ListOpts{Name: f.Name, Description: f.Description, NetworkID: f.NetworkID, DeviceID: f.DeviceID}
	pages, err := ports.List(sc, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list ports: %w", err)
	}
	all, err := ports.ExtractPorts(pages)
	if err != nil {
		return nil, fmt.Errorf("list ports: %w", err)
	}
	var out []Port
	for i := range all {
		p := all[i]
		if (f.Name == "" || p.Name == f.Name) && (f.Description == "" || p.Description == f.Description) &&
			(f.NetworkID == "" || p.NetworkID == f.NetworkID) && (f.DeviceID == "" || p.DeviceID == f.DeviceID) {
			out = append(out, portOf(&p))
		}
	}
	return out, nil
}
