package openstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	gcopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// ServiceIdentity is Keystone's catalog type.
const ServiceIdentity = "identity"

// ApplicationCredential is a Keystone application credential; Secret is
// known only to its creator, once.
type ApplicationCredential struct {
	ID     string
	Name   string
	Secret string // sensitive
}

// Identity returns the Keystone v3 client.
func (c *Client) Identity(ctx context.Context) (*gophercloud.ServiceClient, error) {
	return c.service(ctx, ServiceIdentity, "", gcopenstack.NewIdentityV3)
}

// containerMethods are what a backup tool does in its container: read,
// list, write, delete objects and create the container on first use.
var containerMethods = []string{"GET", "HEAD", "PUT", "DELETE"}

// CreateContainerCredential makes an application credential whose tokens
// may only touch one object-store container (Keystone access rules): what
// a server needs to keep its backups there, and nothing else in the
// project.
func (c *Client) CreateContainerCredential(ctx context.Context, name, container string) (ApplicationCredential, error) {
	sc, err := c.Identity(ctx)
	if err != nil {
		return ApplicationCredential{}, err
	}
	userID, err := c.userID()
	if err != nil {
		return ApplicationCredential{}, err
	}
	var rules []applicationcredentials.AccessRule
	for _, path := range []string{"/v1/*/" + container, "/v1/*/" + container + "/**"} {
		for _, m := range containerMethods {
			rules = append(rules, applicationcredentials.AccessRule{Service: "object-store", Method: m, Path: path})
		}
	}
	ac, err := applicationcredentials.Create(ctx, sc, userID, applicationcredentials.CreateOpts{
		Name:        name,
		Description: "backups of a pxc cluster into container " + container,
		AccessRules: rules,
	}).Extract()
	if err != nil {
		return ApplicationCredential{}, fmt.Errorf("create application credential %s for container %s: %w", name, container, err)
	}
	return ApplicationCredential{ID: ac.ID, Name: ac.Name, Secret: ac.Secret}, nil
}

// DeleteApplicationCredential deletes one; a missing one is not an error.
func (c *Client) DeleteApplicationCredential(ctx context.Context, id string) error {
	sc, err := c.Identity(ctx)
	if err != nil {
		return err
	}
	userID, err := c.userID()
	if err != nil {
		return err
	}
	err = applicationcredentials.Delete(ctx, sc, userID, id).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("delete application credential %s: %w", id, err)
	}
	return nil
}

// userID is the logged-in user, from the token's body.
func (c *Client) userID() (string, error) {
	c.mu.Lock()
	pc := c.provider
	c.mu.Unlock()
	if pc == nil {
		return "", errors.New("not logged in")
	}
	// A password login gives a CreateResult, a token login a GetResult.
	type userOf interface {
		ExtractUser() (*tokens.User, error)
	}
	if r, ok := pc.GetAuthResult().(userOf); ok {
		u, err := r.ExtractUser()
		if err == nil && u.ID != "" {
			return u.ID, nil
		}
	}
	return "", errors.New("the identity token names no user: application credentials need a user's login")
}

// IdentityURL is Keystone's URL the client logs in at, and its region.
func (c *Client) IdentityURL() (url, region string) {
	r, err := c.cfg.Resolve()
	if err != nil {
		return c.cfg.AuthURL, c.Region()
	}
	return r.Auth.IdentityEndpoint, c.Region()
}
