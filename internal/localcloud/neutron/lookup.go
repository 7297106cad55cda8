package neutron

import (
	"net/http"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// The lookups below find the record a request's {id} names, or answer
// Neutron's 404 and report false. Callers hold c.Mu.

func (c *Service) portOr404(w http.ResponseWriter, r *http.Request) (*state.Port, bool) {
	return core.Lookup(w, core.Network, c.St.Ports, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "PortNotFound", "Port %s could not be found.", id)
	})
}

func (c *Service) secGroupOr404(w http.ResponseWriter, r *http.Request) (*state.SecGroup, bool) {
	return core.Lookup(w, core.Network, c.St.SecurityGroups, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "SecurityGroupNotFound", "Security group %s does not exist", id)
	})
}

func (c *Service) ruleOr404(w http.ResponseWriter, r *http.Request) (*state.Rule, bool) {
	return core.Lookup(w, core.Network, c.St.Rules, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "SecurityGroupRuleNotFound", "Security group rule %s does not exist", id)
	})
}

func (c *Service) floatingIPOr404(w http.ResponseWriter, r *http.Request) (*state.FloatingIP, bool) {
	return core.Lookup(w, core.Network, c.St.FloatingIPs, r.PathValue("id"), func(id string) *core.Error {
		return core.NeutronErrf(404, "FloatingIPNotFound", "Floating IP %s could not be found", id)
	})
}

// neutronList answers GET on a Neutron collection: every record in creation
// order, rendered by body and filtered by the query as Neutron does.
func neutronList[T any](c *Service, plural string, sorted func() []*T, body func(r *http.Request, v *T) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.Mu.Lock()
		defer c.Mu.Unlock()
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
func neutronShow[T any](c *Service, singular string, find func(w http.ResponseWriter, r *http.Request) (*T, bool), body func(r *http.Request, v *T) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.Mu.Lock()
		defer c.Mu.Unlock()
		if v, ok := find(w, r); ok {
			core.WriteJSON(w, 200, map[string]any{singular: body(r, v)})
		}
	}
}

// portListBody leaves out ports that ?fixed_ips= does not match.
func (c *Service) portListBody(r *http.Request, p *state.Port) map[string]any {
	if !fixedIPFilter(r.URL.Query()["fixed_ips"], p) {
		return nil
	}
	return c.portBody(p)
}

func (c *Service) portShowBody(_ *http.Request, p *state.Port) map[string]any   { return c.portBody(p) }
func (c *Service) sgShowBody(_ *http.Request, g *state.SecGroup) map[string]any { return c.sgBody(g) }
func (c *Service) ruleShowBody(_ *http.Request, rl *state.Rule) map[string]any  { return c.ruleBody(rl) }

// floatingIPShowBody first brings the floating IP's status up to date.
func (c *Service) floatingIPShowBody(r *http.Request, f *state.FloatingIP) map[string]any {
	c.reconcile(r.Context(), f)
	return c.floatingIPBody(f)
}
