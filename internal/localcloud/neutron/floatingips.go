package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// The external network "public" and its floating IPs.
//
// The public subnet is a second /24 on the same bridge as the private one;
// the machine holds its .1, so floating IPs are reachable from the machine
// (and from every host and VIP with a floating IP). Neutron maps a floating
// IP to the fixed IP in a router namespace (DNAT in, SNAT out). Here there is
// no router: associating puts the floating address (with the public prefix
// length) on eth0 of the namespace that owns the fixed address, the server's
// host or the load balancer's VIP namespace, plus a DNAT rule there from
// the floating to the fixed address (host.Network.AddAlias). Differences
// a client can see: the owner has the floating address on its interface,
// and its own outgoing connections leave from its fixed address (no SNAT).
// An association to a port whose owner does not exist yet (a server still
// building) stays DOWN until a read finds the owner.

const publicNetworkName = "public"

func (c *Service) floatingIPRoutes(mux *http.ServeMux, a func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /network/v2.0/floatingips", a(neutronList(c, "floatingips", c.SortedFloatingIPs, c.floatingIPShowBody)))
	mux.HandleFunc("POST /network/v2.0/floatingips", a(c.createFloatingIP))
	mux.HandleFunc("GET /network/v2.0/floatingips/{id}", a(neutronShow(c, "floatingip", c.floatingIPOr404, c.floatingIPShowBody)))
	mux.HandleFunc("PUT /network/v2.0/floatingips/{id}", a(c.updateFloatingIP))
	mux.HandleFunc("DELETE /network/v2.0/floatingips/{id}", a(c.deleteFloatingIP))
}

// publicNetworkBody renders the external network; callers hold c.mu.
func (c *Service) publicNetworkBody() map[string]any {
	b := c.networkBody()
	b["id"], b["name"], b["router:external"], b["is_default"] = c.St.PublicNetID, publicNetworkName, true, false
	b["subnets"] = []string{c.St.PublicSubnetID}
	return b
}

// publicSubnetBody renders the external subnet; its pool leaves out .1
// (the machine) like the private one.
func (c *Service) publicSubnetBody() map[string]any {
	b := c.subnetBody()
	base := c.Public.Addr().As4()
	b["id"], b["name"], b["network_id"] = c.St.PublicSubnetID, publicNetworkName+"-subnet", c.St.PublicNetID
	b["cidr"], b["gateway_ip"], b["enable_dhcp"] = c.Public.String(), c.Public.Addr().Next().String(), false
	b["allocation_pools"] = []any{map[string]any{
		"start": netip.AddrFrom4([4]byte{base[0], base[1], base[2], 2}).String(),
		"end":   netip.AddrFrom4([4]byte{base[0], base[1], base[2], 254}).String()}}
	return b
}

func (c *Service) SortedFloatingIPs() []*state.FloatingIP {
	return core.ByCreation(c.St.FloatingIPs, func(f *state.FloatingIP) (time.Time, string) { return f.CreatedAt, f.ID }, false)
}

// floatingIPBody renders f like Neutron; callers hold c.mu.
func (c *Service) floatingIPBody(f *state.FloatingIP) map[string]any {
	var portID, fixed, details any
	if f.PortID != "" {
		portID, fixed = f.PortID, f.FixedIP
		if p, ok := c.St.Ports[f.PortID]; ok {
			details = map[string]any{"status": c.PortStatus(p), "name": p.Name, "admin_state_up": p.AdminStateUp,
				"network_id": p.NetworkID, "device_owner": p.DeviceOwner, "mac_address": p.MAC, "device_id": p.DeviceID}
		}
	}
	return map[string]any{
		"id": f.ID, "floating_ip_address": f.Address, "floating_network_id": c.St.PublicNetID,
		"router_id": nil, "port_id": portID, "fixed_ip_address": fixed, "status": f.Status(),
		"project_id": f.ProjectID, "tenant_id": f.ProjectID, "description": f.Description,
		"dns_domain": "", "dns_name": "", "created_at": f.CreatedAt.UTC().Format(core.NovaTime),
		"updated_at": f.UpdatedAt.UTC().Format(core.NovaTime), "revision_number": f.Revision,
		"port_details": details, "tags": []string{}, "port_forwardings": []any{},
		"qos_policy_id": nil, "qos_network_policy_id": nil,
	}
}

// aliasOf is the address a floating IP gets on its port's owner.
func (c *Service) aliasOf(f *state.FloatingIP) netip.Prefix {
	return netip.PrefixFrom(netip.MustParseAddr(f.Address), c.Public.Bits())
}

// activate puts f's address on the owner of its fixed IP, if the owner
// exists now (a server still building has none yet: f stays DOWN and the
// next read tries again). Callers hold c.mu.
func (c *Service) activate(ctx context.Context, f *state.FloatingIP) {
	fixed, err := netip.ParseAddr(f.FixedIP)
	if err != nil {
		return
	}
	err = c.Network.AddAlias(ctx, fixed, c.aliasOf(f))
	if err != nil && !errors.Is(err, host.ErrNoMember) {
		c.Log.Error("activate floating ip", "id", f.ID, "err", err)
	}
	f.Active = err == nil
}

// deactivate removes f's address from its owner; callers hold c.mu.
func (c *Service) deactivate(ctx context.Context, f *state.FloatingIP) {
	if fixed, err := netip.ParseAddr(f.FixedIP); err == nil && f.Active {
		if err := c.Network.RemoveAlias(ctx, fixed, c.aliasOf(f)); err != nil {
			c.Log.Error("deactivate floating ip", "id", f.ID, "err", err)
		}
	}
	f.Active = false
}

// reconcile brings f's status up to date with its owner's existence.
func (c *Service) reconcile(ctx context.Context, f *state.FloatingIP) {
	if f.PortID == "" {
		return
	}
	fixed, err := netip.ParseAddr(f.FixedIP)
	if err != nil {
		return
	}
	switch has := c.Network.HasMember(fixed); {
	case has && !f.Active:
		c.activate(ctx, f)
	case !has && f.Active:
		f.Active = false // the owner went, and its address with it
	}
}

// DisassociatePortLocked detaches the floating IPs of a deleted port, as
// Neutron does; callers hold c.mu.
func (c *Service) DisassociatePortLocked(portID string) {
	for _, f := range c.St.FloatingIPs {
		if f.PortID == portID {
			c.deactivate(context.Background(), f)
			f.PortID, f.FixedIP = "", ""
			f.Revision++
			f.UpdatedAt = time.Now()
		}
	}
}

// associate validates that f may take port portID (with fixed, if given)
// and records it; the caller activates. Callers hold c.mu.
func (c *Service) associate(f *state.FloatingIP, portID, fixed string) *core.Error {
	p, ok := c.St.Ports[portID]
	if !ok {
		return core.NeutronErrf(404, "PortNotFound", "Port %s could not be found.", portID)
	}
	if len(p.FixedIPs) == 0 {
		return core.NeutronErrf(400, "BadRequest", "Bad floatingip request: Port %s does not have any IPv4 address.", portID)
	}
	if fixed == "" {
		fixed = p.FixedIPs[0].IPAddress
	}
	found := false
	for _, ip := range p.FixedIPs {
		found = found || ip.IPAddress == fixed
	}
	if !found {
		return core.NeutronErrf(400, "BadRequest", "Bad floatingip request: Port %s does not have fixed ip %s.", portID, fixed)
	}
	for _, other := range c.St.FloatingIPs {
		if other.ID != f.ID && other.PortID == portID && other.FixedIP == fixed {
			return core.NeutronErrf(409, "FloatingIPPortAlreadyAssociated",
				"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
				f.Address, f.ID, portID, fixed, c.St.PublicNetID)
		}
	}
	f.PortID, f.FixedIP = portID, fixed
	return nil
}

// allocateFloatingAddr takes want (if valid) or the lowest free address of
// the public subnet; callers hold c.mu.
func (c *Service) allocateFloatingAddr(want string) (string, *core.Error) {
	used := map[string]bool{c.Public.Addr().Next().String(): true}
	for _, f := range c.St.FloatingIPs {
		used[f.Address] = true
	}
	if want != "" {
		a, err := netip.ParseAddr(want)
		last := c.Public.Addr().As4()
		last[3] = 255
		if err != nil || !c.Public.Contains(a) || a == c.Public.Addr() || a == netip.AddrFrom4(last) || a == c.Public.Addr().Next() {
			return "", core.NeutronErrf(400, "InvalidIpForNetwork", "IP address %s is not a valid IP for any of the subnets on the specified network.", want)
		}
		if used[a.String()] {
			return "", core.NeutronErrf(409, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", a, c.St.PublicSubnetID)
		}
		return a.String(), nil
	}
	for a := c.Public.Addr().Next().Next(); c.Public.Contains(a) && a.As4()[3] < 255; a = a.Next() {
		if !used[a.String()] {
			return a.String(), nil
		}
	}
	return "", core.NeutronErrf(409, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", c.St.PublicNetID)
}

func (c *Service) createFloatingIP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FIP struct {
			NetworkID   string `json:"floating_network_id"`
			PortID      string `json:"port_id"`
			FixedIP     string `json:"fixed_ip_address"`
			Address     string `json:"floating_ip_address"`
			SubnetID    string `json:"subnet_id"`
			Description string `json:"description"`
		} `json:"floatingip"`
	}
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	q := req.FIP
	t := keystone.TokenFrom(r.Context())
	c.Mu.Lock()
	defer c.Mu.Unlock()
	switch q.NetworkID {
	case "":
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "Failed to parse request. Required attribute 'floating_network_id' not specified"))
		return
	case c.St.PublicNetID:
	case c.St.NetworkID:
		core.WriteError(w, core.Network, core.NeutronErrf(400, "BadRequest", "Bad floatingip request: Network %s is not a valid external network.", q.NetworkID))
		return
	default:
		core.WriteError(w, core.Network, core.NeutronErrf(404, "NetworkNotFound", "Network %s could not be found.", q.NetworkID))
		return
	}
	if q.SubnetID != "" && q.SubnetID != c.St.PublicSubnetID {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "BadRequest", "Bad floatingip request: Subnet %s is not on network %s.", q.SubnetID, q.NetworkID))
		return
	}
	addr, e := c.allocateFloatingAddr(q.Address)
	if e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	now := time.Now()
	f := &state.FloatingIP{ID: core.NewUUID(), Address: addr, Description: q.Description, ProjectID: t.ProjectID,
		Revision: 1, CreatedAt: now, UpdatedAt: now}
	if q.PortID != "" {
		if e := c.associate(f, q.PortID, q.FixedIP); e != nil {
			core.WriteError(w, core.Network, e)
			return
		}
		c.activate(r.Context(), f)
	}
	c.St.FloatingIPs[f.ID] = f
	c.Save()
	// Neutron records a new floating IP DOWN and answers so; its L3 agent
	// turns it ACTIVE later, which the next read shows here.
	body := c.floatingIPBody(f)
	body["status"] = "DOWN"
	core.WriteJSON(w, 201, map[string]any{"floatingip": body})
}

func (c *Service) updateFloatingIP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FIP struct {
			PortID      json.RawMessage `json:"port_id"`
			FixedIP     string          `json:"fixed_ip_address"`
			Description *string         `json:"description"`
		} `json:"floatingip"`
	}
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	var portID *string // nil: unchanged; "": disassociate
	if raw := req.FIP.PortID; len(raw) > 0 {
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "Invalid input for port_id. Reason: %s is not a valid UUID.", string(raw)))
			return
		}
		empty := ""
		if s == nil {
			s = &empty
		}
		portID = s
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	f, ok := c.floatingIPOr404(w, r)
	if !ok {
		return
	}
	if e := checkRevision(r, f.Revision); e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	if portID != nil {
		old := *f
		if *portID == "" {
			c.deactivate(r.Context(), f)
			f.PortID, f.FixedIP = "", ""
		} else if *portID != old.PortID || (req.FIP.FixedIP != "" && req.FIP.FixedIP != old.FixedIP) {
			if e := c.associate(f, *portID, req.FIP.FixedIP); e != nil {
				f.PortID, f.FixedIP = old.PortID, old.FixedIP
				core.WriteError(w, core.Network, e)
				return
			}
			c.deactivate(r.Context(), &old)
			c.activate(r.Context(), f)
		}
	}
	if req.FIP.Description != nil {
		f.Description = *req.FIP.Description
	}
	f.Revision++
	f.UpdatedAt = time.Now()
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"floatingip": c.floatingIPBody(f)})
}

func (c *Service) deleteFloatingIP(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	f, ok := c.floatingIPOr404(w, r)
	if !ok {
		return
	}
	c.deactivate(r.Context(), f)
	delete(c.St.FloatingIPs, f.ID)
	c.Save()
	w.WriteHeader(http.StatusNoContent)
}

// CreateVIPPort records the port of a load balancer's VIP. The VIP's
// namespace already holds the address in the host network's pool, so the
// port does not reserve it again (and does not release it when deleted).
func (c *Service) CreateVIPPort(lbID, projectID string, addr netip.Addr) (string, error) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if h := c.IPHolder(addr.String()); h != nil {
		return "", fmt.Errorf("create vip port for load balancer %s: address %s is held by port %s", lbID, addr, h.ID)
	}
	now := time.Now()
	p := &state.Port{ID: core.NewUUID(), Name: "octavia-lb-" + lbID, NetworkID: c.St.NetworkID, MAC: NewMAC(),
		FixedIPs: []state.FixedIP{{SubnetID: c.St.SubnetID, IPAddress: addr.String()}}, AdminStateUp: true,
		DeviceID: "lb-" + lbID, DeviceOwner: "Octavia", ProjectID: projectID, Revision: 1,
		CreatedAt: now, UpdatedAt: now, VIP: true}
	c.St.Ports[p.ID] = p
	c.Save()
	return p.ID, nil
}

// DeleteVIPPort removes a VIP port and detaches its floating IPs; a port
// already gone (a reset) is not an error.
func (c *Service) DeleteVIPPort(portID string) error {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if _, ok := c.St.Ports[portID]; !ok {
		return nil
	}
	c.DisassociatePortLocked(portID)
	delete(c.St.Ports, portID)
	c.Save()
	return nil
}
