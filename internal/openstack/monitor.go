package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
)

// Monitor is an Octavia health monitor.
type Monitor struct {
	ID                 string
	Name               string
	PoolID             string
	Type               string // TCP, HTTP, MYSQL? (Octavia: HTTP, HTTPS, PING, TCP, TLS-HELLO, UDP-CONNECT, SCTP)
	DelaySeconds       int
	TimeoutSeconds     int
	MaxRetries         int
	MaxRetriesDown     int
	HTTPMethod         string
	URLPath            string
	ExpectedCodes      string
	ProvisioningStatus string
	OperatingStatus    string
}

// MonitorSpec is the wanted state of a health monitor. For an update, zero
// fields stay as they are.
type MonitorSpec struct {
	Name           string
	Type           string
	DelaySeconds   int
	TimeoutSeconds int
	MaxRetries     int
	MaxRetriesDown int
	HTTPMethod     string
	URLPath        string
	ExpectedCodes  string
}

// CreateMonitor adds a health monitor to a pool and waits until the load
// balancer is ACTIVE again.
func (c *Client) CreateMonitor(ctx context.Context, lbID, poolID string, in MonitorSpec) (Monitor, error) {
	opts := monitors.CreateOpts{
		PoolID: poolID, Name: in.Name, Type: in.Type, Delay: in.DelaySeconds, Timeout: in.TimeoutSeconds,
		MaxRetries: in.MaxRetries, MaxRetriesDown: in.MaxRetriesDown, HTTPMethod: in.HTTPMethod,
		URLPath: in.URLPath, ExpectedCodes: in.ExpectedCodes,
	}
	var id string
	err := c.octaviaChange(ctx, lbID, fmt.Sprintf("create health monitor on pool %s", poolID), func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		m, err := monitors.Create(ctx, sc, opts).Extract()
		if err == nil {
			id = m.ID
		}
		return err
	})
	if err != nil {
		return Monitor{}, err
	}
	return c.checkMonitor(ctx, id)
}

// GetMonitor reads a health monitor; IsNotFound(err) when it does not exist.
func (c *Client) GetMonitor(ctx context.Context, id string) (Monitor, error) {
	sc, err := c.LoadBalancer(ctx)
	if err != nil {
		return Monitor{}, err
	}
	m, err := monitors.Get(ctx, sc, id).Extract()
	if err != nil {
		return Monitor{}, fmt.Errorf("get health monitor %s: %w", id, err)
	}
	return monitorOf(m), nil
}

// UpdateMonitor changes a health monitor and waits until the load balancer
// is ACTIVE again.
func (c *Client) UpdateMonitor(ctx context.Context, lbID, id string, in MonitorSpec) (Monitor, error) {
	opts := monitors.UpdateOpts{
		Delay: in.DelaySeconds, Timeout: in.TimeoutSeconds, MaxRetries: in.MaxRetries, MaxRetriesDown: in.MaxRetriesDown,
		HTTPMethod: in.HTTPMethod, URLPath: in.URLPath, ExpectedCodes: in.ExpectedCodes,
	}
	if in.Name != "" {
		opts.Name = &in.Name
	}
	err := c.octaviaChange(ctx, lbID, "update health monitor "+id, func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		return monitors.Update(ctx, sc, id, opts).Err
	})
	if err != nil {
		return Monitor{}, err
	}
	return c.checkMonitor(ctx, id)
}

// DeleteMonitor deletes a health monitor and waits until the load balancer is
// ACTIVE again. A missing one counts as deleted.
func (c *Client) DeleteMonitor(ctx context.Context, lbID, id string) error {
	return c.octaviaDelete(ctx, lbID, "delete health monitor "+id, func(ctx context.Context, sc *gophercloud.ServiceClient) error {
		return monitors.Delete(ctx, sc, id).ExtractErr()
	})
}

func (c *Client) checkMonitor(ctx context.Context, id string) (Monitor, error) {
	m, err := c.GetMonitor(ctx, id)
	return provisioned(m, err, "health monitor "+id, m.ProvisioningStatus)
}

func monitorOf(m *monitors.Monitor) Monitor {
	out := Monitor{
		ID: m.ID, Name: m.Name, Type: m.Type, DelaySeconds: m.Delay, TimeoutSeconds: m.Timeout,
		MaxRetries: m.MaxRetries, MaxRetriesDown: m.MaxRetriesDown, HTTPMethod: m.HTTPMethod,
		URLPath: m.URLPath, ExpectedCodes: m.ExpectedCodes, ProvisioningStatus: m.ProvisioningStatus,
		OperatingStatus: m.OperatingStatus,
	}
	if len(m.Pools) > 0 {
		out.PoolID = m.Pools[0].ID
	}
	return out
}
