package localcloud

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// Deleting the port of a running server frees its address in Neutron (as
// on a real cloud), while the server's host still has it. A server booted
// on a new port that gets that address must still spawn: its host's
// interfaces must not collide with the first host's (they were named after
// the address, and the second build failed with "Failed to spawn the
// guest": "RTNETLINK answers: File exists").
func TestAddressOfDeletedPortIsReusable(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	p1, err := ports.Create(ctx, tc.network, ports.CreateOpts{NetworkID: tc.NetworkID(), SecurityGroups: &[]string{fx.sgID}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	s1 := tc.createServer(ctx, fx, "first", func(o *servers.CreateOpts) {
		o.Networks, o.SecurityGroups = []servers.Network{{Port: p1.ID}}, nil
	})
	tc.waitServer(s1, "ACTIVE")
	if err := ports.Delete(ctx, tc.network, p1.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	addr := p1.FixedIPs[0].IPAddress
	p2, err := ports.Create(ctx, tc.network, ports.CreateOpts{NetworkID: tc.NetworkID(), SecurityGroups: &[]string{fx.sgID},
		FixedIPs: []ports.IP{{IPAddress: addr}}}).Extract()
	if err != nil {
		t.Fatalf("a new port on the freed address %s: %v", addr, err)
	}
	s2 := tc.createServer(ctx, fx, "second", func(o *servers.CreateOpts) {
		o.Networks, o.SecurityGroups = []servers.Network{{Port: p2.ID}}, nil
	})
	got := tc.waitServer(s2, "ACTIVE")
	if a := serverAddr(t, got); a != addr {
		t.Errorf("second server has %s, want %s", a, addr)
	}
	for _, id := range []string{s1, s2} {
		if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ports.Delete(ctx, tc.network, p2.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}
