package localcloud

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/swift"
)

// objectStore is the Swift service and the listener that makes it
// reachable from the servers: hosts have no route to the machine's
// loopback, so the object store (and Keystone, to get a token) also listen
// on the machine's address on the bridge, the subnet's gateway. Its
// catalog endpoint uses that address, which the machine reaches as well.
type objectStore struct {
	svc     *swift.Service
	ln      net.Listener
	srv     *http.Server
	baseURL string // http://<gateway>:<port>
}

// listenObjectStore opens the object store's listener on the bridge
// gateway (the API's port when free, else any); Keystone's catalogue needs
// its address before the services start.
func (c *Cloud) listenObjectStore() error {
	gw := c.Store.Network.Gateway().String()
	_, port, _ := net.SplitHostPort(c.ln.Addr().String())
	ln, err := net.Listen("tcp", net.JoinHostPort(gw, port))
	if err != nil {
		ln, err = net.Listen("tcp", net.JoinHostPort(gw, "0"))
	}
	if err != nil {
		return fmt.Errorf("listen on the bridge gateway %s: %w", gw, err)
	}
	c.objects = &objectStore{ln: ln, baseURL: "http://" + ln.Addr().String()}
	return nil
}

// startObjectStore starts the Swift service on <StateDir>/swift, checking
// tokens with Keystone.
func (c *Cloud) startObjectStore() error {
	svc, err := swift.New(swift.Deps{
		Authenticate: c.keystone.ServiceAuthenticator("object-store"),
		StateDir:     filepath.Join(c.cfg.StateDir, "swift"),
		AuthURL:      c.AuthURL(),
		Logf:         func(format string, a ...any) { c.Log.Warn(fmt.Sprintf(format, a...), "service", "swift") },
	})
	if err != nil {
		return err
	}
	c.objects.svc = svc
	return nil
}

// serveObjectStore serves the gateway listener: only Keystone and Swift.
func (c *Cloud) serveObjectStore(all http.Handler) {
	o := c.objects
	o.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if isObjectStorePath(p) || p == "/identity" || strings.HasPrefix(p, "/identity/") {
			all.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})}
	go func() {
		if err := o.srv.Serve(o.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.Log.Error("object store listener stopped", "err", err)
		}
	}()
}

// isObjectStorePath tells whether the object store serves path.
func isObjectStorePath(path string) bool {
	return path == "/info" || strings.HasPrefix(path, "/v1/")
}

// writeObjectStoreFault answers an injected fault with Swift's HTML body.
func writeObjectStoreFault(w http.ResponseWriter, r *http.Request, e *core.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	swift.WriteFault(w, r, e.Code, e.Message)
}

func (c *Cloud) objectStoreRoutes(mux *http.ServeMux) {
	mux.Handle("/v1/", c.objects.svc)
	mux.Handle("/info", c.objects.svc)
}

// ObjectStoreURL is the object store's root as servers reach it,
// http://<gateway>:<port>; its Keystone is at <root>/identity/v3.
func (c *Cloud) ObjectStoreURL() string { return c.objects.baseURL }

// ObjectStore is the Swift service (tests inspect it).
func (c *Cloud) ObjectStore() *swift.Service { return c.objects.svc }

// stopObjectStore closes the listener and the service.
func (c *Cloud) stopObjectStore() error {
	if c.objects == nil {
		return nil
	}
	var errs []error
	if c.objects.srv != nil {
		if err := c.objects.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop object store listener: %w", err))
		}
	} else {
		_ = c.objects.ln.Close()
	}
	if c.objects.svc != nil {
		if err := c.objects.svc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop object store: %w", err))
		}
	}
	return errors.Join(errs...)
}
