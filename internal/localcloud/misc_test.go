package localcloud

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/neutron"
)

// TestMiscCalls covers the remaining calls: server update, metadata items,
// addresses, interfaces, list filters, revertResize, HARD reboot from
// SHUTOFF; volume update and types; token validate/revoke; application
// credential list/get; image get.
func TestMiscCalls(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "misc", func(o *servers.CreateOpts) { o.Metadata = map[string]string{"a": "1"} })
	s := tc.waitServer(id, "ACTIVE")
	addr := serverAddr(t, s)

	if _, err := servers.Update(ctx, tc.compute, id, servers.UpdateOpts{Name: "misc-renamed"}).Extract(); err != nil {
		t.Fatal(err)
	}
	pages, err := servers.List(tc.compute, servers.ListOpts{Name: "^misc-ren"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := servers.ExtractServers(pages); len(all) != 1 || all[0].Name != "misc-renamed" {
		t.Errorf("list by name regex: %+v", all)
	}
	pages, _ = servers.List(tc.compute, servers.ListOpts{Name: "^nothing"}).AllPages(ctx)
	if all, _ := servers.ExtractServers(pages); len(all) != 0 {
		t.Errorf("list by a name that matches nothing: %d", len(all))
	}

	md, err := servers.UpdateMetadata(ctx, tc.compute, id, servers.MetadataOpts{"b": "2"}).Extract()
	if err != nil || md["a"] != "1" || md["b"] != "2" {
		t.Errorf("update (merge) metadata: %v %v", md, err)
	}
	if _, err := servers.CreateMetadatum(ctx, tc.compute, id, servers.MetadatumOpts{"c": "3"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if m, err := servers.Metadatum(ctx, tc.compute, id, "c").Extract(); err != nil || m["c"] != "3" {
		t.Errorf("metadata item: %v %v", m, err)
	}
	if err := servers.DeleteMetadatum(ctx, tc.compute, id, "c").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := servers.Metadatum(ctx, tc.compute, id, "c").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("deleted metadata item: %v, want 404", err)
	}
	md, err = servers.ResetMetadata(ctx, tc.compute, id, servers.MetadataOpts{"only": "this"}).Extract()
	if err != nil || len(md) != 1 || md["only"] != "this" {
		t.Errorf("reset metadata: %v %v", md, err)
	}

	apages, err := servers.ListAddresses(tc.compute, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if addrs, _ := servers.ExtractAddresses(apages); len(addrs[neutron.NetworkName]) != 1 || addrs[neutron.NetworkName][0].Address != addr {
		t.Errorf("addresses: %+v", addrs)
	}
	ipages, err := attachinterfaces.List(tc.compute, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ifs, _ := attachinterfaces.ExtractInterfaces(ipages); len(ifs) != 1 || ifs[0].NetID != tc.NetworkID() {
		t.Errorf("interfaces: %+v", ifs)
	}

	// Resize then revert: the old flavor comes back.
	if err := servers.Resize(ctx, tc.compute, id, servers.ResizeOpts{FlavorRef: "3"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "VERIFY_RESIZE")
	if err := servers.RevertResize(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if s := tc.waitServer(id, "ACTIVE"); s.Flavor["original_name"] != "m1.small" && s.Flavor["id"] != "2" {
		t.Errorf("flavor after revert: %v", s.Flavor)
	}
	err = servers.Resize(ctx, tc.compute, id, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("resize to the same flavor: %v, want 400", err)
	}
	// HARD reboot brings a SHUTOFF server back; SOFT is refused there.
	if err := servers.Stop(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "SHUTOFF")
	err = servers.Reboot(ctx, tc.compute, id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("SOFT reboot of SHUTOFF: %v, want 409", err)
	}
	if err := servers.Reboot(ctx, tc.compute, id, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "ACTIVE")
	if _, err := sshRun(t, addr, fx.signer, nil, "true"); err != nil {
		t.Errorf("ssh after HARD reboot from SHUTOFF: %v", err)
	}

	// Volumes: update, types.
	v, err := volumes.Create(ctx, tc.volume, volumes.CreateOpts{Size: 1, Name: "before"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	tc.waitVolume(v.ID, "available")
	name := "after"
	if got, err := volumes.Update(ctx, tc.volume, v.ID, volumes.UpdateOpts{Name: &name}).Extract(); err != nil || got.Name != "after" {
		t.Errorf("volume update: %v %v", got, err)
	}
	tpages, err := volumetypes.List(tc.volume, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := volumetypes.ExtractVolumeTypes(tpages); len(ts) != 1 || ts[0].Name != "__DEFAULT__" {
		t.Errorf("volume types: %+v", ts)
	}
	if err := volumes.Delete(ctx, tc.volume, v.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil {
		t.Fatal(err)
	}

	// Keystone: validate and revoke a token; application credential list/get.
	idc := mustIdentity(t, tc)
	other := tc.authenticate(ctx)
	if ok, err := tokens.Validate(ctx, idc, other.Token()); err != nil || !ok {
		t.Errorf("validate a live token: %v %v", ok, err)
	}
	if err := tokens.Revoke(ctx, idc, other.Token()).Err; err != nil {
		t.Fatal(err)
	}
	if ok, _ := tokens.Validate(ctx, idc, other.Token()); ok {
		t.Errorf("a revoked token still validates")
	}
	user, _ := tokens.Get(ctx, idc, tc.provider.Token()).ExtractUser()
	ac, err := applicationcredentials.Create(ctx, idc, user.ID, applicationcredentials.CreateOpts{Name: "listed"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	acPages, err := applicationcredentials.List(idc, user.ID, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if acs, _ := applicationcredentials.ExtractApplicationCredentials(acPages); len(acs) != 1 || acs[0].ID != ac.ID {
		t.Errorf("application credentials: %+v", acs)
	}
	if got, err := applicationcredentials.Get(ctx, idc, user.ID, ac.ID).Extract(); err != nil || got.Secret != "" {
		t.Errorf("get application credential: %+v %v (the secret is shown only on create)", got, err)
	}
	if err := applicationcredentials.Delete(ctx, idc, user.ID, ac.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := applicationcredentials.Get(ctx, idc, user.ID, ac.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("deleted application credential: %v, want 404", err)
	}

	if img, err := images.Get(ctx, tc.image, glance.TheImage().ID).Extract(); err != nil || img.Name != glance.TheImage().Name {
		t.Errorf("image get: %v %v", img, err)
	}
	if _, err := images.Get(ctx, tc.image, core.NewUUID()).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("missing image: %v, want 404", err)
	}
	// Glance's 404 is webob's JSON body.
	missing := core.NewUUID()
	code, hdr, b := tc.rawDo("GET", "/image/v2/images/"+missing, nil, nil)
	var gerr struct{ Message, Code, Title string }
	if err := json.Unmarshal(b, &gerr); code != 404 || err != nil || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") ||
		gerr.Code != "404 Not Found" || gerr.Title != "Not Found" || !strings.HasPrefix(gerr.Message, "No image found with ID "+missing) {
		t.Errorf("missing image: %d %s %s, want Glance's JSON 404", code, hdr.Get("Content-Type"), b)
	}

	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
}
