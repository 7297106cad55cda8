package localcloud

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
)

func (tc *testCloud) waitVolume(id, want string) *volumes.Volume {
	tc.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v, err := volumes.Get(context.Background(), tc.volume, id).Extract()
		if err != nil {
			tc.t.Fatalf("get volume %s: %v", id, err)
		}
		if v.Status == want {
			return v
		}
		if strings.HasPrefix(v.Status, "error") {
			tc.t.Fatalf("volume %s went %s", id, v.Status)
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("volume %s still %s, want %s", id, v.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestVolumeAttachExtend(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	sid := tc.createServer(ctx, fx, "db-vol", nil)

	v, err := volumes.Create(ctx, tc.volume, volumes.CreateOpts{Size: 1, Name: "data", Metadata: map[string]string{"cluster": "a", "role": "data"}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "creating" {
		t.Errorf("status on create = %s, want creating", v.Status)
	}
	tc.waitVolume(v.ID, "available")
	for _, c := range []struct {
		md   map[string]string
		want int
	}{{map[string]string{"cluster": "a"}, 1}, {map[string]string{"cluster": "a", "role": "data"}, 1}, {map[string]string{"cluster": "b"}, 0}} {
		pages, err := volumes.List(tc.volume, volumes.ListOpts{Metadata: c.md}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if vs, _ := volumes.ExtractVolumes(pages); len(vs) != c.want {
			t.Errorf("volumes with metadata %v: %d, want %d", c.md, len(vs), c.want)
		}
	}
	s := tc.waitServer(sid, "ACTIVE")
	addr := serverAddr(t, s)

	// Bad inputs: zero size, extend to a smaller size.
	_, err = volumes.Create(ctx, tc.volume, volumes.CreateOpts{Size: 0}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("create size 0: %v, want 400", err)
	}

	att, err := volumeattach.Create(ctx, tc.compute, sid, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if att.Device != "/dev/vdb" {
		t.Errorf("device = %s, want /dev/vdb", att.Device)
	}
	tc.waitVolume(v.ID, "in-use")
	byID := "/dev/disk/by-id/virtio-" + v.ID[:20]
	out, err := sshRun(t, addr, fx.signer, nil, "blockdev --getsize64 "+byID)
	if err != nil {
		t.Fatalf("attached volume not visible in the host as %s: %v %s", byID, err, out)
	}
	if strings.TrimSpace(out) != strconv.Itoa(1<<30) {
		t.Errorf("size in the host = %s, want 1 GiB", out)
	}

	// Delete while in-use: 400 (as cinder).
	err = volumes.Delete(ctx, tc.volume, v.ID, volumes.DeleteOpts{}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("delete in-use: %v, want 400", err)
	}
	// Extend in-use below 3.42: 400; from 3.42 it grows online.
	err = volumes.ExtendSize(ctx, tc.volume, v.ID, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("extend in-use at 3.0: %v, want 400", err)
	}
	v342 := *tc.volume
	v342.Microversion = "3.42"
	err = volumes.ExtendSize(ctx, &v342, v.ID, volumes.ExtendSizeOpts{NewSize: 1}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("extend to the same size: %v, want 400", err)
	}
	if err := volumes.ExtendSize(ctx, &v342, v.ID, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got := tc.waitVolume(v.ID, "in-use")
	if got.Size != 2 {
		t.Errorf("size after extend = %d", got.Size)
	}
	out, err = sshRun(t, addr, fx.signer, nil, "blockdev --getsize64 "+byID)
	if err != nil || strings.TrimSpace(out) != strconv.Itoa(2<<30) {
		t.Errorf("size in the host after extend = %q, %v; want 2 GiB", out, err)
	}

	// Detach: detaching -> available, gone from the host.
	if err := volumeattach.Delete(ctx, tc.compute, sid, v.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitVolume(v.ID, "available")
	if out, err := sshRun(t, addr, fx.signer, nil, "test -e "+byID+" && echo present || echo absent"); err != nil || strings.TrimSpace(out) != "absent" {
		t.Errorf("after detach: %q, %v", out, err)
	}
	err = volumeattach.Delete(ctx, tc.compute, sid, v.ID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("detach twice: %v, want 404", err)
	}

	// Attach again, then delete the server: the volume comes back available.
	if _, err := volumeattach.Create(ctx, tc.compute, sid, volumeattach.CreateOpts{VolumeID: v.ID}).Extract(); err != nil {
		t.Fatal(err)
	}
	tc.waitVolume(v.ID, "in-use")
	if err := servers.Delete(ctx, tc.compute, sid).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, sid).Extract(); return err })
	tc.waitVolume(v.ID, "available")
	if err := volumes.Delete(ctx, tc.volume, v.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "volume", func() error { _, err := volumes.Get(ctx, tc.volume, v.ID).Extract(); return err })
}
