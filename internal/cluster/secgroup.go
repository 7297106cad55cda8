package cluster

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Galera's ports. Users cannot list rules themselves: the cluster always makes
// every rule it needs, so a forgotten port cannot be expressed.
const (
	portMySQL = 3306
	portSST   = 4444 // state snapshot transfer (rsync, mariabackup, xtrabackup)
	portGcomm = 4567 // group communication
	portIST   = 4568 // incremental state transfer
	portSSH   = 22
)

// ingressRule is one Neutron ingress rule; exactly one of RemoteGroup and
// RemoteCIDR is set.
type ingressRule struct {
	Port        int
	RemoteGroup bool // members of the cluster's own security group
	RemoteCIDR  netip.Prefix
	Description string
}

func (r ingressRule) String() string {
	from := "members"
	if !r.RemoteGroup {
		from = r.RemoteCIDR.String()
	}
	return fmt.Sprintf("tcp/%d from %s", r.Port, from)
}

// ingressRules is the least-privilege rule set of a cluster: replication
// ports only between members, MySQL from members and the allowed CIDRs, SSH
// only from where the provisioning connects.
func ingressRules(allowed, sshSources []netip.Prefix) []ingressRule {
	rules := memberRules()
	rules = append(rules, clientRules(allowed)...)
	return append(rules, sshRules(sshSources)...)
}

// memberRules open MySQL and Galera's ports between the members.
func memberRules() []ingressRule {
	return []ingressRule{
		{Port: portMySQL, RemoteGroup: true, Description: "MySQL between members"},
		{Port: portSST, RemoteGroup: true, Description: "Galera SST between members"},
		{Port: portGcomm, RemoteGroup: true, Description: "Galera group communication between members"},
		{Port: portIST, RemoteGroup: true, Description: "Galera IST between members"},
	}
}

// clientRuleWhat describes the rules that open MySQL to allowed_cidrs.
const clientRuleWhat = "MySQL clients"

// clientRules open MySQL to the allowed networks.
func clientRules(allowed []netip.Prefix) []ingressRule {
	var rules []ingressRule
	for _, p := range dedupe(allowed) {
		rules = append(rules, ingressRule{Port: portMySQL, RemoteCIDR: p, Description: clientRuleWhat})
	}
	return rules
}

// sshRules open SSH to where provisioning connects from.
func sshRules(sources []netip.Prefix) []ingressRule {
	var rules []ingressRule
	for _, p := range dedupe(sources) {
		rules = append(rules, ingressRule{Port: portSSH, RemoteCIDR: p, Description: "SSH for provisioning"})
	}
	return rules
}

// ruleDescription marks a rule as the cluster's own: "pxc_cluster <id>
// MySQL clients". A security group is shared with whatever else opens ports
// to the members (a pxc_lb_pool marks its rules "pxc_lb <id>"), so the
// cluster only ever removes rules carrying its mark.
func ruleDescription(clusterID, what string) string {
	return ownerDescription(clusterID) + " " + what
}

// ownsRule says whether the cluster made rule r. Rules made before rules
// were marked carry the bare "MySQL clients" description; no other owner
// ever used it, so they count as the cluster's.
func ownsRule(clusterID string, r openstack.SecurityGroupRule) bool {
	return strings.HasPrefix(r.Description, ownerDescription(clusterID)+" ") || r.Description == clientRuleWhat
}

// clientRuleCIDR is the network an ingress MySQL rule from a CIDR opens
// the port to; ok is false for any other rule.
func clientRuleCIDR(r openstack.SecurityGroupRule) (p netip.Prefix, ok bool) {
	if r.Direction != "ingress" || r.PortMin != portMySQL || r.RemoteIPPrefix == "" {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(r.RemoteIPPrefix)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// lbOfRule is the load balancer whose mark ("pxc_lb <id>") rule r carries.
func lbOfRule(r openstack.SecurityGroupRule) (lbID string, ok bool) {
	return strings.CutPrefix(r.Description, ruleOwner(""))
}

// poolSources maps each network some load balancer opened a port of the
// members to (its MySQL or clustercheck rule) onto that load balancer: the
// record that the load balancer relies on MySQL from that network, even
// when the MySQL rule itself is the cluster's (a second one is a 409).
func poolSources(rules []openstack.SecurityGroupRule, except string) map[netip.Prefix]string {
	out := map[netip.Prefix]string{}
	for _, r := range rules {
		lb, ok := lbOfRule(r)
		if !ok || lb == except || r.Direction != "ingress" || r.RemoteIPPrefix == "" {
			continue
		}
		if p, err := netip.ParsePrefix(r.RemoteIPPrefix); err == nil {
			if _, seen := out[p.Masked()]; !seen {
				out[p.Masked()] = lb
			}
		}
	}
	return out
}

// handOver gives rule r to another owner: the same rule described desc.
// Neutron cannot change a rule's description and refuses a second
// identical rule (409), so the old rule goes first and the new one follows
// at once: for that one round trip, new connections from the network are
// refused (established ones are kept by connection tracking). Only a
// change of who needs the rule takes this path.
func (m *Manager) handOver(ctx context.Context, groupID string, r openstack.SecurityGroupRule, desc string) error {
	if err := m.cloud.DeleteSecurityGroupRule(ctx, r.ID); err != nil {
		return fmt.Errorf("hand tcp/%d from %s over to %q: remove the old rule: %w", r.PortMin, r.RemoteIPPrefix, desc, err)
	}
	r.ID, r.Description = "", desc
	if _, err := m.cloud.CreateSecurityGroupRule(ctx, groupID, r); err != nil {
		return fmt.Errorf("hand tcp/%d from %s over to %q: %w", r.PortMin, r.RemoteIPPrefix, desc, err)
	}
	return nil
}

// addRules sends the rules to the cluster's security group in one bulk
// request: each rule once, and none a second time.
func (m *Manager) addRules(ctx context.Context, c *Cluster, rules []ingressRule) error {
	if len(rules) == 0 {
		return nil
	}
	out := make([]openstack.SecurityGroupRule, 0, len(rules))
	for _, r := range rules {
		out = append(out, r.neutron(c))
	}
	if _, err := m.cloud.CreateSecurityGroupRules(ctx, c.SecurityGroupID, out); err != nil {
		return fmt.Errorf("security group rules %s: %w", describeRules(rules), err)
	}
	return nil
}

// neutron is the rule as the cluster's security group holds it.
func (r ingressRule) neutron(c *Cluster) openstack.SecurityGroupRule {
	rule := openstack.SecurityGroupRule{
		Direction: "ingress", EtherType: "IPv4", Protocol: "tcp",
		PortMin: r.Port, PortMax: r.Port, Description: ruleDescription(c.ID, r.Description),
	}
	if r.RemoteGroup {
		rule.RemoteGroupID = c.SecurityGroupID
	} else {
		rule.RemoteIPPrefix = r.RemoteCIDR.String()
	}
	return rule
}

func describeRules(rules []ingressRule) string {
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// sshSources are where port 22 is opened to: the given CIDRs, else the
// local address this machine uses towards the first node (a UDP "connect"
// sends nothing), else the subnet when a bastion is used.
func (m *Manager) sshSources(ctx context.Context, spec Spec, subnet openstack.Subnet, firstIP string) ([]netip.Prefix, error) {
	if len(spec.SSH.SourceCIDRs) > 0 {
		return spec.SSH.SourceCIDRs, nil
	}
	if spec.SSH.Bastion != nil {
		p, err := netip.ParsePrefix(subnet.CIDR)
		if err != nil {
			return nil, fmt.Errorf("subnet %s CIDR %q: %w", subnet.ID, subnet.CIDR, err)
		}
		m.log.Warn(ctx, fmt.Sprintf("ssh.source_cidrs is empty and a bastion is used: opening port 22 to the subnet %s; set ssh.source_cidrs to the bastion's address to narrow it", p))
		return []netip.Prefix{p}, nil
	}
	src, err := localSourceFor(firstIP)
	if err != nil {
		return nil, err
	}
	return []netip.Prefix{netip.PrefixFrom(src, 32)}, nil
}

func localSourceFor(ip string) (netip.Addr, error) {
	conn, err := net.Dial("udp", net.JoinHostPort(ip, "22"))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find the local address towards %s (set ssh.source_cidrs): %w", ip, err)
	}
	defer conn.Close()
	ap, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("local address towards %s: %w", ip, err)
	}
	return ap.Addr().Unmap(), nil
}

func dedupe(prefixes []netip.Prefix) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	for _, p := range prefixes {
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
