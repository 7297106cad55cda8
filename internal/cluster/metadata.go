package cluster

import (
	"strconv"
	"strings"
	"time"
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
	metaTLS          = "pxc_tls"                // the TLS mode; absent: plain (made before TLS)
	// A pxc_node's server (node.go): its kind when not data, and "true"
	// for a member that node_count does not count.
	metaNodeKind  = "pxc_node_kind"
	metaNodeExtra = "pxc_node_extra"
)

// serverMetadata is what a node's server records about its cluster.
func serverMetadata(spec Spec, c *Cluster, n *Node) map[string]string {
	meta := map[string]string{
		metaClusterID:    c.ID,
		metaClusterName:  c.Name,
		metaNodeIndex:    strconv.Itoa(n.Index),
		metaDatastore:    spec.Datastore.Type + ":" + spec.Datastore.Version,
		metaServerGroup:  c.ServerGroupID,
		metaKeyPair:      c.KeyPairName,
		metaKeyPairGen:   strconv.FormatBool(c.KeyPairGenerated),
		metaFlavor:       spec.Flavor,
		metaImage:        spec.Image,
		metaNetwork:      spec.Network,
		metaVolume:       strconv.Itoa(spec.Volume.SizeGiB) + ":" + spec.Volume.Type,
		metaAntiAffinity: spec.AntiAffinity,
		metaSST:          spec.SSTMethod,
		metaNodeCount:    strconv.Itoa(spec.NodeCount),
		metaZones:        strings.Join(spec.AvailabilityZones, ","),
		metaFailure:      strconv.Itoa(int(spec.FailureDetection.Seconds())),
		metaTLS:          effectiveTLSMode(spec, c),
	}
	extraMetadata(meta, n)
	return meta
}

// volumeMetadata is what a node's data volume records.
func volumeMetadata(c *Cluster, n *Node) map[string]string {
	return map[string]string{metaClusterID: c.ID, metaNodeIndex: strconv.Itoa(n.Index)}
}

func nodeIndexOf(meta map[string]string) int {
	i, err := strconv.Atoi(meta[metaNodeIndex])
	if err != nil {
		return 0
	}
	return i
}

func datastoreOf(meta map[string]string) (Datastore, bool) {
	t, v, ok := strings.Cut(meta[metaDatastore], ":")
	return Datastore{Type: t, Version: v}, ok
}

func keyPairOf(meta map[string]string) (name string, generated bool) {
	generated, _ = strconv.ParseBool(meta[metaKeyPairGen])
	return meta[metaKeyPair], generated
}

func requestedFrom(meta map[string]string) Requested {
	r := Requested{
		Flavor: meta[metaFlavor], Image: meta[metaImage], Network: meta[metaNetwork],
		AntiAffinity: meta[metaAntiAffinity], SSTMethod: meta[metaSST], TLSMode: meta[metaTLS],
	}
	r.NodeCount, _ = strconv.Atoi(meta[metaNodeCount])
	if size, typ, ok := strings.Cut(meta[metaVolume], ":"); ok {
		r.Volume.SizeGiB, _ = strconv.Atoi(size)
		r.Volume.Type = typ
	}
	if secs, err := strconv.Atoi(meta[metaFailure]); err == nil {
		r.FailureDetection = time.Duration(secs) * time.Second
	}
	if z := meta[metaZones]; z != "" {
		r.AvailabilityZones = strings.Split(z, ",")
	}
	return r
}
