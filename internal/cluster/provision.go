package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// placement is what every node of one cluster shares in the cloud: the
// resolved references and the cluster-wide objects (security group, server
// group, keypair) recorded in c.
type placement struct {
	spec Spec
	refs References
	c    *Cluster

	// onActive, if set, runs for each node once its server is ACTIVE (a
	// create verifies the host key).
	onActive func(ctx context.Context, n *Node) error
	// volumes are the data volumes already started, by node index.
	volumes map[int]*dataVolume
}

// provisionNode gives one node its cloud objects: a port (unless it has
// one) and its data volume side by side (the volume may have been started
// before, see startVolume), then the server, which Nova boots with the
// volume attached (block_device_mapping_v2): once the server is ACTIVE,
// the guest finds its disk by its serial, with no attach to ask for or
// wait on. Every id is recorded in n as soon as it exists, so a failure
// leaves a node Delete can clean up.
func (m *Manager) provisionNode(ctx context.Context, p placement, n *Node) error {
	volume := p.volumes[n.Index]
	if volume == nil {
		volume = m.startVolume(ctx, p, n)
	}
	if n.PortID == "" {
		if err := m.provisionPort(ctx, p, n); err != nil {
			_ = volume.ready() // its id is in n before this returns
			return err
		}
	}
	if err := volume.ready(); err != nil {
		return &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: err}
	}
	t := time.Now()
	s, err := m.cloud.CreateServer(ctx, openstack.ServerCreate{
		Name:             n.Name,
		FlavorID:         p.refs.FlavorID,
		ImageID:          p.refs.ImageID,
		PortID:           n.PortID,
		KeyName:          p.c.KeyPairName,
		AvailabilityZone: n.AvailabilityZone,
		Metadata:         serverMetadata(p.spec, p.c, n),
		ServerGroupID:    p.c.ServerGroupID,
		UserData:         bootUserData(p.spec),
		DataVolumeID:     n.VolumeID,
	})
	if err != nil {
		return err
	}
	n.ServerID = s.ID
	if s, err = m.cloud.WaitServerActive(ctx, s.ID); err != nil {
		return err
	}
	n.ServerStatus = s.Status
	n.Flavor, n.Image = s.FlavorName, s.ImageID
	if s.AvailabilityZone != "" {
		n.AvailabilityZone = s.AvailabilityZone
	}
	what := "with its data volume"
	if n.Kind == KindArbitrator {
		what = "(arbitrator, no volume)"
	}
	m.progress(ctx, PhaseServers, n.Name, fmt.Sprintf("server %s ACTIVE at %s %s", n.Name, n.IP, what), t)
	return p.runOnActive(ctx, n)
}

func (p placement) runOnActive(ctx context.Context, n *Node) error {
	if p.onActive == nil {
		return nil
	}
	return p.onActive(ctx, n)
}

// dataVolume is a node's data volume on its way to available.
type dataVolume struct {
	done chan struct{}
	err  error
}

// ready returns once the volume is available, or its create failed; the
// volume's id is in the node by then if it exists.
func (v *dataVolume) ready() error {
	<-v.done
	return v.err
}

// startVolume creates n's data volume in the background, so a create can
// overlap it with the cluster's other objects and a grow with the port;
// an arbitrator's is ready at once (garbd holds no data).
func (m *Manager) startVolume(ctx context.Context, p placement, n *Node) *dataVolume {
	v := &dataVolume{done: make(chan struct{})}
	if n.Kind == KindArbitrator {
		close(v.done)
		return v
	}
	go func() {
		defer close(v.done)
		created, err := m.cloud.CreateVolume(ctx, openstack.VolumeCreate{
			Name:             volumeName(p.c.Name, n.Index),
			SizeGiB:          p.spec.Volume.SizeGiB,
			VolumeType:       p.spec.Volume.Type,
			AvailabilityZone: n.AvailabilityZone,
			Description:      ownerDescription(p.c.ID),
			Metadata:         volumeMetadata(p.c, n),
		})
		if created.ID != "" {
			n.VolumeID = created.ID
		}
		v.err = err
	}()
	return v
}

// provisionPort gives a node its address before the server exists, so the
// security group rules and the galera config can be written up front.
func (m *Manager) provisionPort(ctx context.Context, p placement, n *Node) error {
	port, err := m.cloud.CreatePort(ctx, openstack.PortCreate{
		Name:             n.Name,
		NetworkID:        p.refs.NetworkID,
		SubnetID:         p.refs.Subnet.ID,
		SecurityGroupIDs: []string{p.c.SecurityGroupID},
		Description:      ownerDescription(p.c.ID),
	})
	if err != nil {
		return err
	}
	n.PortID = port.ID
	if len(port.FixedIPs) == 0 {
		return fmt.Errorf("port %s has no fixed IP", port.ID)
	}
	n.IP = port.FixedIPs[0].IP
	return nil
}

func (m *Manager) progress(ctx context.Context, phase, node, msg string, since time.Time) {
	m.log.Progress(ctx, Event{Phase: phase, Node: node, Message: msg, Duration: time.Since(since).Round(100 * time.Millisecond)})
}
