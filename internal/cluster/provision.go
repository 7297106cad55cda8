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

	// onActive, if set, runs for each node once its server is ACTIVE,
	// beside the attach of its volume (a create verifies the host key
	// meanwhile); its error is the node's when the attach succeeded.
	onActive func(ctx context.Context, n *Node) error
}

// provisionNode gives one node its cloud objects: a port (unless it has
// one), then the server and its data volume side by side, and once the
// server is ACTIVE, the volume attached. Every id is recorded in n as soon
// as it exists, so a failure leaves a node Delete can clean up.
func (m *Manager) provisionNode(ctx context.Context, p placement, n *Node) error {
	if n.PortID == "" {
		if err := m.provisionPort(ctx, p, n); err != nil {
			return err
		}
	}
	t := time.Now()
	volCh := make(chan error, 1)
	if n.Kind == KindArbitrator { // garbd holds no data
		volCh <- nil
	} else {
		go m.provisionVolume(ctx, p, n, volCh)
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
		return err
	}
	n.ServerID = s.ID
	s, err = m.cloud.WaitServerActive(ctx, s.ID)
	if verr := <-volCh; verr != nil {
		return &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: verr}
	}
	if err != nil {
		return err
	}
	n.ServerStatus = s.Status
	n.Flavor, n.Image = s.FlavorName, s.ImageID
	if s.AvailabilityZone != "" {
		n.AvailabilityZone = s.AvailabilityZone
	}
	if n.Kind == KindArbitrator {
		m.progress(ctx, PhaseServers, n.Name, fmt.Sprintf("server %s ACTIVE at %s (arbitrator, no volume)", n.Name, n.IP), t)
		return p.runOnActive(ctx, n)
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	attached := make(chan error, 1)
	go func() {
		_, err := m.cloud.AttachVolume(actx, n.ServerID, n.VolumeID)
		if err != nil {
			cancel() // the node failed: stop what runs beside
		}
		attached <- err
	}()
	activeErr := p.runOnActive(actx, n)
	if err := <-attached; err != nil {
		return &PhaseError{Phase: PhaseVolumes, Node: n.Name, Err: err}
	}
	if activeErr != nil {
		return activeErr
	}
	m.progress(ctx, PhaseServers, n.Name, fmt.Sprintf("server %s ACTIVE at %s, volume attached", n.Name, n.IP), t)
	return nil
}

func (p placement) runOnActive(ctx context.Context, n *Node) error {
	if p.onActive == nil {
		return nil
	}
	return p.onActive(ctx, n)
}

// provisionVolume creates a node's data volume and reports on done.
func (m *Manager) provisionVolume(ctx context.Context, p placement, n *Node, done chan<- error) {
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
	done <- err
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
