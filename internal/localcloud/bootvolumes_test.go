package localcloud

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
)

// bootDevices is what gophercloud users send for a server with a data
// volume: the image as the root disk, then the volumes.
func bootDevices(vids ...string) []servers.BlockDevice {
	bd := []servers.BlockDevice{{SourceType: servers.SourceImage, DestinationType: servers.DestinationLocal,
		UUID: glance.TheImage().ID, BootIndex: 0, DeleteOnTermination: true}}
	for _, v := range vids {
		bd = append(bd, servers.BlockDevice{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
			UUID: v, BootIndex: -1})
	}
	return bd
}

// volumeFree checks that a volume is available with no attachment.
func (tc *testCloud) volumeFree(what, id string) {
	tc.t.Helper()
	v, err := volumes.Get(context.Background(), tc.volume, id).Extract()
	if err != nil {
		tc.t.Fatal(err)
	}
	if v.Status != "available" || len(v.Attachments) != 0 {
		tc.t.Errorf("%s: volume %s is %s with attachments %+v, want available without", what, id, v.Status, v.Attachments)
	}
}

// serverVolumes lists the volumes a server shows in
// os-extended-volumes:volumes_attached.
func (tc *testCloud) serverVolumes(id string) []string {
	tc.t.Helper()
	s, err := servers.Get(context.Background(), tc.compute, id).Extract()
	if err != nil {
		tc.t.Fatal(err)
	}
	var out []string
	for _, v := range s.AttachedVolumes {
		out = append(out, v.ID)
	}
	return out
}

// taskStates polls a building server and returns the task states it went
// through until it left BUILD; at block_device_mapping it reads the status
// of volume vid into atMapping.
func (tc *testCloud) taskStates(id, vid string, atMapping *string) []string {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var seen []string
	for {
		s, err := servers.Get(ctx, tc.compute, id).Extract()
		if err != nil {
			tc.t.Fatalf("get server %s: %v", id, err)
		}
		if s.Status != "BUILD" {
			return seen
		}
		if len(seen) == 0 || seen[len(seen)-1] != s.TaskState {
			seen = append(seen, s.TaskState)
			if s.TaskState == "block_device_mapping" && *atMapping == "" {
				v, err := volumes.Get(ctx, tc.volume, vid).Extract()
				if err != nil {
					tc.t.Fatal(err)
				}
				*atMapping = v.Status
			}
		}
		select {
		case <-ctx.Done():
			tc.t.Fatalf("server %s still building after %v", id, seen)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Volumes mapped at create (block_device_mapping_v2) are reserved by the
// create, attached during the build (task_state block_device_mapping) and
// in the host when the server turns ACTIVE; what the local cloud cannot
// map is refused with nothing reserved; a failed build gives its volumes
// back, a build the scheduler refused keeps them until the delete.
func TestBootVolumes(t *testing.T) {
	tc := startCloud(t, func(c *Config) { c.Hypervisors = 1 })
	ctx := context.Background()
	fx := tc.fixture(ctx)
	c264 := *tc.compute
	c264.Microversion = "2.64"
	grp, err := servergroups.Create(ctx, &c264, servergroups.CreateOpts{Name: "one-per-host", Policy: "anti-affinity"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var vids []string
	for _, n := range []string{"data-1", "data-2", "data-3"} {
		v, err := volumes.Create(ctx, tc.volume, volumes.CreateOpts{Size: 1, Name: n}, nil).Extract()
		if err != nil {
			t.Fatal(err)
		}
		vids = append(vids, v.ID)
	}
	for _, id := range vids {
		tc.waitVolume(id, "available")
	}
	v1, v2, v3 := vids[0], vids[1], vids[2]

	// Refused: nothing is created, the volume stays as it was.
	image := glance.TheImage().ID
	root := map[string]any{"source_type": "image", "destination_type": "local", "boot_index": 0, "uuid": image, "delete_on_termination": true}
	vol := func(id string, extra ...any) map[string]any {
		e := map[string]any{"source_type": "volume", "destination_type": "volume", "uuid": id, "boot_index": -1}
		for i := 0; i+1 < len(extra); i += 2 {
			e[extra[i].(string)] = extra[i+1]
		}
		return e
	}
	unknown := core.NewUUID()
	for _, c := range []struct {
		name     string
		imageRef string
		bdm      []any
		legacy   bool
		want     string // the whole message, or with a leading "~" a part of it
	}{
		{"unknown volume", image, []any{root, vol(unknown)}, false, "Block Device Mapping is Invalid: failed to get volume " + unknown + "."},
		{"same volume twice", image, []any{root, vol(v1), vol(v1)}, false, "~the local cloud attaches a volume once per server"},
		{"delete_on_termination", image, []any{root, vol(v1, "delete_on_termination", true)}, false, "~the local cloud keeps a server's volumes when it is deleted"},
		{"boot from volume", "", []any{vol(v1, "boot_index", 0)}, false, "~the local cloud boots servers from their image only"},
		{"image root without imageRef", "", []any{root, vol(v1)}, false, "Block Device Mapping is Invalid: Mapping image to local is not supported."},
		{"volume without the image root", image, []any{vol(v1)}, false, "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid."},
		{"root of another image", glance.UpdatedImage().ID, []any{root, vol(v1)}, false, "~the local cloud boots the imageRef's image"},
		{"device_name", image, []any{root, vol(v1, "device_name", "/dev/vdb")}, false, "~the local cloud does not take 'device_name'"},
		{"volume at boot_index 1", image, []any{root, vol(v1, "boot_index", 1)}, false, "~the local cloud maps only the imageRef's image"},
		{"unknown property", image, []any{root, vol(v1, "bogus", 1)}, false, "Invalid input for field/attribute block_device_mapping_v2. Additional properties are not allowed ('bogus' was unexpected)"},
		{"legacy block_device_mapping", image, []any{map[string]any{"volume_id": v1, "device_name": "vdb"}}, true, "~the local cloud takes block_device_mapping_v2"},
	} {
		srv := map[string]any{"name": "refused", "flavorRef": "1", "key_name": fx.keyName,
			"networks": []any{map[string]any{"uuid": tc.NetworkID()}}}
		if c.imageRef != "" {
			srv["imageRef"] = c.imageRef
		}
		if c.legacy {
			srv["block_device_mapping"] = c.bdm
		} else {
			srv["block_device_mapping_v2"] = c.bdm
		}
		code, _, b := tc.rawDo("POST", "/compute/v2.1/servers", map[string]any{"server": srv}, nil)
		msg, _ := obj(decode(t, b), "badRequest")["message"].(string)
		ok := msg == c.want
		if part, cut := strings.CutPrefix(c.want, "~"); cut {
			ok = strings.Contains(msg, part)
		}
		if code != 400 || !ok {
			t.Errorf("%s: %d %s, want 400 %q", c.name, code, b, c.want)
		}
		tc.volumeFree(c.name, v1)
	}
	if pages, err := servers.List(tc.compute, nil).AllPages(ctx); err != nil {
		t.Fatal(err)
	} else if ss, _ := servers.ExtractServers(pages); len(ss) != 0 {
		t.Fatalf("refused creates made %d servers", len(ss))
	}

	// The build maps the volume (slow steps, so each task state is seen).
	tc.admin("POST", "/delay", map[string]any{"step_ms": 300})
	s1 := tc.createBooting(ctx, fx, "db-bdm", grp.ID, v1)
	if v, _ := volumes.Get(ctx, tc.volume, v1).Extract(); v == nil || v.Status != "reserved" {
		t.Errorf("volume right after the create: %+v, want reserved", v)
	}
	if got := tc.serverVolumes(s1); !slices.Equal(got, []string{v1}) {
		t.Errorf("volumes of the building server: %v", got)
	}
	var atMapping string
	states := tc.taskStates(s1, v1, &atMapping)
	tc.admin("POST", "/delay", map[string]any{"step_ms": 0})
	if want := []string{"scheduling", "networking", "block_device_mapping", "spawning"}; !slices.Equal(states, want) {
		t.Errorf("task states %v, want %v", states, want)
	}
	if atMapping != "attaching" {
		t.Errorf("volume at block_device_mapping: %q, want attaching", atMapping)
	}
	s := tc.waitServer(s1, "ACTIVE")
	v, err := volumes.Get(ctx, tc.volume, v1).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "in-use" || len(v.Attachments) != 1 || v.Attachments[0].ServerID != s1 || v.Attachments[0].Device != "/dev/vdb" {
		t.Errorf("volume at ACTIVE: %s %+v, want in-use, attached to %s at /dev/vdb", v.Status, v.Attachments, s1)
	}
	if got := tc.serverVolumes(s1); !slices.Equal(got, []string{v1}) {
		t.Errorf("volumes_attached at ACTIVE: %v", got)
	}
	if atts := tc.attachments(ctx, s1); len(atts) != 1 || atts[0].VolumeID != v1 || atts[0].Device != "/dev/vdb" {
		t.Errorf("os-volume_attachments: %+v", atts)
	}
	byID := "/dev/disk/by-id/virtio-" + v1[:20]
	if out, err := sshRun(t, serverAddr(t, s), fx.signer, nil, "blockdev --getsize64 "+byID); err != nil || strings.TrimSpace(out) != strconv.Itoa(1<<30) {
		t.Errorf("the volume in the host at ACTIVE: %q %v, want 1 GiB at %s", out, err, byID)
	}

	// A volume in use by another server: refused, left as it is.
	code, _, b := tc.rawDo("POST", "/compute/v2.1/servers", map[string]any{"server": map[string]any{"name": "second",
		"flavorRef": "1", "imageRef": image, "networks": []any{map[string]any{"uuid": tc.NetworkID()}},
		"block_device_mapping_v2": []any{root, vol(v1)}}}, nil)
	if want := "Invalid volume: volume " + v1 + " status must be 'available'. Currently in 'in-use'"; code != 400 || obj(decode(t, b), "badRequest")["message"] != want {
		t.Errorf("volume in use: %d %s, want 400 %q", code, b, want)
	}
	if v, _ := volumes.Get(ctx, tc.volume, v1).Extract(); v == nil || v.Status != "in-use" || len(v.Attachments) != 1 {
		t.Errorf("volume in use after the refused create: %+v", v)
	}

	// No valid host (anti-affinity on one hypervisor, which s1 holds): as
	// Nova's conductor buries the instance in cell0, the volume stays
	// reserved and listed until the server is deleted.
	s3 := tc.createBooting(ctx, fx, "db-no-host", grp.ID, v2)
	if s := tc.waitServer(s3, "ERROR"); !strings.Contains(s.Fault.Message, "No valid host was found") {
		t.Errorf("fault of the server without a host: %+v", s.Fault)
	}
	if v, _ := volumes.Get(ctx, tc.volume, v2).Extract(); v == nil || v.Status != "reserved" || len(v.Attachments) != 0 {
		t.Errorf("volume of the server without a host: %+v, want reserved without attachments", v)
	}
	if got := tc.serverVolumes(s3); !slices.Equal(got, []string{v2}) {
		t.Errorf("volumes of the server without a host: %v", got)
	}
	tc.deleteServer(ctx, s3)
	tc.volumeFree("after the delete of the server without a host", v2)

	// A build that fails (injected): ERROR with the volume given back.
	tc.admin("POST", "/next-server-error", map[string]any{"count": 1})
	s4 := tc.createBooting(ctx, fx, "db-doomed", "", v2)
	tc.waitServer(s4, "ERROR")
	tc.volumeFree("after an injected build failure", v2)
	if got := tc.serverVolumes(s4); len(got) != 0 {
		t.Errorf("volumes of the failed server: %v, want none", got)
	}
	tc.deleteServer(ctx, s4)

	// A server deleted while it builds gives its volume back.
	s6 := tc.createBooting(ctx, fx, "db-gone", "", v2)
	tc.deleteServer(ctx, s6)
	tc.volumeFree("after a delete mid-build", v2)

	// A disk that cannot be attached fails the build once the host runs:
	// the disk attached before it leaves the host, both volumes are free.
	tc.admin("POST", "/delay", map[string]any{"step_ms": 300})
	s5 := tc.createBooting(ctx, fx, "db-no-disk", "", v2, v3)
	deadline := time.Now().Add(time.Minute)
	for {
		s, err := servers.Get(ctx, tc.compute, s5).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if s.TaskState == "block_device_mapping" {
			break
		}
		if s.Status != "BUILD" || time.Now().After(deadline) {
			t.Fatalf("server %s never mapped its block devices: %s %s", s5, s.Status, s.TaskState)
		}
		time.Sleep(25 * time.Millisecond)
	}
	tc.Mu.Lock()
	disk := tc.Disks[v3]
	delete(tc.Disks, v3)
	tc.Mu.Unlock()
	s = tc.waitServer(s5, "ERROR")
	tc.Mu.Lock()
	tc.Disks[v3] = disk
	h := tc.Hosts[s5]
	tc.Mu.Unlock()
	tc.admin("POST", "/delay", map[string]any{"step_ms": 0})
	if want := "Build of instance " + s5 + " aborted: Failure prepping block device."; s.Fault.Message != want {
		t.Errorf("fault of the failed attach: %+v, want %q", s.Fault, want)
	}
	tc.volumeFree("the volume attached before the failure", v2)
	tc.volumeFree("the volume that failed", v3)
	if got := tc.serverVolumes(s5); len(got) != 0 {
		t.Errorf("volumes of the server whose attach failed: %v, want none", got)
	}
	if h == nil {
		t.Errorf("the server whose attach failed has no host")
	} else if out, err := h.Console(ctx, "test -e /dev/disk/by-id/virtio-"+v2[:20]+" && echo present || echo absent"); err != nil || strings.TrimSpace(string(out)) != "absent" {
		t.Errorf("the first volume in the failed server's host: %q %v, want absent", out, err)
	}
	tc.deleteServer(ctx, s5)

	// Deleting the server gives its volume back.
	tc.deleteServer(ctx, s1)
	tc.volumeFree("after the delete of its server", v1)
	for _, id := range vids {
		if err := volumes.Delete(ctx, tc.volume, id, volumes.DeleteOpts{}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range vids {
		waitGone(t, "volume", func() error { _, err := volumes.Get(ctx, tc.volume, id).Extract(); return err })
	}
	if err := servergroups.Delete(ctx, tc.compute, grp.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}

// createBooting creates a server with data volumes mapped at boot, in a
// server group when group is set.
func (tc *testCloud) createBooting(ctx context.Context, fx fixture, name, group string, vids ...string) string {
	tc.t.Helper()
	var hints servers.SchedulerHintOptsBuilder
	if group != "" {
		hints = servers.SchedulerHintOpts{Group: group}
	}
	s, err := servers.Create(ctx, tc.compute, keypairs.CreateOptsExt{KeyName: fx.keyName, CreateOptsBuilder: servers.CreateOpts{
		Name: name, FlavorRef: "1", ImageRef: glance.TheImage().ID, Networks: []servers.Network{{UUID: tc.NetworkID()}},
		SecurityGroups: []string{fx.sgName}, BlockDevice: bootDevices(vids...)}}, hints).Extract()
	if err != nil {
		tc.t.Fatalf("create server %s: %v", name, err)
	}
	return s.ID
}

func (tc *testCloud) deleteServer(ctx context.Context, id string) {
	tc.t.Helper()
	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		tc.t.Fatal(err)
	}
	waitGone(tc.t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
}
