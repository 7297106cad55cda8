package cluster

import (
	"context"
	"fmt"
	"time"
)

// GrowVolumes extends every node's data volume to spec.Volume.SizeGiB while
// attached (Cinder, microversion 3.42) and grows its filesystem online, one
// node at a time, so nothing restarts and a failure stops with the other
// nodes untouched. A node already at the size is skipped, so an apply
// interrupted part way finishes on the next. Shrinking is refused.
func (m *Manager) GrowVolumes(ctx context.Context, c *Cluster, spec Spec) error {
	want := spec.Volume.SizeGiB
	for _, n := range c.Nodes {
		if n.VolumeID == "" {
			return &PhaseError{Phase: PhaseVolumeGrow, Node: n.Name, Err: fmt.Errorf("the node has no data volume")}
		}
		if n.VolumeSizeGiB > want {
			return &PhaseError{Phase: PhaseVolumeGrow, Node: n.Name, Err: fmt.Errorf("volume is %d GiB; shrinking to %d GiB is not possible", n.VolumeSizeGiB, want)}
		}
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	for i := range c.Nodes {
		n := &c.Nodes[i]
		start := time.Now()
		if n.VolumeSizeGiB < want {
			if err := m.cloud.ExtendVolume(ctx, n.VolumeID, want); err != nil {
				return &PhaseError{Phase: PhaseVolumeGrow, Node: n.Name, Err: err}
			}
			n.VolumeSizeGiB = want
		}
		// Also after an interrupted apply: the volume may have grown
		// while its filesystem did not.
		size, err := gc.GrowFilesystem(ctx, n.Name, int64(want)<<30)
		if err != nil {
			pe := guestDayTwoError(PhaseVolumeGrow, err)
			pe.Node = n.Name
			return pe
		}
		m.log.Progress(ctx, Event{Phase: PhaseVolumeGrow, Node: n.Name, Duration: time.Since(start),
			Message: fmt.Sprintf("%s: volume %d GiB, filesystem %d MiB, grown online; %d of %d done", n.Name, want, size>>20, i+1, len(c.Nodes))})
	}
	return nil
}
