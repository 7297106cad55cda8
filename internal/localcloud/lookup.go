package localcloud

import (
	"net/http"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// The lookups below find the record a request's {id} names, or answer the
// owning service's 404 and report false. Callers hold c.mu.

func (c *Cloud) portOr404(w http.ResponseWriter, r *http.Request) (*port, bool) {
	return core.Lookup(w, core.Network, c.st.Ports, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "PortNotFound", "Port %s could not be found.", id)
	})
}

func (c *Cloud) secGroupOr404(w http.ResponseWriter, r *http.Request) (*secGroup, bool) {
	return core.Lookup(w, core.Network, c.st.SecurityGroups, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "SecurityGroupNotFound", "Security group %s does not exist", id)
	})
}

func (c *Cloud) ruleOr404(w http.ResponseWriter, r *http.Request) (*sgRule, bool) {
	return core.Lookup(w, core.Network, c.st.Rules, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "SecurityGroupRuleNotFound", "Security group rule %s does not exist", id)
	})
}

func (c *Cloud) floatingIPOr404(w http.ResponseWriter, r *http.Request) (*floatingIP, bool) {
	return core.Lookup(w, core.Network, c.st.FloatingIPs, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "FloatingIPNotFound", "Floating IP %s could not be found", id)
	})
}

func (c *Cloud) volumeOr404(w http.ResponseWriter, r *http.Request) (*volume, bool) {
	return core.Lookup(w, core.Volume, c.st.Volumes, r.PathValue("id"), func(id string) *core.Error {
		return core.Errf(404, "Volume %s could not be found.", id)
	})
}

// serverOr404 finds a live server (one being deleted is gone once its
// task is "deleted").
func (c *Cloud) serverOr404(w http.ResponseWriter, r *http.Request) (*server, bool) {
	s, ok := c.lookupServer(r.PathValue("id"))
	if !ok {
		c.notFoundServer(w, r.PathValue("id"))
	}
	return s, ok
}

// neutronList answers GET on a Neutron collection: every record in creation
// order, rendered by body and filtered by the query as Neutron does.
func neutronList[T any](c *Cloud, plural string, sorted func() []*T, body func(r *http.Request, v *T) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		var objs []map[string]any
		for _, v := range sorted() {
			if b := body(r, v); b != nil {
				objs = append(objs, b)
			}
		}
		core.WriteJSON(w, 200, map[string]any{plural: neutronFilter(r.URL.Query(), objs)})
	}
}

// neutronShow answers GET on one Neutron record, or its 404.
func neutronShow[T any](c *Cloud, singular string, find func(w http.ResponseWriter, r *http.Request) (*T, bool), body func(r *http.Request, v *T) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if v, ok := find(w, r); ok {
			core.WriteJSON(w, 200, map[string]any{singular: body(r, v)})
		}
	}
}

// The bodies below adapt each record's renderer to neutronList and
// neutronShow.

// portListBody leaves out ports that ?fixed_ips= does not match.
func (c *Cloud) portListBody(r *http.Request, p *port) map[string]any {
	if !fixedIPFilter(r.URL.Query()["fixed_ips"], p) {
		return nil
	}
	return c.portBody(p)
}

func (c *Cloud) portShowBody(_ *http.Request, p *port) map[string]any    { return c.portBody(p) }
func (c *Cloud) sgShowBody(_ *http.Request, g *secGroup) map[string]any  { return c.sgBody(g) }
func (c *Cloud) ruleShowBody(_ *http.Request, rl *sgRule) map[string]any { return c.ruleBody(rl) }

// floatingIPShowBody first brings the floating IP's status up to date.
func (c *Cloud) floatingIPShowBody(r *http.Request, f *floatingIP) map[string]any {
	c.reconcile(r.Context(), f)
	return c.floatingIPBody(f)
}

// versionedShow answers GET on one Nova or Cinder record, rendered for the
// request's microversion, or its 404.
func versionedShow[T any](c *Cloud, singular string, find func(w http.ResponseWriter, r *http.Request) (*T, bool), body func(v *T, mv core.Microversion) map[string]any) novaHandler {
	return func(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if v, ok := find(w, r); ok {
			core.WriteJSON(w, 200, map[string]any{singular: body(v, mv)})
		}
	}
}
