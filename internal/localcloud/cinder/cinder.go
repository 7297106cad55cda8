package cinder

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/keystone"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// Cinder's microversion range (3.59 is Train's maximum, matching nova 2.79).
var (
	cinderAPI = core.VersionedAPI{Service: core.Volume, Type: "volume",
		Min: core.Microversion{Major: 3, Minor: 0}, Max: core.Microversion{Major: 3, Minor: 59}}
)

const (
	gib           = int64(1) << 30
	defaultVolTyp = "__DEFAULT__"
	defaultTypeID = "b7b3e0f4-7a0c-4e4b-9b1a-5f0d6c1e8a11"
)

// cinder wraps a volume handler: token, project in the URL, microversion.
// gophercloud also sends X-OpenStack-Volume-API-Version, which cinder
// ignores; so do we.
func (c *Service) cinder(h core.VersionedHandler) http.HandlerFunc {
	return c.authed(core.Volume, func(w http.ResponseWriter, r *http.Request) {
		t := keystone.TokenFrom(r.Context())
		if r.PathValue("project") != t.ProjectID {
			core.WriteError(w, core.Volume, core.Errf(400, "Malformed request url"))
			return
		}
		if mv, ok := cinderAPI.Negotiate(w, r); ok {
			h(w, r, mv)
		}
	})
}

func (c *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /volume", c.cinderVersions)
	mux.HandleFunc("GET /volume/{$}", c.cinderVersions)
	mux.HandleFunc("GET /volume/v3", c.cinderVersion)
	mux.HandleFunc("GET /volume/v3/{$}", c.cinderVersion)
	v := c.cinder
	p := "/volume/v3/{project}"
	mux.HandleFunc("GET "+p+"/volumes", v(c.listVolumes))
	mux.HandleFunc("GET "+p+"/volumes/detail", v(c.listVolumes))
	mux.HandleFunc("POST "+p+"/volumes", v(c.createVolume))
	mux.HandleFunc("GET "+p+"/volumes/{id}", v(core.VersionedShow(&c.Mu, "volume", c.volumeOr404, c.volumeBody)))
	mux.HandleFunc("PUT "+p+"/volumes/{id}", v(c.updateVolume))
	mux.HandleFunc("DELETE "+p+"/volumes/{id}", v(c.deleteVolume))
	mux.HandleFunc("POST "+p+"/volumes/{id}/action", v(c.volumeAction))
	mux.HandleFunc("GET "+p+"/types", v(c.listVolumeTypes))
	mux.HandleFunc("GET "+p+"/types/default", v(c.getVolumeType))
	mux.HandleFunc("GET "+p+"/types/{id}", v(c.getVolumeType))
	mux.HandleFunc("GET "+p+"/os-availability-zone", v(c.cinderAZs))
}

func (c *Service) cinderVersionBody() map[string]any {
	return map[string]any{
		"id": "v3.0",
		"links": []any{
			map[string]any{"href": "https://docs.openstack.org/", "rel": "describedby", "type": "text/html"},
			map[string]any{"href": c.baseURL + "/volume/v3/", "rel": "self"},
		},
		"media-types": []any{map[string]any{"base": "application/json",
			"type": "application/vnd.openstack.volume+json;version=3"}},
		"min_version": cinderAPI.Min.String(), "status": "CURRENT", "updated": "2019-09-20T00:00:00Z",
		"version": cinderAPI.Max.String(),
	}
}

func (c *Service) cinderVersions(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{c.cinderVersionBody()}})
}

func (c *Service) cinderVersion(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, 200, map[string]any{"versions": []any{c.cinderVersionBody()}})
}

func (c *Service) volLinks(v *state.Volume) []any {
	return []any{
		map[string]any{"href": c.baseURL + "/volume/v3/" + v.ProjectID + "/volumes/" + v.ID, "rel": "self"},
		map[string]any{"href": c.baseURL + "/volume/" + v.ProjectID + "/volumes/" + v.ID, "rel": "bookmark"},
	}
}

func (c *Service) volumeBody(v *state.Volume, mv core.Microversion) map[string]any {
	atts := []any{}
	for _, a := range v.Attachments {
		hostName := ""
		if s, ok := c.St.Servers[a.ServerID]; ok {
			hostName = s.Hypervisor
		}
		atts = append(atts, map[string]any{
			"server_id": a.ServerID, "attachment_id": a.AttachmentID, "attached_at": core.FmtTime(a.AttachedAt, core.NoZTime),
			"host_name": hostName, "volume_id": v.ID, "device": a.Device, "id": v.ID,
		})
	}
	md := v.Metadata
	if md == nil {
		md = map[string]string{}
	}
	b := map[string]any{
		"attachments": atts, "availability_zone": v.AZ, "bootable": "false",
		"consistencygroup_id": nil, "created_at": v.CreatedAt.UTC().Format(core.NoZTime),
		"description": core.NilIfEmpty(v.Description), "encrypted": false, "id": v.ID,
		"links": c.volLinks(v), "metadata": md, "migration_status": nil, "multiattach": false,
		"name": core.NilIfEmpty(v.Name), "os-vol-host-attr:host": "localcloud@lvm#loop",
		"os-vol-mig-status-attr:migstat": nil, "os-vol-mig-status-attr:name_id": nil,
		"os-vol-tenant-attr:tenant_id": v.ProjectID, "replication_status": nil, "size": v.Size,
		"snapshot_id": nil, "source_volid": nil, "status": v.Status,
		"updated_at": core.FmtTime(v.UpdatedAt, core.NoZTime), "user_id": v.UserID, "volume_type": v.VolumeType,
	}
	if mv.AtLeast(3, 13) {
		b["group_id"] = nil
	}
	if mv.AtLeast(3, 21) {
		b["provider_id"] = nil
	}
	if mv.AtLeast(3, 48) {
		b["shared_targets"] = false
		b["service_uuid"] = "5f0c7a2e-2f3a-4b5c-8d6e-7f8091a2b3c4"
	}
	if mv.AtLeast(3, 63) {
		b["volume_type_id"] = defaultTypeID
	}
	return b
}

func (c *Service) SortedVolumes() []*state.Volume {
	return core.ByCreation(c.St.Volumes, func(v *state.Volume) (time.Time, string) { return v.CreatedAt, v.ID }, true)
}

func (c *Service) listVolumes(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	detail := strings.HasSuffix(r.URL.Path, "/detail")
	q := r.URL.Query()
	c.Mu.Lock()
	defer c.Mu.Unlock()
	out := []any{}
	want, e := parseMetadataFilter(q.Get("metadata"))
	if e != nil {
		core.WriteError(w, core.Volume, e)
		return
	}
	for _, v := range c.SortedVolumes() {
		if n := q.Get("name"); n != "" && v.Name != n {
			continue
		}
		if !metadataContains(v.Metadata, want) {
			continue
		}
		if st := q.Get("status"); st != "" && v.Status != st {
			continue
		}
		if detail {
			out = append(out, c.volumeBody(v, mv))
		} else {
			out = append(out, map[string]any{"id": v.ID, "links": c.volLinks(v), "name": core.NilIfEmpty(v.Name)})
		}
	}
	core.WriteJSON(w, 200, map[string]any{"volumes": out})
}

func (c *Service) createVolume(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		Volume *struct {
			Size        json.Number       `json:"size"`
			Name        string            `json:"name"`
			Description string            `json:"description"`
			AZ          string            `json:"availability_zone"`
			VolumeType  string            `json:"volume_type"`
			Metadata    map[string]string `json:"metadata"`
			SnapshotID  string            `json:"snapshot_id"`
			SourceVolID string            `json:"source_volid"`
			ImageRef    string            `json:"imageRef"`
			BackupID    string            `json:"backup_id"`
			Multiattach bool              `json:"multiattach"`
		} `json:"volume"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.Volume == nil {
		core.WriteError(w, core.Volume, core.Errf(400, "Missing required element 'volume' in request body."))
		return
	}
	rv := req.Volume
	size, err := rv.Size.Int64()
	if rv.Size == "" || err != nil || size <= 0 {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input received: Volume size '%s' must be an integer and greater than 0", rv.Size))
		return
	}
	if size > 100 {
		core.WriteError(w, core.Volume, core.Errf(413, "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested %dG, quota is 100G and 0G has been consumed.", size))
		return
	}
	if rv.SnapshotID != "" || rv.SourceVolID != "" || rv.ImageRef != "" || rv.BackupID != "" {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input received: the local cloud creates blank volumes only (no snapshot_id, source_volid, imageRef or backup_id)."))
		return
	}
	if rv.Multiattach {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input received: multiattach volumes are not supported by the volume type."))
		return
	}
	if rv.VolumeType != "" && rv.VolumeType != defaultVolTyp && rv.VolumeType != defaultTypeID {
		core.WriteError(w, core.Volume, core.Errf(404, "Volume type with name %s could not be found.", rv.VolumeType))
		return
	}
	az := rv.AZ
	if az == "" {
		az = c.zones[0]
	}
	if !slices.Contains(c.zones, az) {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input received: Availability zone '%s' is invalid.", az))
		return
	}
	t := keystone.TokenFrom(r.Context())
	now := time.Now()
	v := &state.Volume{ID: core.NewUUID(), Name: rv.Name, Description: rv.Description, Size: int(size),
		Status: "creating", AZ: az, VolumeType: defaultVolTyp, Metadata: rv.Metadata,
		Attachments: []state.VolumeAttachment{}, ProjectID: t.ProjectID, UserID: t.UserID, CreatedAt: now}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	c.St.Volumes[v.ID] = v
	c.Save()
	id := v.ID
	if !c.Go(func(ctx context.Context) { c.provisionVolume(ctx, id, size) }) {
		delete(c.St.Volumes, id)
		core.WriteError(w, core.Volume, core.Errf(503, "The local cloud is shutting down."))
		return
	}
	core.WriteJSON(w, 202, map[string]any{"volume": c.volumeBody(v, mv)})
}

// provisionVolume creates the sparse file and loop device: creating -> available.
func (c *Service) provisionVolume(ctx context.Context, id string, size int64) {
	if !c.SleepStep(ctx) {
		return
	}
	dir := filepath.Join(c.Dir, "volumes")
	err := os.MkdirAll(dir, 0o700)
	var d *host.Disk
	if err == nil {
		d, err = host.NewDisk(ctx, dir, size*gib)
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	v, ok := c.St.Volumes[id]
	if !ok || v.Status != "creating" {
		if d != nil {
			_ = d.Close()
		}
		return
	}
	if err != nil {
		c.Log.Error("create volume", "volume", id, "err", err)
		v.Status = "error"
	} else {
		c.Disks[id] = d
		v.Status = "available"
	}
	v.UpdatedAt = time.Now()
	c.Save()
}

func (c *Service) updateVolume(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		Volume *struct {
			Name        *string           `json:"name"`
			Description *string           `json:"description"`
			Metadata    map[string]string `json:"metadata"`
		} `json:"volume"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.Volume == nil {
		core.WriteError(w, core.Volume, core.Errf(400, "Missing required element 'volume' in request body."))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	v, ok := c.volumeOr404(w, r)
	if !ok {
		return
	}
	if req.Volume.Name != nil {
		v.Name = *req.Volume.Name
	}
	if req.Volume.Description != nil {
		v.Description = *req.Volume.Description
	}
	if req.Volume.Metadata != nil {
		v.Metadata = req.Volume.Metadata
	}
	v.UpdatedAt = time.Now()
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"volume": c.volumeBody(v, mv)})
}

func (c *Service) deleteVolume(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	v, ok := c.volumeOr404(w, r)
	if !ok {
		return
	}
	// cinder/volume/api.py: delete needs one of these statuses and no attachment.
	okStatus := slices.Contains([]string{"available", "error", "error_restoring", "error_extending", "error_managing"}, v.Status)
	if !okStatus || len(v.Attachments) > 0 {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer."))
		return
	}
	v.Status = "deleting"
	v.UpdatedAt = time.Now()
	c.Save()
	id := v.ID
	c.Go(func(ctx context.Context) {
		c.SleepStep(ctx)
		c.Mu.Lock()
		d := c.Disks[id]
		delete(c.Disks, id)
		c.Mu.Unlock()
		var err error
		if d != nil {
			err = d.Close()
		}
		c.Mu.Lock()
		defer c.Mu.Unlock()
		if err != nil {
			c.Log.Error("delete volume", "volume", id, "err", err)
			if v, ok := c.St.Volumes[id]; ok {
				v.Status = "error_deleting"
			}
		} else {
			delete(c.St.Volumes, id)
		}
		c.Save()
	})
	w.WriteHeader(http.StatusAccepted)
}

func (c *Service) volumeAction(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var body map[string]json.RawMessage
	if err := core.ReadJSON(r, &body); err != nil || len(body) != 1 {
		core.WriteError(w, core.Volume, core.Errf(400, "Malformed request body"))
		return
	}
	for name, raw := range body {
		switch name {
		case "os-extend":
			c.extendVolume(w, r, mv, raw)
		default:
			core.WriteError(w, core.Volume, core.Errf(400, "The local cloud does not implement volume action %s; attach and detach through Nova's os-volume_attachments.", name))
		}
	}
}

func (c *Service) extendVolume(w http.ResponseWriter, r *http.Request, mv core.Microversion, raw json.RawMessage) {
	var req struct {
		NewSize json.Number `json:"new_size"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input for field/attribute new_size."))
		return
	}
	newSize, err := req.NewSize.Int64()
	if err != nil || newSize <= 0 {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input for field/attribute new_size. Value: %s.", req.NewSize))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	v, ok := c.volumeOr404(w, r)
	if !ok {
		return
	}
	online := v.Status == "in-use"
	switch {
	case v.Status == "available":
	case online && mv.AtLeast(3, 42):
	case online:
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid volume: Volume %s status must be 'available' to extend, but current status is: in-use.", v.ID))
		return
	default:
		want := "'available'"
		if mv.AtLeast(3, 42) {
			want = "'available' or 'in-use'"
		}
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid volume: Volume %s status must be %s to extend, but current status is: %s.", v.ID, want, v.Status))
		return
	}
	if newSize <= int64(v.Size) {
		core.WriteError(w, core.Volume, core.Errf(400, "Invalid input received: New size for extend must be greater than current size. (current: %d, extended: %d).", v.Size, newSize))
		return
	}
	if newSize > 100 {
		core.WriteError(w, core.Volume, core.Errf(413, "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota."))
		return
	}
	prev := v.Status
	v.Status = "extending"
	v.UpdatedAt = time.Now()
	c.Save()
	id := v.ID
	c.Go(func(ctx context.Context) {
		c.SleepStep(ctx)
		c.Mu.Lock()
		d := c.Disks[id]
		c.Mu.Unlock()
		err := fmt.Errorf("volume %s has no disk", id)
		if d != nil {
			err = d.Resize(ctx, newSize*gib)
		}
		c.Mu.Lock()
		defer c.Mu.Unlock()
		v, ok := c.St.Volumes[id]
		if !ok {
			return
		}
		if err != nil {
			c.Log.Error("extend volume", "volume", id, "err", err)
			v.Status = "error_extending"
		} else {
			v.Size = int(newSize)
			v.Status = prev
		}
		v.UpdatedAt = time.Now()
		c.Save()
	})
	w.WriteHeader(http.StatusAccepted)
}

func (c *Service) volumeTypeBody() map[string]any {
	return map[string]any{"id": defaultTypeID, "qos_specs_id": nil, "name": defaultVolTyp,
		"description": "Default Volume Type", "os-volume-type-access:is_public": true,
		"is_public": true, "extra_specs": map[string]string{}}
}

func (c *Service) listVolumeTypes(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	core.WriteJSON(w, 200, map[string]any{"volume_types": []any{c.volumeTypeBody()}})
}

func (c *Service) getVolumeType(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	if id := r.PathValue("id"); id != "" && id != defaultTypeID && id != defaultVolTyp {
		core.WriteError(w, core.Volume, core.Errf(404, "Volume type %s could not be found.", id))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"volume_type": c.volumeTypeBody()})
}

func (c *Service) cinderAZs(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var out []any
	for _, z := range c.zones {
		out = append(out, map[string]any{"zoneName": z, "zoneState": map[string]any{"available": true}})
	}
	core.WriteJSON(w, 200, map[string]any{"availabilityZoneInfo": out})
}

// ---- nova os-volume_attachments ----

// parseMetadataFilter reads cinder's ?metadata= filter, a Python dict
// literal ({'k': 'v'}, what gophercloud sends) or JSON.
func parseMetadataFilter(raw string) (map[string]string, *core.Error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	out := map[string]string{}
	if json.Unmarshal([]byte(raw), &out) == nil {
		return out, nil
	}
	inner, _ := strings.CutPrefix(raw, "{")
	inner, ok := strings.CutSuffix(inner, "}")
	if !ok {
		return nil, core.Errf(400, "Invalid filter keys: metadata")
	}
	unq := func(s string) string { return strings.Trim(strings.TrimSpace(s), `'"`) }
	for _, pair := range strings.Split(inner, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, core.Errf(400, "Invalid filter keys: metadata")
		}
		out[unq(k)] = unq(v)
	}
	return out, nil
}

func metadataContains(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
