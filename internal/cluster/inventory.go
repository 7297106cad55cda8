package cluster

import (
	"context"
	"sort"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// inventory is every cloud object that belongs to one cluster, found with
// list calls filtered by the cluster id (never one GET per object).
type inventory struct {
	servers        []openstack.Server
	volumes        []openstack.Volume
	ports          []openstack.Port
	securityGroups []openstack.SecurityGroup
	serverGroupIDs []string
	keyPairs       []string // generated ones only: a user's keypair is not ours
}

// groupRules are the rules of the cluster's security group (none without
// one).
func (inv *inventory) groupRules() []openstack.SecurityGroupRule {
	if len(inv.securityGroups) == 0 {
		return nil
	}
	return inv.securityGroups[0].Rules
}

func (inv *inventory) empty() bool {
	return len(inv.servers) == 0 && len(inv.volumes) == 0 && len(inv.ports) == 0 &&
		len(inv.securityGroups) == 0 && len(inv.serverGroupIDs) == 0 && len(inv.keyPairs) == 0
}

// discover lists the cluster's objects. name may be empty (import). Server
// groups and generated keypairs carry no metadata: they are found by the
// name ObjectName gives them, so one a failed create made (or a create whose
// answer was lost) is found although no server records it.
func (m *Manager) discover(ctx context.Context, id, name string) (*inventory, error) {
	inv := &inventory{}
	match := map[string]string{metaClusterID: id}
	var err error
	if inv.servers, err = m.cloud.ListServers(ctx, name, match); err != nil {
		return nil, err
	}
	sort.Slice(inv.servers, func(i, j int) bool {
		return nodeIndexOf(inv.servers[i].Metadata) < nodeIndexOf(inv.servers[j].Metadata)
	})
	if inv.volumes, err = m.cloud.ListVolumes(ctx, name, match); err != nil {
		return nil, err
	}
	if inv.ports, err = m.cloud.ListPorts(ctx, openstack.PortFilter{Description: ownerDescription(id)}); err != nil {
		return nil, err
	}
	if inv.securityGroups, err = m.cloud.ListSecurityGroups(ctx, openstack.SecurityGroupFilter{Description: ownerDescription(id)}); err != nil {
		return nil, err
	}
	groups := map[string]bool{}
	keys := map[string]bool{}
	for _, s := range inv.servers {
		if g := s.Metadata[metaServerGroup]; g != "" {
			groups[g] = true
		}
		if name, generated := keyPairOf(s.Metadata); generated && name != "" {
			keys[name] = true
		}
	}
	// Servers record their group and keypair; only when none exists (a
	// create that failed before its first server) are the two looked up by
	// name, so a refresh of a built cluster spends no request on them.
	if len(inv.servers) == 0 {
		if err := m.findNamedCompute(ctx, id, groups, keys); err != nil {
			return nil, err
		}
	}
	for g := range groups {
		inv.serverGroupIDs = append(inv.serverGroupIDs, g)
	}
	sort.Strings(inv.serverGroupIDs)
	for k := range keys {
		inv.keyPairs = append(inv.keyPairs, k)
	}
	sort.Strings(inv.keyPairs)
	return inv, nil
}

// ownObjectName reports whether objName is what ObjectName gives the
// cluster id for some cluster name: "pxc-<name>-<first 8 of id>".
func ownObjectName(objName, id string) bool {
	short := ObjectName("", id)[len("pxc-"):] // "-<first 8 of id>"
	return id != "" && strings.HasPrefix(objName, "pxc-") && strings.HasSuffix(objName, short) &&
		len(objName) > len("pxc-")+len(short)
}

// cluster is what the inventory says about the cluster: its nodes, the
// objects they share and what the servers record of the request.
func (inv *inventory) cluster(id string) *Cluster {
	c := &Cluster{ID: id}
	volumeByIndex := map[int]openstack.Volume{}
	for _, v := range inv.volumes {
		volumeByIndex[nodeIndexOf(v.Metadata)] = v
	}
	for _, s := range inv.servers {
		idx := nodeIndexOf(s.Metadata)
		n := Node{
			Index: idx, Name: s.Name, ServerID: s.ID, IP: s.FirstIP(),
			AvailabilityZone: s.AvailabilityZone, ServerStatus: s.Status,
			Flavor: s.FlavorName, Image: s.ImageID,
		}
		n.Kind, n.Extra = kindOf(s.Metadata)
		if v, ok := volumeByIndex[idx]; ok {
			n.VolumeID, n.VolumeSizeGiB = v.ID, v.SizeGiB
		}
		c.Nodes = append(c.Nodes, n)
		if c.Name == "" {
			c.Name = s.Metadata[metaClusterName]
		}
		if c.Datastore.Type == "" {
			if d, ok := datastoreOf(s.Metadata); ok {
				c.Datastore = d
			}
		}
		if c.ServerGroupID == "" {
			c.ServerGroupID = s.Metadata[metaServerGroup]
		}
		if c.Requested.NodeCount == 0 && !n.Extra { // an extra records its own flavor
			c.Requested = requestedFrom(s.Metadata)
		}
		if c.KeyPairName == "" {
			c.KeyPairName, c.KeyPairGenerated = keyPairOf(s.Metadata)
		}
	}
	for _, p := range inv.ports {
		for i := range c.Nodes {
			if p.DeviceID == c.Nodes[i].ServerID {
				c.Nodes[i].PortID = p.ID
				if len(p.FixedIPs) > 0 {
					c.Nodes[i].IP = p.FixedIPs[0].IP
				}
			}
		}
	}
	// A create that failed before any server leaves the groups and the
	// keypair only the inventory knows.
	if c.ServerGroupID == "" && len(inv.serverGroupIDs) > 0 {
		c.ServerGroupID = inv.serverGroupIDs[0]
	}
	if c.KeyPairName == "" && len(inv.keyPairs) > 0 {
		c.KeyPairName, c.KeyPairGenerated = inv.keyPairs[0], true
	}
	if len(inv.securityGroups) > 0 {
		sg := inv.securityGroups[0]
		c.SecurityGroupID = sg.ID
		for _, r := range sg.Rules {
			if p, ok := clientRuleCIDR(r); ok && ownsRule(c.ID, r) {
				c.AllowedCIDRs = append(c.AllowedCIDRs, p)
			}
		}
	}
	return c
}

// findNamedCompute adds the server groups and generated keypairs named
// after cluster id (ObjectName) to groups and keys.
func (m *Manager) findNamedCompute(ctx context.Context, id string, groups, keys map[string]bool) error {
	sgs, err := m.cloud.ListServerGroups(ctx)
	if err != nil {
		return err
	}
	for _, g := range sgs {
		if ownObjectName(g.Name, id) {
			groups[g.ID] = true
		}
	}
	kps, err := m.cloud.ListKeyPairs(ctx)
	if err != nil {
		return err
	}
	for _, k := range kps {
		if ownObjectName(k.Name, id) {
			keys[k.Name] = true
		}
	}
	return nil
}
