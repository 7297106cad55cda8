package neutron

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

const NetworkName = "private"

func (c *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /network", c.neutronVersions)
	mux.HandleFunc("GET /network/{$}", c.neutronVersions)
	mux.HandleFunc("GET /network/v2.0", c.authed(core.Network, c.neutronVersion))
	mux.HandleFunc("GET /network/v2.0/{$}", c.authed(core.Network, c.neutronVersion))
	a := func(h http.HandlerFunc) http.HandlerFunc { return c.authed(core.Network, h) }
	mux.HandleFunc("GET /network/v2.0/extensions", a(c.listExtensions))
	mux.HandleFunc("GET /network/v2.0/networks", a(c.listNetworks))
	mux.HandleFunc("GET /network/v2.0/networks/{id}", a(c.getNetwork))
	mux.HandleFunc("POST /network/v2.0/networks", a(c.refuseNetworkWrite))
	mux.HandleFunc("PUT /network/v2.0/networks/{id}", a(c.refuseNetworkWrite))
	mux.HandleFunc("DELETE /network/v2.0/networks/{id}", a(c.refuseNetworkWrite))
	mux.HandleFunc("GET /network/v2.0/subnets", a(c.listSubnets))
	mux.HandleFunc("GET /network/v2.0/subnets/{id}", a(c.getSubnet))
	mux.HandleFunc("POST /network/v2.0/subnets", a(c.refuseNetworkWrite))
	mux.HandleFunc("PUT /network/v2.0/subnets/{id}", a(c.refuseNetworkWrite))
	mux.HandleFunc("DELETE /network/v2.0/subnets/{id}", a(c.refuseNetworkWrite))
	mux.HandleFunc("GET /network/v2.0/ports", a(neutronList(c, "ports", c.SortedPorts, c.portListBody)))
	mux.HandleFunc("POST /network/v2.0/ports", a(c.createPort))
	mux.HandleFunc("GET /network/v2.0/ports/{id}", a(neutronShow(c, "port", c.portOr404, c.portShowBody)))
	mux.HandleFunc("PUT /network/v2.0/ports/{id}", a(c.updatePort))
	mux.HandleFunc("DELETE /network/v2.0/ports/{id}", a(c.deletePort))
	mux.HandleFunc("GET /network/v2.0/security-groups", a(neutronList(c, "security_groups", c.SortedSecGroups, c.sgShowBody)))
	mux.HandleFunc("POST /network/v2.0/security-groups", a(c.createSecGroup))
	mux.HandleFunc("GET /network/v2.0/security-groups/{id}", a(neutronShow(c, "security_group", c.secGroupOr404, c.sgShowBody)))
	mux.HandleFunc("PUT /network/v2.0/security-groups/{id}", a(c.updateSecGroup))
	mux.HandleFunc("DELETE /network/v2.0/security-groups/{id}", a(c.deleteSecGroup))
	c.floatingIPRoutes(mux, a)
	mux.HandleFunc("GET /network/v2.0/{resource}/{id}/tags", a(c.getTags))
	mux.HandleFunc("PUT /network/v2.0/{resource}/{id}/tags", a(c.replaceTags))
	mux.HandleFunc("DELETE /network/v2.0/{resource}/{id}/tags", a(c.replaceTags))
	mux.HandleFunc("GET /network/v2.0/{resource}/{id}/tags/{tag}", a(c.oneTag))
	mux.HandleFunc("PUT /network/v2.0/{resource}/{id}/tags/{tag}", a(c.oneTag))
	mux.HandleFunc("DELETE /network/v2.0/{resource}/{id}/tags/{tag}", a(c.oneTag))
	mux.HandleFunc("GET /network/v2.0/security-group-rules", a(neutronList(c, "security_group_rules", c.sortedRules, c.ruleShowBody)))
	mux.HandleFunc("POST /network/v2.0/security-group-rules", a(c.createRule))
	mux.HandleFunc("GET /network/v2.0/security-group-rules/{id}", a(neutronShow(c, "security_group_rule", c.ruleOr404, c.ruleShowBody)))
	mux.HandleFunc("DELETE /network/v2.0/security-group-rules/{id}", a(c.deleteRule))
}

func (c *Service) neutronVersions(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, 200, map[string]any{"versions": []any{map[string]any{
		"status": "CURRENT", "id": "v2.0",
		"links": []any{map[string]any{"href": c.baseURL + "/network/v2.0/", "rel": "self"}},
	}}})
}

func (c *Service) neutronVersion(w http.ResponseWriter, r *http.Request) {
	var res []any
	for _, n := range []string{"network", "subnet", "port", "security_group", "security_group_rule", "floatingip"} {
		coll := strings.ReplaceAll(n, "_", "-") + "s"
		res = append(res, map[string]any{"name": n, "collection": coll,
			"links": []any{map[string]any{"href": c.baseURL + "/network/v2.0/" + coll, "rel": "self"}}})
	}
	core.WriteJSON(w, 200, map[string]any{"resources": res})
}

func (c *Service) listExtensions(w http.ResponseWriter, r *http.Request) {
	var out []any
	for _, e := range [][2]string{
		{"security-group", "security-group"}, {"port-security", "Port Security"},
		{"allowed-address-pairs", "Allowed Address Pairs"}, {"standard-attr-revisions", "Resource revision numbers"},
		{"standard-attr-timestamp", "Resource timestamps"}, {"standard-attr-description", "standard-attr-description"},
		{"standard-attr-tag", "Tag support for resources with standard attribute: port, subnet, network, security_group"},
		{"stateful-security-group", "Stateful security group"}, {"binding", "Port Binding"},
		{"external-net", "Neutron external network"}, {"router", "Neutron L3 Router"},
	} {
		out = append(out, map[string]any{"alias": e[0], "name": e[1], "description": e[1],
			"links": []any{}, "updated": "2020-01-01T00:00:00-00:00"})
	}
	core.WriteJSON(w, 200, map[string]any{"extensions": out})
}

func (c *Service) refuseNetworkWrite(w http.ResponseWriter, r *http.Request) {
	core.WriteError(w, core.Network, core.NeutronErrf(403, "PolicyNotAuthorized",
		"The local cloud has two ready-made networks (%s and the external %s), each with one subnet; creating, changing or deleting networks and subnets is not supported.", NetworkName, publicNetworkName))
}

// neutronFilter applies Neutron's list filters (exact match on top-level
// scalar fields; repeated keys OR together) to rendered objects.
func neutronFilter(q url.Values, objs []map[string]any) []map[string]any {
	skip := map[string]bool{"fields": true, "limit": true, "marker": true, "page_reverse": true,
		"sort_key": true, "sort_dir": true, "fixed_ips": true, "tags": true, "tags-any": true,
		"not-tags": true, "not-tags-any": true}
	var out []map[string]any
	for _, o := range objs {
		keep := true
		for k, vals := range q {
			if skip[k] {
				continue
			}
			v, ok := o[k]
			if !ok {
				continue
			}
			if list, isList := v.([]string); isList { // e.g. ports?security_groups=ID
				if !slices.ContainsFunc(vals, func(want string) bool { return slices.Contains(list, want) }) {
					keep = false
					break
				}
				continue
			}
			if _, isMap := v.(map[string]any); isMap {
				continue
			}
			s := fmt.Sprint(v)
			if v == nil {
				s = ""
			}
			if !slices.Contains(vals, s) {
				keep = false
				break
			}
		}
		if keep && len(q["tags"]) > 0 {
			tags, _ := o["tags"].([]string)
			for _, want := range strings.Split(strings.Join(q["tags"], ","), ",") {
				if !slices.Contains(tags, want) {
					keep = false
				}
			}
		}
		if keep {
			out = append(out, o)
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out
}

// networkBody renders the one network; callers hold c.mu.
func (c *Service) networkBody() map[string]any {
	created := "2026-01-01T00:00:00Z"
	return map[string]any{
		"admin_state_up": true, "availability_zone_hints": []string{},
		"availability_zones": c.zones, "created_at": created,
		"dns_domain": "", "id": c.St.NetworkID, "ipv4_address_scope": nil, "ipv6_address_scope": nil,
		"l2_adjacency": true, "mtu": 1500, "name": NetworkName, "port_security_enabled": true,
		"project_id": c.St.ProjectID, "tenant_id": c.St.ProjectID, "qos_policy_id": nil,
		"revision_number": 1, "router:external": false, "shared": true, "status": "ACTIVE",
		"subnets": []string{c.St.SubnetID}, "tags": []string{}, "updated_at": created,
		"vlan_transparent": false, "description": "", "is_default": true,
		"provider:network_type": "flat", "provider:physical_network": c.Network.Bridge(),
		"provider:segmentation_id": nil,
	}
}

func (c *Service) subnetBody() map[string]any {
	created := "2026-01-01T00:00:00Z"
	sub := c.Network.Subnet()
	base := sub.Addr().As4()
	return map[string]any{
		"name": NetworkName + "-subnet", "enable_dhcp": true, "network_id": c.St.NetworkID,
		"segment_id": nil, "project_id": c.St.ProjectID, "tenant_id": c.St.ProjectID,
		"created_at": created, "updated_at": created, "dns_nameservers": []string{},
		"dns_publish_fixed_ip": false,
		"allocation_pools": []any{map[string]any{
			"start": netip.AddrFrom4([4]byte{base[0], base[1], base[2], 10}).String(),
			"end":   netip.AddrFrom4([4]byte{base[0], base[1], base[2], 254}).String()}},
		"host_routes": []any{}, "ip_version": 4, "gateway_ip": c.Network.Gateway().String(),
		"cidr": sub.String(), "id": c.St.SubnetID, "description": "", "ipv6_address_mode": nil,
		"ipv6_ra_mode": nil, "revision_number": 0, "service_types": []string{}, "subnetpool_id": nil,
		"tags": []string{},
	}
}

// The cloud has two fixed networks and subnets (the project's and the
// external "public" one): a list or show of either kind is the same code.
func (c *Service) listNetworks(w http.ResponseWriter, r *http.Request) {
	c.listFixed(w, r, "networks", c.networkBody, c.publicNetworkBody)
}

func (c *Service) getNetwork(w http.ResponseWriter, r *http.Request) {
	c.getFixed(w, r, "network", "NetworkNotFound", "Network", c.St.NetworkID, c.networkBody, c.St.PublicNetID, c.publicNetworkBody)
}

func (c *Service) listSubnets(w http.ResponseWriter, r *http.Request) {
	c.listFixed(w, r, "subnets", c.subnetBody, c.publicSubnetBody)
}

func (c *Service) getSubnet(w http.ResponseWriter, r *http.Request) {
	c.getFixed(w, r, "subnet", "SubnetNotFound", "Subnet", c.St.SubnetID, c.subnetBody, c.St.PublicSubnetID, c.publicSubnetBody)
}

func (c *Service) listFixed(w http.ResponseWriter, r *http.Request, plural string, project, public func() map[string]any) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	core.WriteJSON(w, 200, map[string]any{plural: neutronFilter(r.URL.Query(), []map[string]any{project(), public()})})
}

func (c *Service) getFixed(w http.ResponseWriter, r *http.Request, singular, errType, title string,
	projectID string, project func() map[string]any, publicID string, public func() map[string]any) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	switch r.PathValue("id") {
	case projectID:
		core.WriteJSON(w, 200, map[string]any{singular: project()})
	case publicID:
		core.WriteJSON(w, 200, map[string]any{singular: public()})
	default:
		core.WriteError(w, core.Network, core.NeutronErrf(404, errType, "%s %s could not be found.", title, r.PathValue("id")))
	}
}

// ---- ports ----

func NewMAC() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
}

// PortStatus: ACTIVE when bound to a running server, else DOWN.
func (c *Service) PortStatus(p *state.Port) string {
	if p.VIP {
		return "ACTIVE"
	}
	if p.DeviceID == "" {
		return "DOWN"
	}
	if s, ok := c.St.Servers[p.DeviceID]; ok && s.VMState == "active" {
		return "ACTIVE"
	}
	return "DOWN"
}

func (c *Service) portBody(p *state.Port) map[string]any {
	sgs := p.SecurityGroups
	if sgs == nil {
		sgs = []string{}
	}
	pairs := p.AddressPairs
	if pairs == nil {
		pairs = []state.AddressPair{}
	}
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	hostID := ""
	if s, ok := c.St.Servers[p.DeviceID]; ok {
		hostID = s.Hypervisor
	}
	return map[string]any{
		"admin_state_up": p.AdminStateUp, "allowed_address_pairs": pairs,
		"created_at": p.CreatedAt.UTC().Format(core.NovaTime), "updated_at": p.UpdatedAt.UTC().Format(core.NovaTime),
		"description": p.Description, "device_id": p.DeviceID, "device_owner": p.DeviceOwner,
		"dns_assignment": []any{}, "dns_name": "", "extra_dhcp_opts": []any{},
		"fixed_ips": p.FixedIPs, "id": p.ID, "ip_allocation": "immediate", "mac_address": p.MAC,
		"name": p.Name, "network_id": p.NetworkID, "port_security_enabled": p.PortSecurity,
		"project_id": p.ProjectID, "tenant_id": p.ProjectID, "revision_number": p.Revision,
		"security_groups": sgs, "status": c.PortStatus(p), "tags": tags,
		"binding:host_id": hostID, "binding:vnic_type": "normal", "binding:vif_type": "ovs",
		"binding:profile": map[string]any{}, "binding:vif_details": map[string]any{},
		"qos_network_policy_id": nil, "qos_policy_id": nil, "propagate_uplink_status": false,
	}
}

// fixedIPFilter handles ?fixed_ips=ip_address=X&fixed_ips=subnet_id=Y.
func fixedIPFilter(filters []string, p *state.Port) bool {
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		found := false
		for _, ip := range p.FixedIPs {
			if (k == "ip_address" && ip.IPAddress == v) || (k == "subnet_id" && ip.SubnetID == v) ||
				(k == "ip_address_substr" && strings.Contains(ip.IPAddress, v)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (c *Service) SortedPorts() []*state.Port {
	return core.ByCreation(c.St.Ports, func(p *state.Port) (time.Time, string) { return p.CreatedAt, p.ID }, false)
}

type portRequest struct {
	Port portFields `json:"port"`
}

// portFields are a port's writable attributes; nil means not given.
type portFields struct {
	Name           *string              `json:"name"`
	Description    *string              `json:"description"`
	NetworkID      string               `json:"network_id"`
	FixedIPs       *[]state.FixedIP     `json:"fixed_ips"`
	SecurityGroups *[]string            `json:"security_groups"`
	PortSecurity   *bool                `json:"port_security_enabled"`
	AdminStateUp   *bool                `json:"admin_state_up"`
	DeviceID       *string              `json:"device_id"`
	DeviceOwner    *string              `json:"device_owner"`
	AddressPairs   *[]state.AddressPair `json:"allowed_address_pairs"`
	MAC            *string              `json:"mac_address"`
	Tags           *[]string            `json:"tags"`
}

// applyPlainFields copies the attributes that need no check (name,
// description, admin state, device, tags) from a create or update request.
func (rp *portFields) applyPlainFields(p *state.Port) {
	if rp.Name != nil {
		p.Name = *rp.Name
	}
	if rp.Description != nil {
		p.Description = *rp.Description
	}
	if rp.AdminStateUp != nil {
		p.AdminStateUp = *rp.AdminStateUp
	}
	if rp.DeviceID != nil {
		p.DeviceID = *rp.DeviceID
	}
	if rp.DeviceOwner != nil {
		p.DeviceOwner = *rp.DeviceOwner
	}
	if rp.Tags != nil {
		p.Tags = *rp.Tags
	}
}

// ipInUse reports which port holds addr; callers hold c.mu.
func (c *Service) IPHolder(addr string) *state.Port {
	for _, p := range c.St.Ports {
		for _, ip := range p.FixedIPs {
			if ip.IPAddress == addr {
				return p
			}
		}
	}
	return nil
}

// AllocateFixedIPs validates requested fixed IPs or allocates one; callers
// hold c.mu. Addresses are taken from the host network's pool so load
// balancer VIPs never collide with ports.
func (c *Service) AllocateFixedIPs(req *[]state.FixedIP) ([]state.FixedIP, *core.Error) {
	if req == nil || len(*req) == 0 {
		a, err := c.Network.AllocateAddr()
		if err != nil {
			return nil, core.NeutronErrf(409, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", c.St.NetworkID)
		}
		return []state.FixedIP{{SubnetID: c.St.SubnetID, IPAddress: a.String()}}, nil
	}
	if len(*req) > 1 {
		return nil, core.NeutronErrf(400, "InvalidInput", "Invalid input for operation: Exceeded maximum amount of fixed ips per port (the local cloud allows 1).")
	}
	want := (*req)[0]
	if want.SubnetID != "" && want.SubnetID != c.St.SubnetID {
		return nil, core.NeutronErrf(404, "SubnetNotFound", "Subnet %s could not be found.", want.SubnetID)
	}
	if want.IPAddress == "" {
		return c.AllocateFixedIPs(nil)
	}
	a, err := netip.ParseAddr(want.IPAddress)
	if err != nil || !a.Is4() {
		return nil, core.NeutronErrf(400, "InvalidInput", "Invalid input for operation: '%s' is not a valid IP address.", want.IPAddress)
	}
	sub := c.Network.Subnet()
	last := sub.Addr().As4()
	last[3] = 255
	if !sub.Contains(a) || a == sub.Addr() || a == netip.AddrFrom4(last) {
		return nil, core.NeutronErrf(400, "InvalidIpForSubnet", "IP address %s is not a valid IP for the specified subnet.", a)
	}
	if a == c.Network.Gateway() || c.IPHolder(a.String()) != nil {
		return nil, core.NeutronErrf(409, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", a, c.St.SubnetID)
	}
	if err := c.reserveAddr(a); err != nil {
		return nil, core.NeutronErrf(409, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", a, c.St.SubnetID)
	}
	return []state.FixedIP{{SubnetID: c.St.SubnetID, IPAddress: a.String()}}, nil
}

// ReleaseFixedIPs returns a port's addresses to the pool; callers hold c.mu.
func (c *Service) ReleaseFixedIPs(p *state.Port) {
	if p.VIP {
		return
	}
	for _, ip := range p.FixedIPs {
		if a, err := netip.ParseAddr(ip.IPAddress); err == nil {
			c.Network.ReleaseAddr(a)
		}
	}
}

// resolveSecGroups maps ids (or, for nova, names) to ids; callers hold c.mu.
func (c *Service) resolveSecGroups(refs []string) ([]string, *core.Error) {
	out := []string{}
	for _, ref := range refs {
		if _, ok := c.St.SecurityGroups[ref]; ok {
			if !slices.Contains(out, ref) {
				out = append(out, ref)
			}
			continue
		}
		return nil, core.NeutronErrf(404, "SecurityGroupNotFound", "Security group %s does not exist", ref)
	}
	return out, nil
}

func (c *Service) createPort(w http.ResponseWriter, r *http.Request) {
	var req portRequest
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	rp := req.Port
	t := keystone.TokenFrom(r.Context())
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if rp.NetworkID == "" {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "Failed to parse request. Required attribute 'network_id' not specified"))
		return
	}
	if rp.NetworkID == c.St.PublicNetID {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "InvalidInput", "Invalid input for operation: the local cloud's external network %s takes floating IPs only, not ports.", rp.NetworkID))
		return
	}
	if rp.NetworkID != c.St.NetworkID {
		core.WriteError(w, core.Network, core.NeutronErrf(404, "NetworkNotFound", "Network %s could not be found.", rp.NetworkID))
		return
	}
	now := time.Now()
	p := &state.Port{ID: core.NewUUID(), NetworkID: c.St.NetworkID, MAC: NewMAC(), PortSecurity: true,
		AdminStateUp: true, ProjectID: t.ProjectID, Revision: 1, CreatedAt: now, UpdatedAt: now}
	if rp.PortSecurity != nil {
		p.PortSecurity = *rp.PortSecurity
	}
	if rp.SecurityGroups != nil {
		ids, e := c.resolveSecGroups(*rp.SecurityGroups)
		if e != nil {
			core.WriteError(w, core.Network, e)
			return
		}
		p.SecurityGroups = ids
	} else if p.PortSecurity {
		p.SecurityGroups = []string{c.St.DefaultSGID}
	}
	if !p.PortSecurity && len(p.SecurityGroups) > 0 {
		core.WriteError(w, core.Network, core.NeutronErrf(409, "PortSecurityAndIPRequiredForSecurityGroups",
			"Port security must be enabled and port must have an IP address in order to use security groups."))
		return
	}
	if rp.AddressPairs != nil {
		if !p.PortSecurity && len(*rp.AddressPairs) > 0 {
			core.WriteError(w, core.Network, core.NeutronErrf(409, "AddressPairAndPortSecurityRequired",
				"Port Security must be enabled in order to have allowed address pairs on a port."))
			return
		}
		p.AddressPairs = *rp.AddressPairs
	}
	if rp.MAC != nil {
		p.MAC = *rp.MAC
	}
	rp.applyPlainFields(p)
	ips, e := c.AllocateFixedIPs(rp.FixedIPs)
	if e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	p.FixedIPs = ips
	c.St.Ports[p.ID] = p
	c.Save()
	body := c.portBody(p)
	c.RefreshFirewallsLocked()
	core.WriteJSON(w, 201, map[string]any{"port": body})
}

func (c *Service) updatePort(w http.ResponseWriter, r *http.Request) {
	var req portRequest
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	rp := req.Port
	c.Mu.Lock()
	defer c.Mu.Unlock()
	p, ok := c.portOr404(w, r)
	if !ok {
		return
	}
	if e := checkRevision(r, p.Revision); e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	if rp.NetworkID != "" && rp.NetworkID != p.NetworkID {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "Cannot update read-only attribute network_id"))
		return
	}
	portSec := p.PortSecurity
	if rp.PortSecurity != nil {
		portSec = *rp.PortSecurity
	}
	sgs := p.SecurityGroups
	if rp.SecurityGroups != nil {
		ids, e := c.resolveSecGroups(*rp.SecurityGroups)
		if e != nil {
			core.WriteError(w, core.Network, e)
			return
		}
		sgs = ids
	}
	if !portSec && len(sgs) > 0 {
		core.WriteError(w, core.Network, core.NeutronErrf(409, "PortSecurityPortHasSecurityGroup",
			"Port has security group associated. Cannot disable port security or ip address until security group is removed"))
		return
	}
	if rp.FixedIPs != nil {
		if p.VIP || (p.DeviceID != "" && c.Hosts[p.DeviceID] != nil) {
			core.WriteError(w, core.Network, core.NeutronErrf(400, "InvalidInput", "Invalid input for operation: the local cloud cannot change the address of a port bound to a running server."))
			return
		}
		same := len(*rp.FixedIPs) == 1 && len(p.FixedIPs) == 1 && (*rp.FixedIPs)[0].IPAddress == p.FixedIPs[0].IPAddress
		if !same {
			old := p.FixedIPs
			p.FixedIPs = nil
			ips, e := c.AllocateFixedIPs(rp.FixedIPs)
			if e != nil {
				p.FixedIPs = old
				core.WriteError(w, core.Network, e)
				return
			}
			c.ReleaseFixedIPs(&state.Port{FixedIPs: old})
			p.FixedIPs = ips
		}
	}
	p.PortSecurity = portSec
	p.SecurityGroups = sgs
	if rp.AddressPairs != nil {
		p.AddressPairs = *rp.AddressPairs
	}
	rp.applyPlainFields(p)
	p.Revision++
	p.UpdatedAt = time.Now()
	c.Save()
	body := c.portBody(p)
	c.RefreshFirewallsLocked()
	core.WriteJSON(w, 200, map[string]any{"port": body})
}

// checkRevision honours If-Match: revision_number=N (412 on mismatch).
func checkRevision(r *http.Request, current int) *core.Error {
	im := r.Header.Get("If-Match")
	if im == "" {
		return nil
	}
	for _, part := range strings.Split(im, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "revision_number="); ok {
			if n, err := strconv.Atoi(v); err == nil && n != current {
				return core.NeutronErrf(412, "RevisionNumberConstraintFailed",
					"Constrained to %d, but current revision is %d", n, current)
			}
		}
	}
	return nil
}

func (c *Service) deletePort(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	p, ok := c.portOr404(w, r)
	if !ok {
		return
	}
	if p.VIP {
		core.WriteError(w, core.Network, core.NeutronErrf(409, "PortInUse",
			"Unable to complete operation on port %s: it is the VIP of a load balancer; delete the load balancer instead.", p.ID))
		return
	}
	// Deleting a port that a server uses unplugs the server's interface, as
	// on a real cloud: the host loses its link.
	if s, ok := c.St.Servers[p.DeviceID]; ok {
		s.PortIDs = slices.DeleteFunc(s.PortIDs, func(id string) bool { return id == p.ID })
		if h := c.Hosts[s.ID]; h != nil {
			c.Go(func(ctx context.Context) { _ = h.CutNetwork(ctx) })
		}
	}
	c.DisassociatePortLocked(p.ID)
	delete(c.St.Ports, p.ID)
	c.ReleaseFixedIPs(p)
	c.Save()
	c.RefreshFirewallsLocked()
	w.WriteHeader(http.StatusNoContent)
}

// ---- security groups ----

func (c *Service) EnsureDefaultSecurityGroup() {
	if c.St.DefaultSGID != "" {
		if _, ok := c.St.SecurityGroups[c.St.DefaultSGID]; ok {
			return
		}
	}
	now := time.Now()
	sg := &state.SecGroup{ID: core.NewUUID(), Name: "default", Description: "Default security group",
		ProjectID: c.St.ProjectID, Stateful: true, Revision: 1, CreatedAt: now, UpdatedAt: now}
	c.St.SecurityGroups[sg.ID] = sg
	c.St.DefaultSGID = sg.ID
	for _, eth := range []string{"IPv4", "IPv6"} {
		for _, dir := range []string{"ingress", "egress"} {
			rule := &state.Rule{ID: core.NewUUID(), GroupID: sg.ID, Direction: dir, Ethertype: eth,
				ProjectID: sg.ProjectID, CreatedAt: now}
			if dir == "ingress" {
				rule.RemoteGroupID = sg.ID
			}
			c.St.Rules[rule.ID] = rule
		}
	}
}

func (c *Service) ruleBody(rl *state.Rule) map[string]any {
	var proto, prefix, remote any
	if rl.Protocol != "" {
		proto = rl.Protocol
	}
	if rl.RemoteIPPrefix != "" {
		prefix = rl.RemoteIPPrefix
	}
	if rl.RemoteGroupID != "" {
		remote = rl.RemoteGroupID
	}
	var pmin, pmax any
	if rl.PortMin != nil {
		pmin = *rl.PortMin
	}
	if rl.PortMax != nil {
		pmax = *rl.PortMax
	}
	ts := rl.CreatedAt.UTC().Format(core.NovaTime)
	return map[string]any{
		"direction": rl.Direction, "ethertype": rl.Ethertype, "id": rl.ID,
		"port_range_max": pmax, "port_range_min": pmin, "protocol": proto,
		"remote_group_id": remote, "remote_address_group_id": nil, "remote_ip_prefix": prefix,
		"security_group_id": rl.GroupID, "project_id": rl.ProjectID, "tenant_id": rl.ProjectID,
		"revision_number": 0, "created_at": ts, "updated_at": ts, "description": rl.Description,
		"tags": []string{}, "belongs_to_default_sg": rl.GroupID == c.St.DefaultSGID,
	}
}

func (c *Service) sgBody(sg *state.SecGroup) map[string]any {
	rules := []map[string]any{}
	for _, rl := range c.sortedRules() {
		if rl.GroupID == sg.ID {
			rules = append(rules, c.ruleBody(rl))
		}
	}
	tags := sg.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"description": sg.Description, "id": sg.ID, "name": sg.Name,
		"security_group_rules": rules, "project_id": sg.ProjectID, "tenant_id": sg.ProjectID,
		"created_at": sg.CreatedAt.UTC().Format(core.NovaTime), "updated_at": sg.UpdatedAt.UTC().Format(core.NovaTime),
		"revision_number": sg.Revision, "tags": tags, "stateful": sg.Stateful, "shared": false,
	}
}

func (c *Service) sortedRules() []*state.Rule {
	return core.ByCreation(c.St.Rules, func(r *state.Rule) (time.Time, string) { return r.CreatedAt, r.ID }, false)
}

func (c *Service) SortedSecGroups() []*state.SecGroup {
	return core.ByCreation(c.St.SecurityGroups, func(g *state.SecGroup) (time.Time, string) { return g.CreatedAt, g.ID }, false)
}

type sgRequest struct {
	SG struct {
		Name        *string   `json:"name"`
		Description *string   `json:"description"`
		Stateful    *bool     `json:"stateful"`
		Tags        *[]string `json:"tags"`
	} `json:"security_group"`
}

func (c *Service) createSecGroup(w http.ResponseWriter, r *http.Request) {
	var req sgRequest
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	t := keystone.TokenFrom(r.Context())
	c.Mu.Lock()
	defer c.Mu.Unlock()
	now := time.Now()
	sg := &state.SecGroup{ID: core.NewUUID(), ProjectID: t.ProjectID, Stateful: true, Revision: 1, CreatedAt: now, UpdatedAt: now}
	if req.SG.Name != nil {
		sg.Name = *req.SG.Name
	}
	if len(sg.Name) > 255 {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "Invalid input for name. Reason: '%s' exceeds maximum length of 255.", sg.Name))
		return
	}
	if sg.Name == "default" {
		core.WriteError(w, core.Network, core.NeutronErrf(409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists."))
		return
	}
	if req.SG.Description != nil {
		sg.Description = *req.SG.Description
	}
	if req.SG.Stateful != nil {
		sg.Stateful = *req.SG.Stateful
	}
	if req.SG.Tags != nil {
		sg.Tags = *req.SG.Tags
	}
	c.St.SecurityGroups[sg.ID] = sg
	for _, eth := range []string{"IPv4", "IPv6"} {
		rl := &state.Rule{ID: core.NewUUID(), GroupID: sg.ID, Direction: "egress", Ethertype: eth, ProjectID: sg.ProjectID, CreatedAt: now}
		c.St.Rules[rl.ID] = rl
	}
	c.Save()
	core.WriteJSON(w, 201, map[string]any{"security_group": c.sgBody(sg)})
}

func (c *Service) updateSecGroup(w http.ResponseWriter, r *http.Request) {
	var req sgRequest
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	sg, ok := c.secGroupOr404(w, r)
	if !ok {
		return
	}
	if e := checkRevision(r, sg.Revision); e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	if req.SG.Name != nil && *req.SG.Name != sg.Name {
		if sg.ID == c.St.DefaultSGID || *req.SG.Name == "default" {
			core.WriteError(w, core.Network, core.NeutronErrf(409, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed."))
			return
		}
		sg.Name = *req.SG.Name
	}
	if req.SG.Description != nil {
		sg.Description = *req.SG.Description
	}
	if req.SG.Tags != nil {
		sg.Tags = *req.SG.Tags
	}
	sg.Revision++
	sg.UpdatedAt = time.Now()
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"security_group": c.sgBody(sg)})
}

func (c *Service) deleteSecGroup(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	id := r.PathValue("id")
	sg, ok := c.secGroupOr404(w, r)
	if !ok {
		return
	}
	if sg.ID == c.St.DefaultSGID {
		core.WriteError(w, core.Network, core.NeutronErrf(409, "SecurityGroupCannotRemoveDefault", "Removing default security group not allowed."))
		return
	}
	for _, p := range c.St.Ports {
		if slices.Contains(p.SecurityGroups, id) {
			core.WriteError(w, core.Network, core.NeutronErrf(409, "SecurityGroupInUse", "Security Group %s in use.", id))
			return
		}
	}
	for rid, rl := range c.St.Rules {
		if rl.GroupID == id {
			delete(c.St.Rules, rid)
		}
	}
	// Rules of other groups that name this one as remote go with it.
	for rid, rl := range c.St.Rules {
		if rl.RemoteGroupID == id {
			delete(c.St.Rules, rid)
		}
	}
	delete(c.St.SecurityGroups, id)
	c.Save()
	c.RefreshFirewallsLocked()
	w.WriteHeader(http.StatusNoContent)
}

var protocolNumbers = map[string]string{"tcp": "6", "udp": "17", "icmp": "1", "sctp": "132"}

// ruleFields is one security group rule of a create request.
type ruleFields struct {
	GroupID        string      `json:"security_group_id"`
	Direction      string      `json:"direction"`
	Ethertype      string      `json:"ethertype"`
	Protocol       *string     `json:"protocol"`
	PortMin        *portNumber `json:"port_range_min"`
	PortMax        *portNumber `json:"port_range_max"`
	RemoteIPPrefix *string     `json:"remote_ip_prefix"`
	RemoteGroupID  *string     `json:"remote_group_id"`
	Description    string      `json:"description"`
}

// portNumber is a port bound as Neutron takes it: a number, or a string of
// digits (the api-ref's own sample sends "80").
type portNumber int

func (p *portNumber) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("invalid port %s", b)
	}
	*p = portNumber(n)
	return nil
}

// intOrNil gives a port bound as the record keeps it.
func (p *portNumber) intOrNil() *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

// createRule creates one rule ({"security_group_rule": ...}) or, as
// Neutron's bulk create, several of one security group at once
// ({"security_group_rules": [...]}): all or none.
func (c *Service) createRule(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rule  *ruleFields  `json:"security_group_rule"`
		Rules []ruleFields `json:"security_group_rules"`
	}
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
		return
	}
	bulk := req.Rule == nil && req.Rules != nil
	asked := req.Rules
	switch {
	case bulk && len(asked) == 0:
		core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "Resource body required"))
		return
	case !bulk && req.Rule == nil:
		asked = []ruleFields{{}} // no rule at all: the missing attributes answer
	case !bulk:
		asked = []ruleFields{*req.Rule}
	}
	t := keystone.TokenFrom(r.Context())
	c.Mu.Lock()
	defer c.Mu.Unlock()
	var made []*state.Rule
	for _, q := range asked {
		if bulk && q.GroupID != asked[0].GroupID {
			core.WriteError(w, core.Network, core.NeutronErrf(400, "SecurityGroupNotSingleGroupRules",
				"Only allowed to update rules for one security profile at a time"))
			return
		}
		rl, e := c.newRule(q, t.ProjectID)
		if e != nil {
			core.WriteError(w, core.Network, e)
			return
		}
		for _, other := range made {
			if sameRule(other, rl) {
				core.WriteError(w, core.Network, core.NeutronErrf(400, "DuplicateSecurityGroupRuleInPost",
					"Duplicate Security Group Rule in POST."))
				return
			}
		}
		made = append(made, rl)
	}
	var bodies []map[string]any
	for _, rl := range made {
		c.St.Rules[rl.ID] = rl
		if sg := c.St.SecurityGroups[rl.GroupID]; sg != nil {
			sg.Revision++
		}
		bodies = append(bodies, c.ruleBody(rl))
	}
	c.Save()
	c.RefreshFirewallsLocked()
	if bulk {
		core.WriteJSON(w, 201, map[string]any{"security_group_rules": bodies})
		return
	}
	core.WriteJSON(w, 201, map[string]any{"security_group_rule": bodies[0]})
}

// newRule validates one requested rule as Neutron does (400, 404, and 409
// for a rule the group has already); callers hold c.Mu.
func (c *Service) newRule(q ruleFields, projectID string) (*state.Rule, *core.Error) {
	if q.GroupID == "" {
		return nil, core.NeutronErrf(400, "HTTPBadRequest", "Failed to parse request. Required attribute 'security_group_id' not specified")
	}
	if q.Direction != "ingress" && q.Direction != "egress" {
		return nil, core.NeutronErrf(400, "HTTPBadRequest", "Invalid input for direction. Reason: %s is not in valid_values.", q.Direction)
	}
	if q.Ethertype == "" {
		q.Ethertype = "IPv4"
	}
	if q.Ethertype != "IPv4" && q.Ethertype != "IPv6" {
		return nil, core.NeutronErrf(400, "SecurityGroupRuleInvalidEtherType", "Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", q.Ethertype)
	}
	if _, ok := c.St.SecurityGroups[q.GroupID]; !ok {
		return nil, core.NeutronErrf(404, "SecurityGroupNotFound", "Security group %s does not exist", q.GroupID)
	}
	rl := &state.Rule{ID: core.NewUUID(), GroupID: q.GroupID, Direction: q.Direction, Ethertype: q.Ethertype,
		PortMin: q.PortMin.intOrNil(), PortMax: q.PortMax.intOrNil(), Description: q.Description, ProjectID: projectID, CreatedAt: time.Now()}
	if q.Protocol != nil && *q.Protocol != "" && *q.Protocol != "any" {
		p := strings.ToLower(*q.Protocol)
		if _, known := protocolNumbers[p]; !known {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 255 {
				return nil, core.NeutronErrf(400, "SecurityGroupRuleInvalidProtocol",
					"Security group rule protocol %s not supported. Only protocol values [None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'icmp', 'icmpv6', 'igmp', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and integer representations [0 to 255] are supported.", p)
			}
		}
		rl.Protocol = p
	}
	if e := validatePortRange(rl); e != nil {
		return nil, e
	}
	if q.RemoteIPPrefix != nil && *q.RemoteIPPrefix != "" && q.RemoteGroupID != nil && *q.RemoteGroupID != "" {
		return nil, core.NeutronErrf(400, "SecurityGroupRemoteGroupAndRemoteIpPrefix",
			"Only remote_ip_prefix or remote_group_id may be provided.")
	}
	if q.RemoteIPPrefix != nil && *q.RemoteIPPrefix != "" {
		s := *q.RemoteIPPrefix
		if !strings.Contains(s, "/") {
			if a, err := netip.ParseAddr(s); err == nil {
				s = fmt.Sprintf("%s/%d", s, a.BitLen())
			}
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, core.NeutronErrf(400, "HTTPBadRequest", "Invalid input for remote_ip_prefix. Reason: '%s' is not a valid IP subnet.", *q.RemoteIPPrefix)
		}
		if (pfx.Addr().Is4() && q.Ethertype != "IPv4") || (pfx.Addr().Is6() && q.Ethertype != "IPv6") {
			return nil, core.NeutronErrf(400, "SecurityGroupRuleParameterConflict",
				"Conflicting value ethertype %s for CIDR %s", q.Ethertype, *q.RemoteIPPrefix)
		}
		rl.RemoteIPPrefix = pfx.Masked().String()
	}
	if q.RemoteGroupID != nil && *q.RemoteGroupID != "" {
		if _, ok := c.St.SecurityGroups[*q.RemoteGroupID]; !ok {
			return nil, core.NeutronErrf(404, "SecurityGroupNotFound", "Security group %s does not exist", *q.RemoteGroupID)
		}
		rl.RemoteGroupID = *q.RemoteGroupID
	}
	for _, other := range c.St.Rules {
		if sameRule(other, rl) {
			return nil, core.NeutronErrf(409, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", other.ID)
		}
	}
	return rl, nil
}

func validatePortRange(rl *state.Rule) *core.Error {
	if rl.PortMin == nil && rl.PortMax == nil {
		return nil
	}
	switch rl.Protocol {
	case "":
		return core.NeutronErrf(400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
	case "tcp", "udp", "sctp", "6", "17", "132":
		if rl.PortMin == nil || rl.PortMax == nil {
			if rl.PortMin == nil {
				rl.PortMin = rl.PortMax
			} else {
				rl.PortMax = rl.PortMin
			}
		}
		if *rl.PortMin < 1 || *rl.PortMax > 65535 {
			return core.NeutronErrf(400, "SecurityGroupInvalidPortValue", "Invalid value for port %d.", *rl.PortMin)
		}
		if *rl.PortMin > *rl.PortMax {
			return core.NeutronErrf(400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
	case "icmp", "1":
		if rl.PortMin != nil && (*rl.PortMin < 0 || *rl.PortMin > 255) {
			return core.NeutronErrf(400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP port_range_min(type): %d. It must be 0 to 255.", *rl.PortMin)
		}
		if rl.PortMax != nil && (*rl.PortMax < 0 || *rl.PortMax > 255) {
			return core.NeutronErrf(400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP port_range_max(code): %d. It must be 0 to 255.", *rl.PortMax)
		}
		if rl.PortMin == nil && rl.PortMax != nil {
			return core.NeutronErrf(400, "SecurityGroupMissingIcmpType", "ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *rl.PortMax)
		}
	default:
		return core.NeutronErrf(400, "SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol %s", rl.Protocol)
	}
	return nil
}

func intp(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func normProto(p string) string {
	if n, ok := protocolNumbers[p]; ok {
		return n
	}
	return p
}

func sameRule(a, b *state.Rule) bool {
	return a.GroupID == b.GroupID && a.Direction == b.Direction && a.Ethertype == b.Ethertype &&
		normProto(a.Protocol) == normProto(b.Protocol) && intp(a.PortMin) == intp(b.PortMin) &&
		intp(a.PortMax) == intp(b.PortMax) && a.RemoteIPPrefix == b.RemoteIPPrefix &&
		a.RemoteGroupID == b.RemoteGroupID
}

func (c *Service) deleteRule(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	rl, ok := c.ruleOr404(w, r)
	if !ok {
		return
	}
	delete(c.St.Rules, rl.ID)
	if sg := c.St.SecurityGroups[rl.GroupID]; sg != nil {
		sg.Revision++
	}
	c.Save()
	c.RefreshFirewallsLocked()
	w.WriteHeader(http.StatusNoContent)
}

// ---- tags (standard-attr-tag) ----

// tagsOf finds the tag list of a resource; callers hold c.mu.
func (c *Service) tagsOf(resource, id string) (*[]string, *core.Error) {
	switch resource {
	case "security-groups":
		if g, ok := c.St.SecurityGroups[id]; ok {
			return &g.Tags, nil
		}
		return nil, core.NeutronErrf(404, "SecurityGroupNotFound", "Security group %s does not exist", id)
	case "ports":
		if p, ok := c.St.Ports[id]; ok {
			return &p.Tags, nil
		}
		return nil, core.NeutronErrf(404, "PortNotFound", "Port %s could not be found.", id)
	case "networks", "subnets":
		return nil, core.NeutronErrf(403, "PolicyNotAuthorized", "The local cloud's network and subnet are read-only.")
	}
	return nil, core.NeutronErrf(404, "HTTPNotFound", "The resource could not be found.")
}

func (c *Service) getTags(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	tags, e := c.tagsOf(r.PathValue("resource"), r.PathValue("id"))
	if e != nil && e.Code == 403 {
		core.WriteJSON(w, 200, map[string]any{"tags": []string{}})
		return
	}
	if e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	out := *tags
	if out == nil {
		out = []string{}
	}
	core.WriteJSON(w, 200, map[string]any{"tags": out})
}

func (c *Service) replaceTags(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tags []string `json:"tags"`
	}
	if r.Method == http.MethodPut {
		if err := core.ReadJSON(r, &req); err != nil {
			core.WriteError(w, core.Network, core.NeutronErrf(400, "HTTPBadRequest", "%s", err))
			return
		}
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	tags, e := c.tagsOf(r.PathValue("resource"), r.PathValue("id"))
	if e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	for _, t := range req.Tags {
		if t == "" || len(t) > 255 || strings.Contains(t, ",") {
			core.WriteError(w, core.Network, core.NeutronErrf(400, "InvalidInput", "Invalid input for operation: '%s' is not a valid tag.", t))
			return
		}
	}
	*tags = slices.Compact(slices.Sorted(slices.Values(req.Tags)))
	c.Save()
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	out := *tags
	if out == nil {
		out = []string{}
	}
	core.WriteJSON(w, 200, map[string]any{"tags": out})
}

func (c *Service) oneTag(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	tags, e := c.tagsOf(r.PathValue("resource"), r.PathValue("id"))
	if e != nil {
		core.WriteError(w, core.Network, e)
		return
	}
	tag := r.PathValue("tag")
	has := slices.Contains(*tags, tag)
	switch r.Method {
	case http.MethodGet:
		if !has {
			core.WriteError(w, core.Network, core.NeutronErrf(404, "TagNotFound", "Tag %s could not be found for resource %s.", tag, r.PathValue("id")))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut:
		if tag == "" || len(tag) > 255 || strings.Contains(tag, ",") {
			core.WriteError(w, core.Network, core.NeutronErrf(400, "InvalidInput", "Invalid input for operation: '%s' is not a valid tag.", tag))
			return
		}
		if !has {
			*tags = append(*tags, tag)
			c.Save()
		}
		w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if !has {
			core.WriteError(w, core.Network, core.NeutronErrf(404, "TagNotFound", "Tag %s could not be found for resource %s.", tag, r.PathValue("id")))
			return
		}
		*tags = slices.DeleteFunc(*tags, func(t string) bool { return t == tag })
		c.Save()
		w.WriteHeader(http.StatusNoContent)
	}
}
