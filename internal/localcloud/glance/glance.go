package glance

import (
	"net/http"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

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
		"os_distro": "debian", "os_version": "12", "description": img.Description,
	}
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := []any{}
	for _, img := range Catalog() {
		if n := q.Get("name"); n != "" && n != img.Name {
			continue
		}
		if st := q.Get("status"); st != "" && st != "active" {
			continue
		}
		if v := q.Get("visibility"); v != "" && v != "public" && v != "all" {
			continue
		}
		if id := q.Get("id"); id != "" && id != img.ID {
			continue
		}
		out = append(out, body(img))
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
