package neutron

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// reserveAddr takes a caller-chosen address out of the network's pool.
// host.Network reserves addresses only through StartHost, so when it has no
// ReserveAddr method we allocate in order (lowest free first) until the
// wanted address comes up and hand the others back.
func (c *Service) reserveAddr(a netip.Addr) error {
	if r, ok := any(c.Network).(interface{ ReserveAddr(netip.Addr) error }); ok {
		return r.ReserveAddr(a)
	}
	var taken []netip.Addr
	defer func() {
		for _, t := range taken {
			c.Network.ReleaseAddr(t)
		}
	}()
	for {
		got, err := c.Network.AllocateAddr()
		if err != nil {
			return fmt.Errorf("address %s is not free", a)
		}
		if got == a {
			return nil
		}
		taken = append(taken, got)
		if a.Less(got) {
			return fmt.Errorf("address %s is not free", a)
		}
	}
}

// RenderFirewall builds the nftables ruleset of a server from the security
// groups of its ports, with Neutron's semantics: everything not allowed by a
// rule is dropped in that direction; replies to allowed traffic pass
// (stateful groups); remote_group_id means "any address of a port in that
// group". IPv6 rules are rendered too, although the network is IPv4 only.
// Callers hold c.mu.
func (c *Service) RenderFirewall(s *state.Server) string {
	return c.renderFirewallOpts(s, c.Probing[s.ID] > 0)
}

// renderFirewallOpts with bootProbe also lets the machine reach sshd: the
// host package's power-on waits for sshd from the machine and the cloud
// checks the keypair's key, which a real hypervisor does not need; the
// opening lasts only while the host boots (c.probing).
func (c *Service) renderFirewallOpts(s *state.Server, bootProbe bool) string {
	var ports []*state.Port
	for _, id := range s.PortIDs {
		if p, ok := c.St.Ports[id]; ok {
			ports = append(ports, p)
		}
	}
	secure := true
	var groups []string
	for _, p := range ports {
		if !p.PortSecurity {
			secure = false
		}
		for _, g := range p.SecurityGroups {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	var b strings.Builder
	b.WriteString("table inet neutron {\n")
	if len(ports) == 0 {
		// No port (networks "none", or its port was deleted): unreachable.
		b.WriteString("  chain input { type filter hook input priority 0; policy drop; iif lo accept; }\n")
		b.WriteString("  chain output { type filter hook output priority 0; policy drop; oif lo accept; }\n}\n")
		return b.String()
	}
	if !secure {
		// Port security off (or no port): Neutron applies no filtering.
		b.WriteString("  chain input { type filter hook input priority 0; policy accept; }\n")
		b.WriteString("  chain output { type filter hook output priority 0; policy accept; }\n}\n")
		return b.String()
	}
	var in, out []string
	for _, rl := range c.sortedRules() {
		if !slices.Contains(groups, rl.GroupID) {
			continue
		}
		lines := c.ruleLines(rl)
		if rl.Direction == "ingress" {
			in = append(in, lines...)
		} else {
			out = append(out, lines...)
		}
	}
	b.WriteString("  chain input {\n    type filter hook input priority 0; policy drop;\n")
	b.WriteString("    ct state established,related accept\n    ct state invalid drop\n    iif lo accept\n")
	if bootProbe {
		fmt.Fprintf(&b, "    ip saddr %s tcp dport 22 accept comment \"boot probe\"\n", c.Network.Gateway())
	}
	for _, l := range in {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("  }\n  chain output {\n    type filter hook output priority 0; policy drop;\n")
	b.WriteString("    ct state established,related accept\n    ct state invalid drop\n    oif lo accept\n")
	for _, l := range out {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// ruleLines renders one security group rule as nft statements (none when a
// remote group has no addresses). Callers hold c.mu.
func (c *Service) ruleLines(rl *state.Rule) []string {
	family, addrKey := "ip", "saddr"
	if rl.Ethertype == "IPv6" {
		family = "ip6"
	}
	if rl.Direction == "egress" {
		addrKey = "daddr"
	}
	var match []string
	if rl.Ethertype == "IPv6" {
		match = append(match, "meta nfproto ipv6")
	} else {
		match = append(match, "meta nfproto ipv4")
	}
	switch {
	case rl.RemoteIPPrefix != "":
		match = append(match, fmt.Sprintf("%s %s %s", family, addrKey, rl.RemoteIPPrefix))
	case rl.RemoteGroupID != "":
		addrs := c.groupAddrs(rl.RemoteGroupID, rl.Ethertype == "IPv6")
		if len(addrs) == 0 {
			return nil
		}
		match = append(match, fmt.Sprintf("%s %s { %s }", family, addrKey, strings.Join(addrs, ", ")))
	}
	proto := normProto(rl.Protocol)
	switch proto {
	case "":
	case "6", "17", "132":
		name := map[string]string{"6": "tcp", "17": "udp", "132": "sctp"}[proto]
		if rl.PortMin != nil && rl.PortMax != nil {
			if *rl.PortMin == *rl.PortMax {
				match = append(match, fmt.Sprintf("%s dport %d", name, *rl.PortMin))
			} else {
				match = append(match, fmt.Sprintf("%s dport %d-%d", name, *rl.PortMin, *rl.PortMax))
			}
		} else {
			match = append(match, "meta l4proto "+name)
		}
	case "1":
		if rl.Ethertype == "IPv6" {
			return nil
		}
		match = append(match, "meta l4proto icmp")
		if rl.PortMin != nil {
			match = append(match, fmt.Sprintf("icmp type %d", *rl.PortMin))
			if rl.PortMax != nil {
				match = append(match, fmt.Sprintf("icmp code %d", *rl.PortMax))
			}
		}
	default:
		match = append(match, "meta l4proto "+proto)
	}
	return []string{strings.Join(match, " ") + " accept"}
}

// groupAddrs lists the fixed IPs (and allowed address pairs) of every port
// in a security group. Callers hold c.mu.
func (c *Service) groupAddrs(groupID string, v6 bool) []string {
	var out []string
	for _, p := range c.St.Ports {
		if !slices.Contains(p.SecurityGroups, groupID) {
			continue
		}
		cands := []string{}
		for _, ip := range p.FixedIPs {
			cands = append(cands, ip.IPAddress)
		}
		for _, ap := range p.AddressPairs {
			cands = append(cands, ap.IPAddress)
		}
		for _, s := range cands {
			if pfx, err := netip.ParsePrefix(s); err == nil {
				if pfx.Addr().Is6() == v6 && !slices.Contains(out, pfx.Masked().String()) {
					out = append(out, pfx.Masked().String())
				}
				continue
			}
			if a, err := netip.ParseAddr(s); err == nil && a.Is6() == v6 && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// RefreshFirewallsLocked re-applies every running server's ruleset (rules or
// group membership changed). It runs synchronously, so a rule takes effect
// before its create call returns. Callers hold c.mu.
func (c *Service) RefreshFirewallsLocked() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for id, h := range c.Hosts {
		s, ok := c.St.Servers[id]
		if !ok {
			continue
		}
		if err := h.ApplyFirewall(ctx, c.RenderFirewall(s)); err != nil {
			c.Log.Error("apply firewall", "server", id, "err", err)
		}
	}
}
