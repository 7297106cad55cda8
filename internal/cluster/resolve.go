package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// References are the resolved ids of what a spec names.
type References struct {
	FlavorID  string
	ImageID   string
	NetworkID string
	Subnet    openstack.Subnet
}

// Resolve looks up flavor, image and network; each failure is a
// *ReferenceError, so plans can name the attribute.
func (m *Manager) Resolve(ctx context.Context, flavor, image, network string) (References, []error) {
	var refs References
	var errs []error
	// Only a missing or ambiguous object is the field's fault; a cloud that
	// cannot be reached or refuses the login is reported as it is.
	fieldErr := func(field string, err error) error {
		var ae *openstack.AuthError
		var sm *openstack.ServiceMissingError
		if errors.As(err, &ae) || errors.As(err, &sm) {
			return err
		}
		return &ReferenceError{Field: field, Err: err}
	}
	if f, err := m.cloud.ResolveFlavor(ctx, flavor); err != nil {
		errs = append(errs, fieldErr("flavor", err))
	} else {
		refs.FlavorID = f.ID
	}
	if i, err := m.cloud.ResolveImage(ctx, image); err != nil {
		errs = append(errs, fieldErr("image", err))
	} else {
		refs.ImageID = i.ID
	}
	if n, err := m.cloud.ResolveNetwork(ctx, network); err != nil {
		errs = append(errs, fieldErr("network", err))
	} else {
		refs.NetworkID = n.ID
		for _, s := range n.Subnets {
			if s.IPVersion == 4 {
				refs.Subnet = s
				break
			}
		}
		if refs.Subnet.ID == "" {
			errs = append(errs, &ReferenceError{Field: "network", Err: fmt.Errorf("network %q has no IPv4 subnet", network)})
		}
	}
	return refs, errs
}

// ResolveNetworkID finds a network by id or name and returns its id.
func (m *Manager) ResolveNetworkID(ctx context.Context, idOrName string) (string, error) {
	n, err := m.cloud.ResolveNetwork(ctx, idOrName)
	if err != nil {
		return "", fmt.Errorf("find network %s: %w", idOrName, err)
	}
	return n.ID, nil
}

// ResolveKeyPair checks that the named Nova keypair exists; a missing one is
// a *ReferenceError on key_pair, so plans can name the attribute.
func (m *Manager) ResolveKeyPair(ctx context.Context, name string) error {
	_, err := m.cloud.GetKeyPair(ctx, name)
	var ae *openstack.AuthError
	var sm *openstack.ServiceMissingError
	if err == nil || errors.As(err, &ae) || errors.As(err, &sm) || !openstack.IsNotFound(err) {
		return err
	}
	return &ReferenceError{Field: "key_pair", Err: fmt.Errorf("keypair %q does not exist in this project and region: %w", name, err)}
}
