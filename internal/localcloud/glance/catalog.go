package glance

import (
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
)

// Image is one image of the catalog: a Glance record over a recipe of
// package image, whose built root filesystem the servers booting it run.
type Image struct {
	ID          string
	Name        string
	Description string
	// Recipe builds the image's root filesystem. Two images may share a
	// recipe (an "updated" image for a roll is a distinct image to Nova).
	Recipe  image.Recipe
	Created time.Time
}

// Catalog is every image the cloud offers, the default first. IDs are
// fixed so that configurations and state files keep naming the same image
// across restarts and machines.
func Catalog() []Image {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return []Image{
		{
			ID:          "2f1a6a9e-6a7c-4b8e-9f43-3c0c5d6f1a01",
			Name:        "debian-12-mariadb-galera",
			Description: "Debian 12 with systemd, cloud-init, MariaDB 10.11 and Galera 4 installed (not enabled)",
			Recipe:      image.Debian12MariaDBGalera,
			Created:     created,
		},
		{
			ID:          "5b0c7d3e-1f2a-4c6b-8d9e-0a1b2c3d4e02",
			Name:        "debian-12",
			Description: "Debian 12 with systemd, cloud-init and OpenSSH; no database packages",
			Recipe:      image.Debian12,
			Created:     created,
		},
		{
			ID:          "7e4d2c1b-3a5f-4e6d-9c8b-1a2b3c4d5e03",
			Name:        "debian-12-mariadb-galera-updated",
			Description: "The MariaDB Galera image again under a new ID: what an image roll moves servers to",
			Recipe:      image.Debian12MariaDBGalera,
			Created:     created.Add(24 * time.Hour),
		},
	}
}

// TheImage is the default image, debian-12-mariadb-galera.
func TheImage() Image { return Catalog()[0] }

// Find accepts an id or a link ending in the id.
func Find(ref string) (Image, bool) {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	for _, img := range Catalog() {
		if img.ID == ref {
			return img, true
		}
	}
	return Image{}, false
}
