package localcloud

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/tags"
)

// TestServerTags drives nova's server tags sub-API (2.26+) as gophercloud
// and terraform-provider-openstack call it.
func TestServerTags(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "tagged", nil)
	tc.waitServer(id, "ACTIVE")

	// Below 2.26 nova routes nothing there.
	if code, _, b := tc.rawDo("GET", "/compute/v2.1/servers/"+id+"/tags", nil, map[string]string{"OpenStack-API-Version": "compute 2.25"}); code != 404 {
		t.Errorf("tags at 2.25: %d %s, want 404", code, b)
	}

	c := *tc.compute
	c.Microversion = "2.26"
	if got, err := tags.List(ctx, &c, id).Extract(); err != nil || len(got) != 0 {
		t.Errorf("tags of a new server: %v, %v, want none", got, err)
	}
	got, err := tags.ReplaceAll(ctx, &c, id, tags.ReplaceAllOpts{Tags: []string{"galera", "db", "galera"}}).Extract()
	if err != nil || !slices.Equal(got, []string{"galera", "db"}) {
		t.Errorf("replace all: %v, %v, want [galera db]", got, err)
	}
	if has, err := tags.Check(ctx, &c, id, "db").Extract(); err != nil || !has {
		t.Errorf("check db: %v, %v", has, err)
	}
	if has, err := tags.Check(ctx, &c, id, "nope").Extract(); has || err != nil {
		t.Errorf("check a missing tag: %v, %v, want false", has, err)
	}
	if code, _, b := tc.rawDo("GET", "/compute/v2.1/servers/"+id+"/tags/nope", nil, map[string]string{"OpenStack-API-Version": "compute 2.26"}); code != 404 || obj(decode(t, b), "itemNotFound") == nil {
		t.Errorf("check a missing tag: %d %s, want nova's 404", code, b)
	}

	// PUT of one tag: 201 with its Location when new, 204 when present.
	code, hdr, b := tc.rawDo("PUT", "/compute/v2.1/servers/"+id+"/tags/primary", nil, map[string]string{"OpenStack-API-Version": "compute 2.26"})
	if code != 201 || !strings.HasSuffix(hdr.Get("Location"), "/compute/v2.1/servers/"+id+"/tags/primary") {
		t.Errorf("add tag: %d %q %s, want 201 with Location", code, hdr.Get("Location"), b)
	}
	if code, _, b := tc.rawDo("PUT", "/compute/v2.1/servers/"+id+"/tags/primary", nil, map[string]string{"OpenStack-API-Version": "compute 2.26"}); code != 204 {
		t.Errorf("add a present tag: %d %s, want 204", code, b)
	}
	if err := tags.Add(ctx, &c, id, "extra").ExtractErr(); err != nil {
		t.Errorf("add tag with gophercloud: %v", err)
	}
	if code, _, b := tc.rawDo("PUT", "/compute/v2.1/servers/"+id+"/tags/a,b", nil, map[string]string{"OpenStack-API-Version": "compute 2.26"}); code != 400 {
		t.Errorf("tag with a comma: %d %s, want 400", code, b)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = "t" + strings.Repeat("x", i)
	}
	if _, err := tags.ReplaceAll(ctx, &c, id, tags.ReplaceAllOpts{Tags: many}).Extract(); !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("51 tags: %v, want 400", err)
	}

	// The server shows its tags from 2.26 on, and the list filters see them.
	c.Microversion = "2.26"
	s, err := servers.Get(ctx, &c, id).Extract()
	if err != nil || s.Tags == nil || !slices.Equal(*s.Tags, []string{"galera", "db", "primary", "extra"}) {
		t.Errorf("server tags: %+v, %v", s.Tags, err)
	}
	pages, err := servers.List(&c, servers.ListOpts{Tags: "primary"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := servers.ExtractServers(pages); len(list) != 1 || list[0].ID != id {
		t.Errorf("list tags=primary: %+v", list)
	}

	if err := tags.Delete(ctx, &c, id, "db").ExtractErr(); err != nil {
		t.Errorf("delete tag: %v", err)
	}
	if err := tags.Delete(ctx, &c, id, "db").ExtractErr(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete a missing tag: %v, want 404", err)
	}
	if got, err := tags.List(ctx, &c, id).Extract(); err != nil || !slices.Equal(got, []string{"galera", "primary", "extra"}) {
		t.Errorf("tags after delete: %v, %v", got, err)
	}
	if err := tags.DeleteAll(ctx, &c, id).ExtractErr(); err != nil {
		t.Errorf("delete all: %v", err)
	}
	if got, err := tags.List(ctx, &c, id).Extract(); err != nil || len(got) != 0 {
		t.Errorf("tags after delete all: %v, %v", got, err)
	}
	if _, err := tags.List(ctx, &c, "00000000-0000-4000-8000-000000000000").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("tags of a missing server: %v, want 404", err)
	}

	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { return servers.Get(ctx, tc.compute, id).Err })
}
