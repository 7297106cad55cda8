package cluster

import (
	"context"
	"fmt"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// console is what the server's console shows: cloud-init's fingerprint
// block, and one more for every rebuild (new host keys). The caller holds
// f.mu.
func (f *fakeCloud) console(id string) string {
	block := func(fp string) string {
		return fingerprintsBegin + "\n256 SHA256:" + fp + " root@" + f.servers[id].Name + " (ED25519)\n" + fingerprintsEnd + "\n"
	}
	out := block("fake-" + id)
	for i := 1; i <= f.rebuilds[id]; i++ {
		out += "rebuilding\n" + block(fmt.Sprintf("fake-%s-r%d", id, i))
	}
	return out
}

func (f *fakeCloud) server(method, id string) (openstack.Server, error) {
	s, ok := f.servers[id]
	if err := f.call(method, s.Name); err != nil {
		return s, err
	}
	if !ok {
		return s, errNotFound
	}
	return s, nil
}

func (f *fakeCloud) ResizeServer(_ context.Context, id, flavorID string) (openstack.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.server("ResizeServer", id)
	if err != nil {
		return s, err
	}
	want := strings.TrimPrefix(flavorID, "flavor-")
	if f.refuseResize[s.Name] {
		delete(f.refuseResize, s.Name)
		return s, &openstack.ResizeFailedError{ServerID: id, OldFlavor: s.FlavorName, NewFlavor: want}
	}
	s.Status = "VERIFY_RESIZE"
	s.Metadata = mergeMeta(s.Metadata, map[string]string{"old_flavor": s.FlavorName})
	s.FlavorName = want
	f.servers[id] = s
	return s, nil
}

func (f *fakeCloud) ConfirmResize(_ context.Context, id string) (openstack.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.server("ConfirmResize", id)
	if err != nil {
		return s, err
	}
	if s.Status != "VERIFY_RESIZE" {
		return s, fmt.Errorf("fake: confirm in status %s: 409", s.Status)
	}
	s.Status = "ACTIVE"
	f.servers[id] = s
	return s, nil
}

func (f *fakeCloud) RevertResize(_ context.Context, id string) (openstack.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.server("RevertResize", id)
	if err != nil {
		return s, err
	}
	if s.Status != "VERIFY_RESIZE" {
		return s, fmt.Errorf("fake: revert in status %s: 409", s.Status)
	}
	s.Status, s.FlavorName = "ACTIVE", s.Metadata["old_flavor"]
	f.servers[id] = s
	return s, nil
}

func (f *fakeCloud) RebuildServer(_ context.Context, id, imageID string) (openstack.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.server("RebuildServer", id)
	if err != nil {
		return s, err
	}
	if f.rebuilds == nil {
		f.rebuilds = map[string]int{}
	}
	f.rebuilds[id]++
	s.ImageID = imageID
	f.servers[id] = s
	return s, nil
}

func (f *fakeCloud) UpdateServerMetadata(_ context.Context, id string, meta map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := f.server("UpdateServerMetadata", id)
	if err != nil {
		return err
	}
	s.Metadata = mergeMeta(s.Metadata, meta)
	f.servers[id] = s
	return nil
}

func mergeMeta(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
