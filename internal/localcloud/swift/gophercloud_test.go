package swift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/accounts"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// client is a gophercloud object-storage client for account A, set up the
// way openstack.NewObjectStorageV1 does (the catalog URL with a slash).
func (e *env) client() *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	pc.SetToken(tokenA)
	base := e.url("/")
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base, ResourceBase: base}
}

func TestGophercloudObjectStorage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()

	if _, err := containers.Create(ctx, c, "backups", containers.CreateOpts{Metadata: map[string]string{"Purpose": "db"}}).Extract(); err != nil {
		t.Fatalf("create container: %v", err)
	}
	if _, err := containers.Create(ctx, c, "other", nil).Extract(); err != nil {
		t.Fatalf("create container: %v", err)
	}
	cmeta, err := containers.Get(ctx, c, "backups", nil).ExtractMetadata()
	if err != nil || cmeta["Purpose"] != "db" {
		t.Fatalf("container metadata %v (%v)", cmeta, err)
	}

	// 25 objects, listed in pages of 10 (gophercloud pages by marker).
	for i := range 25 {
		body := fmt.Sprintf("object number %d", i)
		_, err := objects.Create(ctx, c, "backups", fmt.Sprintf("day/%02d", i), objects.CreateOpts{
			Content: strings.NewReader(body), Metadata: map[string]string{"Index": fmt.Sprint(i)},
		}).Extract()
		if err != nil {
			t.Fatalf("create object %d: %v", i, err)
		}
	}
	var names []string
	pages := 0
	err = objects.List(c, "backups", objects.ListOpts{Limit: 10, Prefix: "day/"}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		pages++
		list, err := objects.ExtractInfo(p)
		for _, o := range list {
			names = append(names, o.Name)
			if o.Bytes == 0 || o.Hash == "" || o.LastModified.IsZero() {
				t.Errorf("listing entry %+v", o)
			}
		}
		return true, err
	})
	if err != nil || len(names) != 25 || names[0] != "day/00" || names[24] != "day/24" || pages < 3 {
		t.Fatalf("listed %d names in %d pages: %v (%v)", len(names), pages, names, err)
	}
	allContainers, err := containers.List(c, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := containers.ExtractInfo(allContainers)
	if err != nil || len(cs) != 2 || cs[0].Name != "backups" || cs[0].Count != 25 {
		t.Fatalf("containers %+v (%v)", cs, err)
	}

	dl := objects.Download(ctx, c, "backups", "day/07", objects.DownloadOpts{Range: "bytes=7-12"})
	data, err := dl.ExtractContent()
	if err != nil || string(data) != "number" {
		t.Fatalf("ranged download %q (%v)", data, err)
	}
	ometa, err := objects.Get(ctx, c, "backups", "day/07", nil).ExtractMetadata()
	if err != nil || ometa["Index"] != "7" {
		t.Fatalf("object metadata %v (%v)", ometa, err)
	}
	if _, err := objects.Update(ctx, c, "backups", "day/07", objects.UpdateOpts{Metadata: map[string]string{"Checked": "yes"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Copy(ctx, c, "backups", "day/07", objects.CopyOpts{Destination: "/other/copy"}).Extract(); err != nil {
		t.Fatalf("copy: %v", err)
	}
	dl = objects.Download(ctx, c, "other", "copy", nil)
	data, err = dl.ExtractContent()
	if err != nil || string(data) != "object number 7" {
		t.Fatalf("copied object %q (%v)", data, err)
	}

	// An ETag that is not the body's MD5 is refused.
	_, err = objects.Create(ctx, c, "backups", "corrupt", objects.CreateOpts{
		Content: bytes.NewReader([]byte("abc")), ETag: "00000000000000000000000000000000"}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusUnprocessableEntity) {
		t.Errorf("create with a wrong ETag: %v, want 422", err)
	}

	// A non-empty container cannot be deleted.
	if _, err := containers.Delete(ctx, c, "other").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("delete non-empty container: %v, want 409", err)
	}
	res, err := objects.BulkDelete(ctx, c, "backups", []string{"day/00", "day/01", "missing"}).Extract()
	if err != nil || res.NumberDeleted != 2 || res.NumberNotFound != 1 {
		t.Errorf("bulk delete %+v (%v)", res, err)
	}
	if _, err := objects.Delete(ctx, c, "other", "copy", nil).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := containers.Delete(ctx, c, "other").Extract(); err != nil {
		t.Fatalf("delete empty container: %v", err)
	}
	if _, err := objects.Get(ctx, c, "other", "copy", nil).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get deleted object: %v, want 404", err)
	}

	if _, err := accounts.Update(ctx, c, accounts.UpdateOpts{Metadata: map[string]string{"Team": "dba"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.Get(ctx, c, nil).Extract()
	if err != nil || acc.ContainerCount != 1 || acc.ObjectCount != 23 {
		t.Fatalf("account %+v (%v)", acc, err)
	}
	ameta, err := accounts.Get(ctx, c, nil).ExtractMetadata()
	if err != nil || ameta["Team"] != "dba" {
		t.Errorf("account metadata %v (%v)", ameta, err)
	}

	// A client with a bad token gets 401 (gophercloud has no reauth here).
	bad := e.client()
	bad.ProviderClient.SetToken("forged")
	_, err = accounts.Get(ctx, bad, nil).Extract()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &unexpected) || unexpected.Actual != http.StatusUnauthorized {
		t.Errorf("bad token: %v, want 401", err)
	}
}
