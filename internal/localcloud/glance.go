package localcloud

import (
	"net/http"
	"strings"
	"time"
)

// image is the one image: this machine's Debian with MariaDB Galera installed
// (every host runs the machine's own binaries).
type image struct {
	ID      string
	Name    string
	Created time.Time
}

func theImage() image {
	return image{
		ID:      "2f1a6a9e-6a7c-4b8e-9f43-3c0c5d6f1a01",
		Name:    "debian-12-mariadb-galera",
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// findImage accepts an id or a link ending in the id.
func findImage(ref string) (image, bool) {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	img := theImage()
	return img, ref == img.ID
}

func (c *Cloud) glanceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /image", c.glanceVersions)
	mux.HandleFunc("GET /image/{$}", c.glanceVersions)
	mux.HandleFunc("GET /image/versions", c.glanceVersions)
	mux.HandleFunc("GET /image/v2/images", c.authed(svcImage, c.listImages))
	mux.HandleFunc("GET /image/v2/images/{id}", c.authed(svcImage, c.getImage))
}

func (c *Cloud) glanceVersions(w http.ResponseWriter, r *http.Request) {
	var vs []any
	for _, v := range []string{"2.9", "2.8", "2.7"} {
		status := "SUPPORTED"
		if v == "2.9" {
			status = "CURRENT"
		}
		vs = append(vs, map[string]any{"id": "v" + v, "status": status,
			"links": []any{map[string]any{"href": c.baseURL + "/image/v2/", "rel": "self"}}})
	}
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": vs})
}

func (c *Cloud) imageBody(img image) map[string]any {
	ts := img.Created.Format(glanceTime)
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

func (c *Cloud) listImages(w http.ResponseWriter, r *http.Request) {
	img := theImage()
	q := r.URL.Query()
	out := []any{}
	match := true
	if n := q.Get("name"); n != "" && n != img.Name {
		match = false
	}
	if s := q.Get("status"); s != "" && s != "active" {
		match = false
	}
	if v := q.Get("visibility"); v != "" && v != "public" && v != "all" {
		match = false
	}
	if id := q.Get("id"); id != "" && id != img.ID {
		match = false
	}
	if match {
		out = append(out, c.imageBody(img))
	}
	writeJSON(w, 200, map[string]any{"images": out, "first": "/v2/images", "schema": "/v2/schemas/images"})
}

func (c *Cloud) getImage(w http.ResponseWriter, r *http.Request) {
	img, ok := findImage(pv(r, "id"))
	if !ok || pv(r, "id") != img.ID {
		writeError(w, svcImage, errf(404, "No image found with ID %s", pv(r, "id")))
		return
	}
	writeJSON(w, 200, c.imageBody(img))
}
