package localcloud

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/aptrepo"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// startPackageSource serves the cloud's Debian mirror (package aptrepo) on
// the bridge gateway, where servers reach it, and tells servers about it
// through cloud-init's vendor-data. A machine without the mirror builds it
// at the first request (seconds once the plain image is there: servers on
// it exist, so it is), the request waiting for it. It stops with the
// cloud.
func (c *Cloud) startPackageSource(ctx context.Context) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Store.Network.Gateway().String(), "0"))
	if err != nil {
		return fmt.Errorf("package mirror: listen on the bridge gateway: %w", err)
	}
	c.packages = aptrepo.Serve(context.WithoutCancel(ctx), ln, func(ctx context.Context) (aptrepo.Repo, error) {
		r, err := aptrepo.Ensure(ctx, func(format string, a ...any) { c.Log.Info(fmt.Sprintf(format, a...), "service", "packages") })
		if err != nil {
			c.Log.Error("package mirror unavailable", "err", err)
		}
		return r, err
	})
	c.Store.Network.SetVendorData(aptrepo.VendorData(c.packages.URL()))
	return nil
}

// stopPackageSource stops the mirror's listener and a build in progress.
func (c *Cloud) stopPackageSource() error {
	if c.packages == nil {
		return nil
	}
	return c.packages.Close()
}

// PackageSourceURL is the mirror's URL as servers reach it.
func (c *Cloud) PackageSourceURL() string { return c.packages.URL() }

// adminPackageRequests answers GET /_admin/package-source: the mirror's
// URL and every request servers made to it, so a test can prove where a
// server's packages came from.
func (c *Cloud) adminPackageRequests(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, http.StatusOK, map[string]any{"url": c.packages.URL(), "requests": c.packages.Requests()})
}
