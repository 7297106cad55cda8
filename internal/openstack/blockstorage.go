package openstack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
)

// VolumeCreate is what a new volume needs.
type VolumeCreate struct {
	Name             string
	SizeGiB          int
	VolumeType       string
	AvailabilityZone string
	Description      string
	Metadata         map[string]string
}

// Volume is a Cinder volume as this project needs it.
type Volume struct {
	ID               string
	Name             string
	Status           string
	SizeGiB          int
	VolumeType       string
	AvailabilityZone string
	Metadata         map[string]string
	Attachments      []VolumeAttachment
}

// Volume statuses that mean the volume failed.
var volumeFailed = []string{"error", "error_deleting", "error_extending", "error_restoring", "error_managing"}

// CreateVolume creates a volume and waits until it is available.
func (c *Client) CreateVolume(ctx context.Context, in VolumeCreate) (Volume, error) {
	sc, err := c.BlockStorage(ctx)
	if err != nil {
		return Volume{}, err
	}
	v, err := volumes.Create(ctx, sc, volumes.CreateOpts{
		Name:             in.Name,
		Size:             in.SizeGiB,
		VolumeType:       in.VolumeType,
		AvailabilityZone: in.AvailabilityZone,
		Description:      in.Description,
		Metadata:         in.Metadata,
	}, nil).Extract()
	if err != nil {
		return Volume{}, fmt.Errorf("create volume %s: %w", in.Name, err)
	}
	out, err := c.waitVolume(ctx, c.createWait(Wait{What: "volume " + v.ID, Target: []string{"available"},
		Pending: []string{"creating", "downloading"}, Failed: volumeFailed}, createPoll), v.ID)
	if err != nil {
		return volumeOf(v), fmt.Errorf("create volume %s: %w", in.Name, err)
	}
	return out, nil
}

// GetVolume reads a volume; IsNotFound(err) when it does not exist.
func (c *Client) GetVolume(ctx context.Context, id string) (Volume, error) {
	sc, err := c.BlockStorage(ctx)
	if err != nil {
		return Volume{}, err
	}
	v, err := volumes.Get(ctx, sc, id).Extract()
	if err != nil {
		return Volume{}, fmt.Errorf("get volume %s: %w", id, err)
	}
	return volumeOf(v), nil
}

// ListVolumes lists volumes whose name starts with namePrefix and whose
// metadata contains every pair of match.
func (c *Client) ListVolumes(ctx context.Context, namePrefix string, match map[string]string) ([]Volume, error) {
	sc, err := c.BlockStorage(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := volumes.List(sc, volumes.ListOpts{Metadata: match}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list volumes %s*: %w", namePrefix, err)
	}
	all, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, fmt.Errorf("list volumes %s*: %w", namePrefix, err)
	}
	var out []Volume
	for i := range all {
		// Filter here too: not every Cinder honours the metadata filter.
		if strings.HasPrefix(all[i].Name, namePrefix) && metadataMatches(all[i].Metadata, match) {
			out = append(out, volumeOf(&all[i]))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// WaitVolume waits until the volume reaches one of target; pending lists the
// statuses that may come before (empty: any). error* statuses fail the wait.
func (c *Client) WaitVolume(ctx context.Context, id string, target, pending []string) (Volume, error) {
	return c.waitVolume(ctx, Wait{What: "volume " + id, Target: target, Pending: pending, Failed: volumeFailed}, id)
}

// waitVolume is WaitVolume for a wait described by w.
func (c *Client) waitVolume(ctx context.Context, w Wait, id string) (Volume, error) {
	var last Volume
	_, err := c.waitStatus(ctx, w,
		func(ctx context.Context) (Observation, error) {
			v, err := c.GetVolume(ctx, id)
			if err != nil {
				return Observation{}, err
			}
			last = v
			return Observation{Status: v.Status}, nil
		})
	return last, err
}

// ExtendVolume grows a volume (online when attached; microversion 3.42) and
// waits until it is back to available or in-use with the new size.
func (c *Client) ExtendVolume(ctx context.Context, id string, newSizeGiB int) error {
	sc, err := c.BlockStorage(ctx)
	if err != nil {
		return err
	}
	if err := volumes.ExtendSize(ctx, sc, id, volumes.ExtendSizeOpts{NewSize: newSizeGiB}).ExtractErr(); err != nil {
		return fmt.Errorf("extend volume %s to %d GiB: %w", id, newSizeGiB, err)
	}
	err = c.waitFor(ctx, fmt.Sprintf("volume %s to reach %d GiB", id, newSizeGiB), func(ctx context.Context) (bool, error) {
		v, err := c.GetVolume(ctx, id)
		if err != nil {
			return false, err
		}
		if matchStatus(volumeFailed, v.Status) {
			return false, &StatusError{What: "volume " + id, Status: v.Status, Target: []string{"available", "in-use"}}
		}
		return v.SizeGiB >= newSizeGiB && (v.Status == "available" || v.Status == "in-use"), nil
	})
	if err != nil {
		return fmt.Errorf("extend volume %s to %d GiB: %w", id, newSizeGiB, err)
	}
	return nil
}

// DeleteVolume deletes a volume and waits until it is gone. A missing volume
// counts as deleted.
func (c *Client) DeleteVolume(ctx context.Context, id string) error {
	sc, err := c.BlockStorage(ctx)
	if err != nil {
		return err
	}
	if err := volumes.Delete(ctx, sc, id, volumes.DeleteOpts{}).ExtractErr(); err != nil {
		if IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	_, err = c.waitStatus(ctx, Wait{What: "volume " + id, Target: []string{"deleted"}, GoneOK: true, Failed: []string{"error_deleting"}},
		func(ctx context.Context) (Observation, error) {
			return c.deletingVolumes.look(ctx, "volume", id, func(ctx context.Context) (map[string]string, error) {
				all, err := c.ListVolumes(ctx, "", nil)
				st := map[string]string{}
				for _, v := range all {
					st[v.ID] = v.Status
				}
				return st, err
			})
		})
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	return nil
}

func volumeOf(v *volumes.Volume) Volume {
	out := Volume{
		ID: v.ID, Name: v.Name, Status: v.Status, SizeGiB: v.Size, VolumeType: v.VolumeType,
		AvailabilityZone: v.AvailabilityZone, Metadata: v.Metadata,
	}
	for _, a := range v.Attachments {
		out.Attachments = append(out.Attachments, VolumeAttachment{ServerID: a.ServerID, VolumeID: v.ID, Device: a.Device})
	}
	return out
}
