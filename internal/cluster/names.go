package cluster

import (
	"crypto/rand"
	"fmt"
	"strconv"
)

// Metadata keys written on every server and volume of a cluster. Read,
// import and delete find a cluster's objects through them, so a half-built
// cluster can always be found and removed.
const (
	metaClusterID   = "pxc_cluster_id"
	metaClusterName = "pxc_cluster_name"
	metaNodeIndex   = "pxc_node_index"
	metaDatastore   = "pxc_datastore" // "<type>:<version>"
	metaServerGroup = "pxc_server_group"
	metaKeyPair     = "pxc_keypair"
	metaKeyPairGen  = "pxc_keypair_generated"
	// What the user asked for, as written, so import can restore it.
	metaFlavor       = "pxc_flavor"
	metaImage        = "pxc_image"
	metaNetwork      = "pxc_network"
	metaVolume       = "pxc_volume" // "<size GiB>:<type>"
	metaAntiAffinity = "pxc_anti_affinity"
	metaSST          = "pxc_sst_method"
	metaNodeCount    = "pxc_node_count"
	metaZones        = "pxc_availability_zones" // comma-separated
	metaFailure      = "pxc_failure_detection"  // seconds
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

// ownerDescription is written as the description of ports and security
// groups: Neutron filters on it exactly, which finds them without metadata.
func ownerDescription(id string) string { return "pxc_cluster " + id }

func volumeName(cluster string, index int) string { return NodeName(cluster, index) + "-data" }

func nodeIndexOf(meta map[string]string) int {
	i, err := strconv.Atoi(meta[metaNodeIndex])
	if err != nil {
		return 0
	}
	return i
}
