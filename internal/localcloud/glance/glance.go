package glance

import (
	"net/http"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// Image is an image of the cloud: each is this machine's Debian with
// MariaDB Galera installed (every host runs the machine's own binaries).
type Image struct {
	ID      string
	Name    string
	Created time.Time
}

// TheImage is the image every server boots.
func TheImage() Image {
	return Image{
		ID:      "2f1a6a9e-6a7c-4b8e-9f43-3c0c5d6f1a01",
		Name:    "debian-12-mariadb-galera",
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// UpdatedImage stands in for a point release of TheImage (same content,
// another ID), so an image roll has somewhere to go.
func UpdatedImage() Image {
	return Image{
		ID:      "6b0c3d2e-8f41-4a7d-b5e9-1c2d3e4f5a02",
		Name:    "debian-12-mariadb-galera-updated",
		Created: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	}
}

// images are the images the cloud offers, in list order.
func images() []Image { return []Image{TheImage(), UpdatedImage()} }

// Find accepts an id or a link ending in the id.
func Find(ref string) (Image, bool) {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	for _, img := range images() {
		if img.ID == ref {
			return img, true
		}
	}
	return Image{}, false
}

// Service serves Glance below /image.
type Service struct {
	baseURL string // the API listener, for version links
}

// New builds the image service of the cloud listening at baseURL.
func New(baseURL string) *Service { return &Service{baseURL: baseURL} }

// Routes registers the image API on mux.
func (s *Service) Routes(mux *http.ServeMux, authed core.Authed) {
	mux.HandleFunc("GET /image", s.versions)
	mux.HandleFunc("GET /image/{$}", s.versions)
	mux.HandleFunc("GET /image/versions", s.versions)
	mux.HandleFunc("GET /image/v2/images", authed(core.Image, s.list))
	mux.HandleFunc("GET /image/v2/images/{id}", authed(core.Image, s.get))
}

func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	var vs []any
	for _, v := range []string{"2.9", "2.8", "2.7"} {
		status := "SUPPORTED"
		if v == "2.9" {
			status = "CURRENT"
		}
		vs = append(vs, map[string]any{"id": "v" + v, "status": status,
			"links": []any{map[string]any{"href": s.baseURL + "/image/v2/", "rel": "self"}}})
	}
	core.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": vs})
}

// body is the image as Glance shows it (nova's pre-2.36 proxy uses it too).
func body(img Image) map[string]any {
	ts := img.Created.Format(core.GlanceTime)
	return map[string]any{
		"id": img.ID, "name": img.Name, "status": "active", "visibility": "public",
		"protected": false, "os_hidden": false, "tags": []string{}, "container_format": "bare",
		"disk_format": "raw", "min_disk": 0, "min_ram": 0, "size": 2147483648, "virtual_size": nil,
		"checksum": nil, "os_hash_algo": nil, "os_hash_value": nil, "owner": nil,
		"created_at": ts, "updated_at": ts, "self": "/v2/images/" + img.ID,
		"file": "/v2/images/" + img.ID + "/file", "schema": "/v2/schemas/image",
		"os_distro": "debian", "os_version": "12", "description": "This machine's Debian 12 with MariaDB 10.11 and Galera 4 installed",
	}
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := []any{}
	for _, img := range images() {
		match := true
		if n := q.Get("name"); n != "" && n != img.Name {
			match = false
		}
		if st := q.Get("status"); st != "" && st != "active" {
			match = false
		}
		if v := q.Get("visibility"); v != "" && v != "public" && v != "all" {
			match = false
		}
		if id := q.Get("id"); id != "" && id != img.ID {
			match = false
		}
		if match {
			out = append(out, body(img))
		}
	}
	core.WriteJSON(w, 200, map[string]any{"images": out, "first": "/v2/images", "schema": "/v2/schemas/images"})
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	img, ok := Find(id)
	if !ok || img.ID != id {
		core.WriteError(w, core.Image, core.Errf(404, "No image found with ID %s", id))
		return
	}
	core.WriteJSON(w, 200, body(img))
}
