package nova

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// A server create may map block devices with block_device_mapping_v2, as
// Trove, Terraform and gophercloud users do to have a data volume attached
// during the build. The local cloud takes two kinds of entries:
//
//	{"source_type": "image", "destination_type": "local", "boot_index": 0,
//	 "uuid": <the imageRef's image>}              the root disk, beside imageRef
//	{"source_type": "volume", "destination_type": "volume", "uuid": <volume>,
//	 "boot_index": -1 | null | absent, "delete_on_termination": false | absent}
//
// Nova's API checks the entries' format and boot sequence (the image root
// must be there: Nova adds none for block_device_mapping_v2), then gets each
// volume from Cinder and reserves it (an attachment); nova-compute attaches
// them in task_state block_device_mapping. Anything else a real Nova would
// take (boot from volume, new volumes from images, snapshots or blanks,
// ephemeral and swap disks, device names, tags, volume types, volumes
// deleted with the server) is answered 400 naming the local cloud's limit.

// bdmKeys are the properties nova's block_device_mapping_v2 schema knows;
// bdmTaken the ones the local cloud reads.
var (
	bdmKeys = []string{"source_type", "destination_type", "uuid", "boot_index", "delete_on_termination",
		"device_name", "volume_size", "guest_format", "disk_bus", "device_type", "no_device", "tag",
		"volume_type", "image_id", "volume_id", "snapshot_id", "virtual_name", "connection_info"}
	bdmTaken = []string{"source_type", "destination_type", "uuid", "boot_index", "delete_on_termination"}
	// bdmUUIDRE is the pattern of the schema's uuid property.
	bdmUUIDRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,255}$`)
)

// bdmLimit is the refusal of a mapping real Nova may take but the local
// cloud cannot.
func bdmLimit(format string, args ...any) *core.Error {
	return core.Errf(400, "Block Device Mapping is Invalid: the local cloud %s", fmt.Sprintf(format, args...))
}

const bdmTakes = "maps only the imageRef's image as the root disk " +
	"(source_type image, destination_type local, boot_index 0) and existing volumes as data disks " +
	"(source_type volume, destination_type volume, boot_index -1 or none, delete_on_termination false)."

// bootVolumes checks a create's block_device_mapping_v2 against img (the
// imageRef's image; zero when imageRef is empty) as nova's API does before
// it looks at Cinder, and returns the data volumes' ids in request order.
func bootVolumes(entries []map[string]json.RawMessage, img glance.Image) ([]string, *core.Error) {
	var vols []string
	roots := 0
	for _, e := range entries {
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !slices.Contains(bdmKeys, k) {
				return nil, core.Errf(400, "Invalid input for field/attribute block_device_mapping_v2. Additional properties are not allowed ('%s' was unexpected)", k)
			}
		}
		src, e1 := bdmEnum(e, "source_type", "volume", "image", "snapshot", "blank")
		dst, e2 := bdmEnum(e, "destination_type", "local", "volume")
		uuid, e3 := bdmUUID(e)
		boot, e4 := bdmBootIndex(e)
		dot, e5 := bdmBool(e, "delete_on_termination")
		if err := cmp.Or(e1, e2, e3, e4, e5); err != nil {
			return nil, err
		}
		// block_device.BlockDeviceDict.from_api
		if src != "blank" && uuid == "" {
			return nil, core.Errf(400, "Block Device Mapping is Invalid: Missing device UUID.")
		}
		if src == "image" && dst == "local" && (img.ID == "" || boot == nil || *boot != 0) {
			// Train took an empty imageRef here; Nova since the fix of bug
			// 2077980 takes the entry only beside an imageRef.
			return nil, core.Errf(400, "Block Device Mapping is Invalid: Mapping image to local is not supported.")
		}
		for _, k := range keys {
			if !slices.Contains(bdmTaken, k) {
				return nil, bdmLimit("does not take '%s' in block_device_mapping_v2: it %s", k, bdmTakes)
			}
		}
		switch {
		case src == "image" && dst == "local":
			if _, ok := glance.Find(uuid); !ok {
				return nil, core.Errf(400, "Block Device Mapping is Invalid: failed to get image %s.", uuid)
			}
			if uuid != img.ID {
				return nil, bdmLimit("boots the imageRef's image (%s); the boot_index 0 entry names image %s.", img.ID, uuid)
			}
			roots++
		case src == "volume" && dst == "volume" && boot != nil && *boot == 0:
			return nil, bdmLimit("boots servers from their image only, not from a volume (volume %s at boot_index 0).", uuid)
		case src == "volume" && dst == "volume" && (boot == nil || *boot < 0):
			if dot {
				return nil, bdmLimit("keeps a server's volumes when it is deleted: delete_on_termination must be false (volume %s).", uuid)
			}
			if slices.Contains(vols, uuid) {
				return nil, bdmLimit("attaches a volume once per server: volume %s is mapped more than once.", uuid)
			}
			vols = append(vols, uuid)
		default:
			return nil, bdmLimit("%s", bdmTakes)
		}
	}
	// compute API _validate_bdm: boot indexes 0, 1, ... and at least one.
	if roots != 1 {
		return nil, core.Errf(400, "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
	}
	return vols, nil
}

// checkBootVolumesLocked is the Cinder side of the API's check: each volume
// exists and is available. Callers hold c.Mu.
func (c *Service) checkBootVolumesLocked(vids []string) *core.Error {
	if len(vids) > 'z'-'b'+1 {
		return core.Errf(400, "No free disk device names for prefix 'vd'")
	}
	for _, vid := range vids {
		v, ok := c.St.Volumes[vid]
		if !ok {
			return core.Errf(400, "Block Device Mapping is Invalid: failed to get volume %s.", vid)
		}
		if v.Status != "available" {
			return core.Errf(400, "Invalid volume: volume %s status must be 'available'. Currently in '%s'", v.ID, v.Status)
		}
	}
	return nil
}

// reserveBootVolumesLocked reserves checked volumes for a new server (the
// attachments Nova's API creates in Cinder) at /dev/vdb, /dev/vdc...;
// callers hold c.Mu.
func (c *Service) reserveBootVolumesLocked(s *state.Server, vids []string) []state.ServerVolume {
	for _, vid := range vids {
		sv := state.ServerVolume{VolumeID: vid, Device: nextDevice(s)}
		s.Volumes = append(s.Volumes, sv)
		v := c.St.Volumes[vid]
		v.Status = "reserved"
		v.UpdatedAt = time.Now()
	}
	return slices.Clone(s.Volumes)
}

// bdmEnum reads an optional string property with a fixed set of values.
func bdmEnum(e map[string]json.RawMessage, key string, values ...string) (string, *core.Error) {
	raw, ok := e[key]
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || !slices.Contains(values, s) {
		return "", core.Errf(400, "Invalid input for field/attribute %s. Value: %s. %s is not one of ['%s']", key, raw, raw, strings.Join(values, "', '"))
	}
	return s, nil
}

func bdmUUID(e map[string]json.RawMessage) (string, *core.Error) {
	raw, ok := e["uuid"]
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || !bdmUUIDRE.MatchString(s) {
		return "", core.Errf(400, "Invalid input for field/attribute uuid. Value: %s. %s does not match '^[a-zA-Z0-9._-]*$'", raw, raw)
	}
	return s, nil
}

// bdmBootIndex reads boot_index: an integer, a string of one, or null
// (nil: none, as absent).
func bdmBootIndex(e map[string]json.RawMessage) (*int, *core.Error) {
	raw, ok := e["boot_index"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return &n, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.Atoi(s); err == nil {
			return &n, nil
		}
	}
	return nil, core.Errf(400, "Invalid input for field/attribute boot_index. Value: %s. %s does not match '^-?[0-9]+$'", raw, raw)
}

// bdmBool reads an optional boolean as nova's parameter_types.boolean does
// (true/false or one of its spellings as a string).
func bdmBool(e map[string]json.RawMessage, key string) (bool, *core.Error) {
	raw, ok := e[key]
	if !ok {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes":
			return true, nil
		case "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no":
			return false, nil
		}
	}
	return false, core.Errf(400, "Invalid input for field/attribute %s. Value: %s. %s is not valid under any of the given schemas", key, raw, raw)
}

// mapBlockDevices enters task_state block_device_mapping: the reserved
// volumes are attaching. False when the server is being deleted.
func (c *Service) mapBlockDevices(id string) bool {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s := c.setTaskLocked(id, "block_device_mapping")
	if s == nil {
		return false
	}
	for _, sv := range s.Volumes {
		if v, ok := c.St.Volumes[sv.VolumeID]; ok && v.Status == "reserved" {
			v.Status = "attaching"
			v.UpdatedAt = time.Now()
		}
	}
	c.Save()
	return true
}

// attachBootVolumes attaches a build's volumes to its running host as an
// attach does (doAttach): each disk appears in the host, then its volume
// is in-use with an attachment to the server.
func (c *Service) attachBootVolumes(ctx context.Context, id string, vols []state.ServerVolume) error {
	for _, sv := range vols {
		if err := c.plugDisk(ctx, id, sv.VolumeID); err != nil {
			return fmt.Errorf("volume %s: %w", sv.VolumeID, err)
		}
		c.Mu.Lock()
		c.attachedLocked(id, sv.VolumeID, sv.Device)
		c.Save()
		c.Mu.Unlock()
	}
	return nil
}

// failBuildLocked ends a build in ERROR with a fault, its volumes given
// back at the same moment, as nova-compute does with a failed build
// (_shutdown_instance, _cleanup_volumes): their attachments go, the
// volumes are available and the server lists none. Callers hold c.Mu.
func (c *Service) failBuildLocked(s *state.Server, msg, details string) {
	for _, sv := range slices.Clone(s.Volumes) {
		c.releaseVolumeLocked(s.ID, sv.VolumeID)
	}
	c.failServerLocked(s, 500, msg, details)
}

// abortBuild is failBuildLocked for a build past its networking: the boot
// volumes' disks first leave h (the server's host, when it has one).
// Nothing when the server is being deleted: its teardown frees them.
func (c *Service) abortBuild(ctx context.Context, id string, h *host.Host, msg, details string) {
	c.Mu.Lock()
	var vols []state.ServerVolume
	if s, ok := c.St.Servers[id]; ok && h != nil {
		vols = slices.Clone(s.Volumes)
	}
	c.Mu.Unlock()
	for _, sv := range vols {
		if err := h.DetachDisk(context.WithoutCancel(ctx), serialOf(sv.VolumeID)); err != nil {
			c.Log.Error("detach a failed build's volume", "server", id, "volume", sv.VolumeID, "err", err)
		}
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if s, ok := c.St.Servers[id]; ok && !s.Deleting {
		c.failBuildLocked(s, msg, details)
	}
}
