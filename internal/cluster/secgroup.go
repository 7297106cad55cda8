package cluster

import (
	"fmt"
	"net/netip"
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
	rules := []ingressRule{
		{Port: portMySQL, RemoteGroup: true, Description: "MySQL between members"},
		{Port: portSST, RemoteGroup: true, Description: "Galera SST between members"},
		{Port: portGcomm, RemoteGroup: true, Description: "Galera group communication between members"},
		{Port: portIST, RemoteGroup: true, Description: "Galera IST between members"},
	}
	for _, p := range dedupe(allowed) {
		rules = append(rules, ingressRule{Port: portMySQL, RemoteCIDR: p, Description: "MySQL clients"})
	}
	for _, p := range dedupe(sshSources) {
		rules = append(rules, ingressRule{Port: portSSH, RemoteCIDR: p, Description: "SSH for provisioning"})
	}
	return rules
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
