package cluster

import (
	"context"
	"errors"
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

	// onActive, if set, runs for each node once its server is ACTIVE and
	// the attach of its volume is asked for (a create verifies the host key
	// meanwhile).
	onActive func(ctx context.Context, n *Node) error
	// onVolume, if set, runs for each node once its data volume exists.
	onVolume func(n *Node)
}

// provisionNode gives one node its cloud objects: a port (unless it has
// one), then the server and its data volume side by side, and once the
// server is ACTIVE, the volume's attach asked of Nova. It returns before
// Cinder calls the volume in-use: the guest finds the disk by its serial
// as soon as the hypervisor plugs it in, so the caller can prepare the
// node meanwhile and wait for the returned attach before it is done.
// Every id is recorded in n as soon as it exists, so a failure leaves a
// node Delete can clean up.
func (m *Manager) provisionNode(ctx context.Context, p placement, n *Node) (volumeAttach, error) {
	if n.PortID == "" {
		if err := m.provisionPort(ctx, p, n); err != nil {
			return volumeAttach{}, err
		}
	}
	t := time.Now()
	volCh := make(chan error, 1)
	if n.Kind == KindArbitrator { // garbd holds no data
		volCh <- nil
	} else {
		go func() {
			err := m.provisionVolume(ctx, p, n)
			if err == nil && p.onVolume != nil {
				p.onVolume(n)
			}
			volCh <- err
		}()
	}
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
	})
	if err != nil {
		<-volCh
		return volumeAttach{}, err
	}
	n.ServerID = s.ID
	s, err = m.cloud.WaitServerActive(ctx, s.ID)
	if verr := <-volCh; verr != nil {
		return volumeAttach{}, &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: verr}
	}
	if err != nil {
		return volumeAttach{}, err
	}
	n.ServerStatus = s.Status
	n.Flavor, n.Image = s.FlavorName, s.ImageID
	if s.AvailabilityZone != "" {
		n.AvailabilityZone = s.AvailabilityZone
	}
	if n.Kind == KindArbitrator {
		m.progress(ctx, PhaseServers, n.Name, fmt.Sprintf("server %s ACTIVE at %s (arbitrator, no volume)", n.Name, n.IP), t)
		return volumeAttach{}, p.runOnActive(ctx, n)
	}
	if _, err := m.cloud.StartVolumeAttach(ctx, n.ServerID, n.VolumeID); err != nil {
		return volumeAttach{}, &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: err}
	}
	if err := p.runOnActive(ctx, n); err != nil {
		return volumeAttach{}, err
	}
	m.progress(ctx, PhaseServers, n.Name, fmt.Sprintf("server %s ACTIVE at %s, volume attaching", n.Name, n.IP), t)
	return volumeAttach{m: m, node: n.Name, serverID: n.ServerID, volumeID: n.VolumeID}, nil
}

// volumeAttach is a node's data volume on its way in: Nova took the
// attach, Cinder has yet to call the volume in-use. The zero value (an
// arbitrator's, or a failed provisioning's) has nothing to wait for.
type volumeAttach struct {
	m                        *Manager
	node, serverID, volumeID string
}

// wait returns once Cinder calls the volume in-use.
func (a volumeAttach) wait(ctx context.Context) error {
	if a.m == nil {
		return nil
	}
	if err := a.m.cloud.WaitVolumeAttached(ctx, a.serverID, a.volumeID); err != nil {
		return &PhaseError{Phase: PhaseVolumes, Node: a.node, Err: err}
	}
	return nil
}

// waitAttached waits for every attach and names a node that failed.
func waitAttached(ctx context.Context, attaches []volumeAttach) error {
	err := parallel(attaches, func(a volumeAttach) error { return a.wait(ctx) })
	if pe := (*PhaseError)(nil); errors.As(err, &pe) {
		return pe
	}
	return err
}

func (p placement) runOnActive(ctx context.Context, n *Node) error {
	if p.onActive == nil {
		return nil
	}
	return p.onActive(ctx, n)
}

// provisionVolume creates a node's data volume.
func (m *Manager) provisionVolume(ctx context.Context, p placement, n *Node) error {
	v, err := m.cloud.CreateVolume(ctx, openstack.VolumeCreate{
		Name:             volumeName(p.c.Name, n.Index),
		SizeGiB:          p.spec.Volume.SizeGiB,
		VolumeType:       p.spec.Volume.Type,
		AvailabilityZone: n.AvailabilityZone,
		Description:      ownerDescription(p.c.ID),
		Metadata:         volumeMetadata(p.c, n),
	})
	if v.ID != "" {
		n.VolumeID = v.ID
	}
	return err
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
