package openstack

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Image is a Glance image.
type Image struct {
	ID         string
	Name       string
	Status     string
	MinDiskGiB int
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// ResolveImage finds an image by id when idOrName looks like one (Glance
// ids are UUIDs), else by exact name with a filtered list: never a GET that
// only probes for a 404. When the cloud has no image service and idOrName
// looks like a UUID, it is taken as the id unchecked (Nova will reject it
// if wrong). Found images are remembered for the client's lifetime.
func (c *Client) ResolveImage(ctx context.Context, idOrName string) (Image, error) {
	return remember(c, "image", idOrName, func() (Image, error) { return c.resolveImage(ctx, idOrName) })
}

func (c *Client) resolveImage(ctx context.Context, idOrName string) (Image, error) {
	sc, err := c.Image(ctx)
	if err != nil {
		var missing *ServiceMissingError
		if errors.As(err, &missing) && uuidPattern.MatchString(idOrName) {
			return Image{ID: idOrName}, nil
		}
		return Image{}, err
	}
	if uuidPattern.MatchString(idOrName) {
		img, err := images.Get(ctx, sc, idOrName).Extract()
		if err != nil {
			return Image{}, fmt.Errorf("get image %s: %w", idOrName, err)
		}
		return imageOf(img), nil
	}
	pages, err := images.List(sc, images.ListOpts{Name: idOrName}).AllPages(ctx)
	if err != nil {
		return Image{}, fmt.Errorf("list images named %s: %w", idOrName, err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return Image{}, fmt.Errorf("list images named %s: %w", idOrName, err)
	}
	var found []Image
	for i := range all {
		if all[i].Name == idOrName {
			found = append(found, imageOf(&all[i]))
		}
	}
	return pickOne("image", idOrName, found)
}

func imageOf(i *images.Image) Image {
	return Image{ID: i.ID, Name: i.Name, Status: string(i.Status), MinDiskGiB: i.MinDiskGigabytes}
}
