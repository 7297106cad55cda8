package localcloud

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
)

// consoleHostKey is the host key of the console's bare keys block and the
// fingerprint of its fingerprint block (they must agree).
func (tc *testCloud) consoleHostKey(ctx context.Context, id string) (ssh.PublicKey, string) {
	tc.t.Helper()
	// cloud-init prints the blocks in its final stage, which a systemd
	// guest reaches a little after sshd answers (and the server is ACTIVE).
	var out, fp, rest string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		var err error
		out, err = servers.ShowConsoleOutput(ctx, tc.compute, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err != nil {
			tc.t.Fatal(err)
		}
		var ok, found bool
		fp, ok = hostKeyFromConsole(out)
		_, rest, found = strings.Cut(out, "-----BEGIN SSH HOST KEY KEYS-----\n")
		if ok && found && strings.Contains(rest, "-----END SSH HOST KEY KEYS-----") {
			break
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("no fingerprint and keys blocks on the console of %s:\n%s", id, out)
		}
	}
	line, _, _ := strings.Cut(rest, "\n")
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		tc.t.Fatalf("keys block %q: %v", line, err)
	}
	if ssh.FingerprintSHA256(key) != fp {
		tc.t.Fatalf("console: key %s and fingerprint %s disagree", ssh.FingerprintSHA256(key), fp)
	}
	return key, fp
}

// rebuildSample reads one of nova's rebuild samples (testdata/nova-rebuild,
// copied from openstack/nova doc/api_samples/servers; see SOURCES.md there).
func rebuildSample(t *testing.T, dir, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "nova-rebuild", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// sameKeys reports the keys one object has and the other has not.
func sameKeys(t *testing.T, what string, sample, ours map[string]any) {
	t.Helper()
	for k := range sample {
		if _, ok := ours[k]; !ok {
			t.Errorf("%s: key %q of the sample is missing from our answer", what, k)
		}
	}
	for k := range ours {
		if _, ok := sample[k]; !ok {
			t.Errorf("%s: our answer has key %q, which the sample (nova's answer at this version) has not", what, k)
		}
	}
}

func firstAddress(t *testing.T, server map[string]any) map[string]any {
	t.Helper()
	for _, list := range obj(server, "addresses") {
		if l, ok := list.([]any); ok && len(l) > 0 {
			return l[0].(map[string]any)
		}
	}
	t.Fatalf("no address in %v", server["addresses"])
	return nil
}

// A rebuild answers 202 with the server in REBUILD, shaped as nova's
// samples at each microversion, and gives the server a fresh root disk
// and new host key while its address, port and volume stay; a stopped
// server stays stopped; a failed rebuild ends in ERROR and a rebuild
// from ERROR recovers it.
func TestRebuild(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "db-rb", nil)
	vol, err := volumes.Create(ctx, tc.volume, volumes.CreateOpts{Size: 1, Name: "data"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	tc.waitVolume(vol.ID, "available")
	s := tc.waitServer(id, "ACTIVE")
	addr := serverAddr(t, s)
	if _, err := volumeattach.Create(ctx, tc.compute, id, volumeattach.CreateOpts{VolumeID: vol.ID}).Extract(); err != nil {
		t.Fatal(err)
	}
	tc.waitVolume(vol.ID, "in-use")
	oldKey, oldFP := tc.consoleHostKey(ctx, id)
	byID := "/dev/disk/by-id/virtio-" + vol.ID[:20]
	if out, err := sshRun(t, addr, fx.signer, oldKey, "echo guest > /root/marker && echo x > /etc/mysql/marker && "+
		"echo '/dev/nothing /mnt auto defaults,nofail 0 0' >> /etc/fstab && printf volume-data | dd of="+byID+" conv=fsync status=none"); err != nil {
		t.Fatalf("write markers: %v %s", err, out)
	}
	portsBefore := tc.serverPorts(id)

	// Each microversion's sample request, answered in the shape of its sample.
	images := []string{glance.UpdatedImage().ID, glance.TheImage().ID}
	for i, c := range []struct{ dir, mv string }{{"", "2.1"}, {"v2.47", "2.47"}, {"v2.57", "2.57"}, {"v2.73", "2.73"}, {"v2.75", "2.75"}} {
		req := rebuildSample(t, c.dir, "server-action-rebuild.json")
		r := obj(req, "rebuild")
		image := images[i%2] // ends on the updated image
		r["imageRef"] = image
		if _, ok := r["key_name"]; ok {
			r["key_name"] = fx.keyName
		}
		code, hdr, b := tc.rawDo("POST", "/compute/v2.1/servers/"+id+"/action", req, map[string]string{"OpenStack-API-Version": "compute " + c.mv})
		if code != 202 {
			t.Fatalf("rebuild at %s: %d %s", c.mv, code, b)
		}
		if loc := hdr.Get("Location"); !strings.HasSuffix(loc, "/compute/v2.1/servers/"+id) {
			t.Errorf("rebuild at %s: Location %q", c.mv, loc)
		}
		got := obj(decode(t, b), "server")
		want := obj(rebuildSample(t, c.dir, "server-action-rebuild-resp.json"), "server")
		sameKeys(t, "rebuild answer at "+c.mv, want, got)
		sameKeys(t, "address at "+c.mv, firstAddress(t, want), firstAddress(t, got))
		sameKeys(t, "flavor at "+c.mv, obj(want, "flavor"), obj(got, "flavor"))
		if got["adminPass"] != "seekr3t" || got["status"] != "REBUILD" || got["name"] != "foobar" || obj(got, "image")["id"] != image {
			t.Errorf("rebuild answer at %s: adminPass %v, status %v, name %v, image %v", c.mv, got["adminPass"], got["status"], got["name"], got["image"])
		}
		if i == 0 {
			code, _, b := tc.rawDo("POST", "/compute/v2.1/servers/"+id+"/action", req, nil)
			if code != 409 || !strings.Contains(string(b), "task_state rebuilding") || obj(decode(t, b), "conflictingRequest") == nil {
				t.Errorf("a rebuild while rebuilding: %d %s, want 409 conflictingRequest", code, b)
			}
		}
		tc.waitServer(id, "ACTIVE")
	}

	s, err = servers.Get(ctx, tc.compute, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s.Image["id"] != glance.UpdatedImage().ID || s.Name != "foobar" || !maps.Equal(s.Metadata, map[string]string{"meta_var": "meta_val"}) {
		t.Errorf("after the rebuilds: image %v, name %s, metadata %v", s.Image, s.Name, s.Metadata)
	}
	if got := serverAddr(t, s); got != addr {
		t.Errorf("address after rebuild = %s, want %s", got, addr)
	}
	if got := tc.serverPorts(id); !slices.Equal(got, portsBefore) {
		t.Errorf("ports after rebuild = %v, want %v", got, portsBefore)
	}
	if n := tc.boots(ctx, id); n != 1 {
		t.Errorf("%d boots on the console after a rebuild, want 1 (the console starts over)", n)
	}
	newKey, newFP := tc.consoleHostKey(ctx, id)
	if newFP == oldFP {
		t.Errorf("the host key fingerprint did not change: %s", newFP)
	}
	if _, err := sshRun(t, addr, fx.signer, oldKey, "true"); err == nil {
		t.Error("sshd still presents the host key from before the rebuild")
	}
	out, err := sshRun(t, addr, fx.signer, newKey, "test -e /root/marker && echo root-kept; test -e /etc/mysql/marker && echo etc-kept; "+
		"grep -c /dev/nothing /etc/fstab; dd if="+byID+" bs=11 count=1 status=none; echo")
	if err != nil {
		t.Fatalf("ssh with the console's new host key: %v %s", err, out)
	}
	if want := "0\nvolume-data\n"; out != want {
		t.Errorf("guest after rebuild: %q, want %q (root disk fresh, volume kept)", out, want)
	}
	atts := tc.attachments(ctx, id)
	if len(atts) != 1 || atts[0].VolumeID != vol.ID || atts[0].Device != "/dev/vdb" {
		t.Errorf("attachments after rebuild: %+v", atts)
	}
	tc.waitVolume(vol.ID, "in-use")

	// Refused requests.
	for _, c := range []struct {
		mv   string
		body map[string]any
		code int
		msg  string
	}{
		{"2.1", map[string]any{"imageRef": "0b7c5a3e-2f4d-4c1b-9e8a-6d5f4c3b2a10"}, 400, "Cannot find image for rebuild"},
		{"2.1", map[string]any{"imageRef": "debian-12-mariadb-galera"}, 400, "is not a 'uuid'"},
		{"2.1", map[string]any{"name": "x"}, 400, "'imageRef' is a required property"},
		{"2.1", map[string]any{"imageRef": glance.TheImage().ID, "key_name": fx.keyName}, 400, "('key_name' was unexpected)"},
		{"2.57", map[string]any{"imageRef": glance.TheImage().ID, "personality": []any{}}, 400, "('personality' was unexpected)"},
		{"2.54", map[string]any{"imageRef": glance.TheImage().ID, "key_name": "no-such-key"}, 400, "Invalid key_name provided."},
		{"2.57", map[string]any{"imageRef": glance.TheImage().ID, "user_data": "not base64!"}, 400, "is not a 'base64'"},
	} {
		code, _, b := tc.rawDo("POST", "/compute/v2.1/servers/"+id+"/action", map[string]any{"rebuild": c.body},
			map[string]string{"OpenStack-API-Version": "compute " + c.mv})
		if code != c.code || !strings.Contains(string(b), c.msg) || obj(decode(t, b), "badRequest") == nil {
			t.Errorf("rebuild %v at %s: %d %s, want %d badRequest %q", c.body, c.mv, code, b, c.code, c.msg)
		}
	}
	if code, _, b := tc.rawDo("POST", "/compute/v2.1/servers/00000000-0000-4000-8000-000000000000/action",
		map[string]any{"rebuild": map[string]any{"imageRef": glance.TheImage().ID}}, nil); code != 404 {
		t.Errorf("rebuild of an unknown server: %d %s", code, b)
	}
	if s := tc.waitServer(id, "ACTIVE"); s.Image["id"] != glance.UpdatedImage().ID {
		t.Errorf("a refused rebuild changed the image to %v", s.Image)
	}

	// A rebuild that fails ends in ERROR; a rebuild from ERROR recovers.
	tc.admin("POST", "/servers/"+id+"/fail-rebuild", map[string]any{"message": "Rebuild failed (test)"})
	rs, err := servers.Rebuild(ctx, tc.compute, id, servers.RebuildOpts{ImageRef: glance.TheImage().ID}).Extract()
	if err != nil {
		t.Fatalf("rebuild through gophercloud: %v", err)
	}
	if rs.AdminPass == "" || rs.Status != "REBUILD" {
		t.Errorf("rebuild answer: adminPass %q (nova generates one), status %s", rs.AdminPass, rs.Status)
	}
	s = tc.waitServer(id, "ERROR")
	if s.Fault.Message != "Rebuild failed (test)" || s.Image["id"] != glance.TheImage().ID {
		t.Errorf("failed rebuild: fault %+v, image %v (nova keeps the new image)", s.Fault, s.Image)
	}
	if atts := tc.attachments(ctx, id); len(atts) != 1 {
		t.Errorf("attachments after a failed rebuild: %+v", atts)
	}
	if _, err := servers.Rebuild(ctx, tc.compute, id, servers.RebuildOpts{ImageRef: glance.TheImage().ID}).Extract(); err != nil {
		t.Fatalf("rebuild from ERROR: %v", err)
	}
	tc.waitServer(id, "ACTIVE")
	key, _ := tc.consoleHostKey(ctx, id)
	if out, err := sshRun(t, addr, fx.signer, key, "dd if="+byID+" bs=11 count=1 status=none"); err != nil || out != "volume-data" {
		t.Errorf("after the recovering rebuild: %q, %v", out, err)
	}

	// A stopped server is rebuilt (one boot, a new key) and stopped again.
	if err := servers.Stop(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "SHUTOFF")
	if _, err := servers.Rebuild(ctx, tc.compute, id, servers.RebuildOpts{ImageRef: glance.UpdatedImage().ID}).Extract(); err != nil {
		t.Fatal(err)
	}
	s = tc.waitServer(id, "SHUTOFF")
	if s.PowerState != servers.SHUTDOWN || s.Image["id"] != glance.UpdatedImage().ID {
		t.Errorf("stopped server after rebuild: power %v, image %v", s.PowerState, s.Image)
	}
	if n := tc.boots(ctx, id); n != 1 {
		t.Errorf("a stopped server's rebuild: %d boots, want 1", n)
	}
	// Nova powers the rebuilt server off right after it spawned, so a
	// systemd guest may stop before cloud-init printed its keys: the new
	// key shows in that the old one is refused once it runs again.
	if err := servers.Start(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "ACTIVE")
	if out, err := sshRun(t, addr, fx.signer, key, "true"); err == nil || !strings.Contains(err.Error(), "host key") {
		t.Errorf("a stopped server's rebuild kept its host key: ssh with the old key: %v %s", err, out)
	}

	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
	tc.waitVolume(vol.ID, "available")
	if err := volumes.Delete(ctx, tc.volume, vol.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "volume", func() error { _, err := volumes.Get(ctx, tc.volume, vol.ID).Extract(); return err })
}

// serverPorts lists the server's port ids (os-interface).
func (tc *testCloud) serverPorts(id string) []string {
	tc.t.Helper()
	code, _, b := tc.rawDo("GET", "/compute/v2.1/servers/"+id+"/os-interface", nil, nil)
	if code != 200 {
		tc.t.Fatalf("os-interface: %d %s", code, b)
	}
	var body struct {
		Attachments []struct {
			PortID string `json:"port_id"`
		} `json:"interfaceAttachments"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		tc.t.Fatal(err)
	}
	var ids []string
	for _, a := range body.Attachments {
		ids = append(ids, a.PortID)
	}
	return ids
}

func (tc *testCloud) attachments(ctx context.Context, id string) []volumeattach.VolumeAttachment {
	tc.t.Helper()
	pages, err := volumeattach.List(tc.compute, id).AllPages(ctx)
	if err != nil {
		tc.t.Fatal(err)
	}
	atts, err := volumeattach.ExtractVolumeAttachments(pages)
	if err != nil {
		tc.t.Fatal(err)
	}
	return atts
}
