package openstack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// Network is a Neutron network with its subnets.
type Network struct {
	ID      string
	Name    string
	Subnets []Subnet
}

// Subnet is a Neutron subnet.
type Subnet struct {
	ID        string
	NetworkID string
	CIDR      string
	IPVersion int
	GatewayIP string
}

// ResolveNetwork finds a network by id when idOrName looks like one, else
// by exact name with a filtered list (no 404 probe), and reads its
// subnets. Several networks with the name is an error. Found networks are
// remembered for the client's lifetime.
func (c *Client) ResolveNetwork(ctx context.Context, idOrName string) (Network, error) {
	return remember(c, "network", idOrName, func() (Network, error) { return c.resolveNetwork(ctx, idOrName) })
}

func (c *Client) resolveNetwork(ctx context.Context, idOrName string) (Network, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return Network{}, err
	}
	var found []networks.Network
	if uuidPattern.MatchString(idOrName) {
		n, err := networks.Get(ctx, sc, idOrName).Extract()
		if err != nil {
			return Network{}, fmt.Errorf("get network %s: %w", idOrName, err)
		}
		found = append(found, *n)
	} else {
		pages, err := networks.List(sc, networks.ListOpts{Name: idOrName}).AllPages(ctx)
		if err != nil {
			return Network{}, fmt.Errorf("list networks named %s: %w", idOrName, err)
		}
		if found, err = networks.ExtractNetworks(pages); err != nil {
			return Network{}, fmt.Errorf("list networks named %s: %w", idOrName, err)
		}
	}
	n, err := pickOne("network", idOrName, found)
	if err != nil {
		return Network{}, err
	}
	out := Network{ID: n.ID, Name: n.Name}
	pages, err := subnets.List(sc, subnets.ListOpts{NetworkID: n.ID}).AllPages(ctx)
	if err != nil {
		return Network{}, fmt.Errorf("list subnets of network %s: %w", n.ID, err)
	}
	subs, err := subnets.ExtractSubnets(pages)
	if err != nil {
		return Network{}, fmt.Errorf("list subnets of network %s: %w", n.ID, err)
	}
	for _, s := range subs {
		out.Subnets = append(out.Subnets, Subnet{ID: s.ID, NetworkID: s.NetworkID, CIDR: s.CIDR, IPVersion: s.IPVersion, GatewayIP: s.GatewayIP})
	}
	return out, nil
}

// SecurityGroup is a Neutron security group.
type SecurityGroup struct {
	ID          string
	Name        string
	Description string
	Tags        []string
	Rules       []SecurityGroupRule
}

// SecurityGroupRule is one rule. Zero ports mean "all ports"; an empty
// protocol means "any protocol".
type SecurityGroupRule struct {
	ID             string
	Direction      string // ingress or egress
	EtherType      string // IPv4 or IPv6; default IPv4
	Protocol       string // tcp, udp, icmp or ""
	PortMin        int
	PortMax        int
	RemoteIPPrefix string
	RemoteGroupID  string
	Description    string
}

// SecurityGroupFilter selects security groups; empty fields match anything.
type SecurityGroupFilter struct {
	Name        string
	Description string
	Tags        []string // all must be present
}

// CreateSecurityGroup creates a security group and tags it.
func (c *Client) CreateSecurityGroup(ctx context.Context, name, description string, tags []string) (SecurityGroup, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return SecurityGroup{}, err
	}
	g, err := groups.Create(ctx, sc, groups.CreateOpts{Name: name, Description: description}).Extract()
	if err != nil {
		return SecurityGroup{}, fmt.Errorf("create security group %s: %w", name, err)
	}
	out := securityGroupOf(g)
	if len(tags) > 0 {
		got, err := attributestags.ReplaceAll(ctx, sc, "security-groups", g.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract()
		if err != nil {
			return out, fmt.Errorf("tag security group %s (%s): %w", name, g.ID, err)
		}
		out.Tags = got
	}
	return out, nil
}

// GetSecurityGroup reads a security group with its rules.
func (c *Client) GetSecurityGroup(ctx context.Context, id string) (SecurityGroup, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return SecurityGroup{}, err
	}
	g, err := groups.Get(ctx, sc, id).Extract()
	if err != nil {
		return SecurityGroup{}, fmt.Errorf("get security group %s: %w", id, err)
	}
	return securityGroupOf(g), nil
}

// ListSecurityGroups lists the security groups matching f.
func (c *Client) ListSecurityGroups(ctx context.Context, f SecurityGroupFilter) ([]SecurityGroup, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return nil, err
	}
	opts := groups.ListOpts{Name: f.Name, Description: f.Description, Tags: strings.Join(f.Tags, ",")}
	pages, err := groups.List(sc, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list security groups: %w", err)
	}
	all, err := groups.ExtractGroups(pages)
	if err != nil {
		return nil, fmt.Errorf("list security groups: %w", err)
	}
	var out []SecurityGroup
	for i := range all {
		g := securityGroupOf(&all[i])
		// Filter here too, in case the server ignores a filter.
		if (f.Name == "" || g.Name == f.Name) && (f.Description == "" || g.Description == f.Description) && hasAll(g.Tags, f.Tags) {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func hasAll(have, want []string) bool {
	set := make(map[string]bool, len(have))
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// DeleteSecurityGroup deletes a security group; a missing one counts as
// deleted. Neutron answers 409 while a port still uses it; that is returned.
func (c *Client) DeleteSecurityGroup(ctx context.Context, id string) error {
	sc, err := c.Network(ctx)
	if err != nil {
		return err
	}
	if err := groups.Delete(ctx, sc, id).ExtractErr(); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete security group %s: %w", id, err)
	}
	return nil
}

// CreateSecurityGroupRule adds a rule. When the same rule already exists
// (Neutron answers 409), the existing rule is returned.
func (c *Client) CreateSecurityGroupRule(ctx context.Context, groupID string, r SecurityGroupRule) (SecurityGroupRule, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return SecurityGroupRule{}, err
	}
	opts := ruleCreateOpts(groupID, r)
	created, err := rules.Create(ctx, sc, opts).Extract()
	if err == nil {
		return ruleOf(created), nil
	}
	if IsConflict(err) {
		existing, lerr := c.ListSecurityGroupRules(ctx, groupID)
		if lerr == nil {
			if e, ok := findRule(existing, r); ok {
				return e, nil
			}
		}
	}
	return SecurityGroupRule{}, fmt.Errorf("create rule %s in security group %s: %w", describeRule(r), groupID, err)
}

// CreateSecurityGroupRules adds rules of one security group in a single
// Neutron bulk request (all or none). Neutron refuses the whole request
// with 409 when one of them exists already (a retried create): the rules
// the group has are then kept and only the others are sent.
func (c *Client) CreateSecurityGroupRules(ctx context.Context, groupID string, rs []SecurityGroupRule) ([]SecurityGroupRule, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	sc, err := c.Network(ctx)
	if err != nil {
		return nil, err
	}
	created, err := createRulesBulk(ctx, sc, groupID, rs)
	if err == nil || !IsConflict(err) {
		return created, err
	}
	existing, lerr := c.ListSecurityGroupRules(ctx, groupID)
	if lerr != nil {
		return nil, err
	}
	var have, missing []SecurityGroupRule
	for _, r := range rs {
		if e, ok := findRule(existing, r); ok {
			have = append(have, e)
		} else {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return have, nil
	}
	created, err = createRulesBulk(ctx, sc, groupID, missing)
	if err != nil {
		return nil, err
	}
	return append(have, created...), nil
}

func createRulesBulk(ctx context.Context, sc *gophercloud.ServiceClient, groupID string, rs []SecurityGroupRule) ([]SecurityGroupRule, error) {
	opts := make([]rules.CreateOpts, len(rs))
	for i, r := range rs {
		opts[i] = ruleCreateOpts(groupID, r)
	}
	made, err := rules.CreateBulk(ctx, sc, opts).Extract()
	if err != nil {
		descr := make([]string, len(rs))
		for i, r := range rs {
			descr[i] = describeRule(r)
		}
		return nil, fmt.Errorf("create rules %s in security group %s: %w", strings.Join(descr, ", "), groupID, err)
	}
	out := make([]SecurityGroupRule, len(made))
	for i := range made {
		out[i] = ruleOf(&made[i])
	}
	return out, nil
}

func ruleCreateOpts(groupID string, r SecurityGroupRule) rules.CreateOpts {
	ether := r.EtherType
	if ether == "" {
		ether = "IPv4"
	}
	return rules.CreateOpts{
		Direction:      rules.RuleDirection(r.Direction),
		EtherType:      rules.RuleEtherType(ether),
		SecGroupID:     groupID,
		Protocol:       rules.RuleProtocol(r.Protocol),
		PortRangeMin:   r.PortMin,
		PortRangeMax:   r.PortMax,
		RemoteIPPrefix: r.RemoteIPPrefix,
		RemoteGroupID:  r.RemoteGroupID,
		Description:    r.Description,
	}
}

func findRule(existing []SecurityGroupRule, r SecurityGroupRule) (SecurityGroupRule, bool) {
	ether := r.EtherType
	if ether == "" {
		ether = "IPv4"
	}
	for _, e := range existing {
		if sameRule(e, r, ether) {
			return e, true
		}
	}
	return SecurityGroupRule{}, false
}

func sameRule(e, r SecurityGroupRule, ether string) bool {
	return e.Direction == r.Direction && e.EtherType == ether && e.Protocol == r.Protocol &&
		e.PortMin == r.PortMin && e.PortMax == r.PortMax && e.RemoteIPPrefix == r.RemoteIPPrefix &&
		e.RemoteGroupID == r.RemoteGroupID
}

func describeRule(r SecurityGroupRule) string {
	remote := r.RemoteIPPrefix
	if r.RemoteGroupID != "" {
		remote = "group " + r.RemoteGroupID
	}
	return fmt.Sprintf("%s %s %d-%d from %s", r.Direction, r.Protocol, r.PortMin, r.PortMax, remote)
}

// ListSecurityGroupRules lists the rules of one security group.
func (c *Client) ListSecurityGroupRules(ctx context.Context, groupID string) ([]SecurityGroupRule, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := rules.List(sc, rules.ListOpts{SecGroupID: groupID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list rules of security group %s: %w", groupID, err)
	}
	all, err := rules.ExtractRules(pages)
	if err != nil {
		return nil, fmt.Errorf("list rules of security group %s: %w", groupID, err)
	}
	out := make([]SecurityGroupRule, 0, len(all))
	for i := range all {
		if all[i].SecGroupID == groupID {
			out = append(out, ruleOf(&all[i]))
		}
	}
	return out, nil
}

// DeleteSecurityGroupRule deletes a rule; a missing one counts as deleted.
func (c *Client) DeleteSecurityGroupRule(ctx context.Context, id string) error {
	sc, err := c.Network(ctx)
	if err != nil {
		return err
	}
	if err := rules.Delete(ctx, sc, id).ExtractErr(); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete security group rule %s: %w", id, err)
	}
	return nil
}

func securityGroupOf(g *groups.SecGroup) SecurityGroup {
	out := SecurityGroup{ID: g.ID, Name: g.Name, Description: g.Description, Tags: g.Tags}
	for i := range g.Rules {
		out.Rules = append(out.Rules, ruleOf(&g.Rules[i]))
	}
	return out
}

func ruleOf(r *rules.SecGroupRule) SecurityGroupRule {
	return SecurityGroupRule{
		ID: r.ID, Direction: r.Direction, EtherType: r.EtherType, Protocol: r.Protocol,
		PortMin: r.PortRangeMin, PortMax: r.PortRangeMax, RemoteIPPrefix: r.RemoteIPPrefix,
		RemoteGroupID: r.RemoteGroupID, Description: r.Description,
	}
}

// Port is a Neutron port.
type Port struct {
	ID             string
	Name           string
	Description    string
	NetworkID      string
	DeviceID       string
	DeviceOwner    string
	Status         string
	MACAddress     string
	FixedIPs       []FixedIP
	SecurityGroups []string
}

// FixedIP is one address of a port.
type FixedIP struct {
	SubnetID string
	IP       string
}

// PortCreate is what a new port needs.
type PortCreate struct {
	Name             string
	NetworkID        string
	SubnetID         string // optional: take the address from this subnet
	IP               string // optional: this exact address
	SecurityGroupIDs []string
	Description      string
}

// CreatePort creates a port, e.g. to give a server a stable address.
func (c *Client) CreatePort(ctx context.Context, in PortCreate) (Port, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return Port{}, err
	}
	opts := ports.CreateOpts{Name: in.Name, NetworkID: in.NetworkID, Description: in.Description}
	if in.SubnetID != "" || in.IP != "" {
		opts.FixedIPs = []ports.IP{{SubnetID: in.SubnetID, IPAddress: in.IP}}
	}
	if in.SecurityGroupIDs != nil {
		sgs := in.SecurityGroupIDs
		opts.SecurityGroups = &sgs
	}
	p, err := ports.Create(ctx, sc, opts).Extract()
	if err != nil {
		return Port{}, fmt.Errorf("create port %s: %w", in.Name, err)
	}
	return portOf(p), nil
}

// GetPort reads a port; IsNotFound(err) when it does not exist.
func (c *Client) GetPort(ctx context.Context, id string) (Port, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return Port{}, err
	}
	p, err := ports.Get(ctx, sc, id).Extract()
	if err != nil {
		return Port{}, fmt.Errorf("get port %s: %w", id, err)
	}
	return portOf(p), nil
}

// PortFilter selects ports; empty fields match anything.
type PortFilter struct {
	Name        string
	Description string
	NetworkID   string
	DeviceID    string
}

// ListPorts lists the ports matching f.
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
		p := &all[i]
		// Filter here too, in case the server ignores a filter.
		if (f.Name == "" || p.Name == f.Name) && (f.Description == "" || p.Description == f.Description) &&
			(f.NetworkID == "" || p.NetworkID == f.NetworkID) && (f.DeviceID == "" || p.DeviceID == f.DeviceID) {
			out = append(out, portOf(p))
		}
	}
	return out, nil
}

// ListPortsByDevice lists the ports bound to a device (a server id, a load
// balancer id...).
func (c *Client) ListPortsByDevice(ctx context.Context, deviceID string) ([]Port, error) {
	sc, err := c.Network(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := ports.List(sc, ports.ListOpts{DeviceID: deviceID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list ports of device %s: %w", deviceID, err)
	}
	all, err := ports.ExtractPorts(pages)
	if err != nil {
		return nil, fmt.Errorf("list ports of device %s: %w", deviceID, err)
	}
	var out []Port
	for i := range all {
		if all[i].DeviceID == deviceID {
			out = append(out, portOf(&all[i]))
		}
	}
	return out, nil
}

// DeletePort deletes a port; a missing one counts as deleted.
func (c *Client) DeletePort(ctx context.Context, id string) error {
	sc, err := c.Network(ctx)
	if err != nil {
		return err
	}
	if err := ports.Delete(ctx, sc, id).ExtractErr(); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete port %s: %w", id, err)
	}
	return nil
}

func portOf(p *ports.Port) Port {
	out := Port{
		ID: p.ID, Name: p.Name, Description: p.Description, NetworkID: p.NetworkID, DeviceID: p.DeviceID, DeviceOwner: p.DeviceOwner,
		Status: p.Status, MACAddress: p.MACAddress, SecurityGroups: p.SecurityGroups,
	}
	for _, ip := range p.FixedIPs {
		out.FixedIPs = append(out.FixedIPs, FixedIP{SubnetID: ip.SubnetID, IP: ip.IPAddress})
	}
	return out
}
