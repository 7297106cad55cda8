package cluster

import (
	"slices"
	"testing"
)

// countingCloud is the fake with a write count, as *openstack.Client has.
type countingCloud struct {
	*fakeCloud
	writes uint64
}

func (c *countingCloud) Writes() uint64 { return c.writes }

// A pool's plan reuses the inventory the cluster's refresh just listed,
// until this process writes to the cloud.
func TestReadSharedReusesARecentRead(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	cloud := &countingCloud{fakeCloud: r.cloud}
	m := newManager(cloud, r.guests, nil)
	if _, err := m.Read(ctx, c.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	before := len(r.log.all())
	got, err := newManager(cloud, r.guests, nil).ReadShared(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if calls := r.log.all()[before:]; len(calls) != 0 {
		t.Errorf("ReadShared right after Read listed again: %v", calls)
	}
	if len(got.Nodes) != 3 || got.Nodes[0].IP == "" || got.SecurityGroupID != c.SecurityGroupID {
		t.Errorf("shared read = %+v", got)
	}
	cloud.writes++ // something was changed since
	before = len(r.log.all())
	if _, err := m.ReadShared(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if calls := calledMethods(r.log.all()[before:]); !slices.Contains(calls, "ListServers") {
		t.Errorf("ReadShared after a write did not list the servers again: %v", calls)
	}
	// A cloud that does not count its writes is never shared.
	before = len(r.log.all())
	if _, err := r.m.ReadShared(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if calls := calledMethods(r.log.all()[before:]); !slices.Contains(calls, "ListServers") {
		t.Errorf("ReadShared on a cloud without a write count did not list: %v", calls)
	}
}
