package cluster

import (
	"crypto/rand"
	"fmt"
)

// newClusterID returns a random (version 4) UUID.
func newClusterID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate cluster id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// ObjectName names the cluster's own cloud objects (security group, server
// group, keypair): the cluster name plus a short id, so two clusters of the
// same name in one project never share objects.
func ObjectName(name, id string) string {
	short := id
	if len(short) > 8 {
		short = short[:8]
	}
	return fmt.Sprintf("pxc-%s-%s", name, short)
}

// NodeName is the name of the index-th (1-based) node.
func NodeName(cluster string, index int) string { return fmt.Sprintf("%s-%d", cluster, index) }

// ownerDescription is written as the description of ports and security
// groups: Neutron filters on it exactly, which finds them without metadata.
func ownerDescription(id string) string { return "pxc_cluster " + id }

func volumeName(cluster string, index int) string { return NodeName(cluster, index) + "-data" }

// galeraName is wsrep_cluster_name: the guest library allows 32 characters.
func galeraName(name, id string) string {
	if len(name) <= 32 {
		return name
	}
	return name[:23] + "-" + id[:8]
}
