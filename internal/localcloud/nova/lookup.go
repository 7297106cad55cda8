package nova

import (
	"net/http"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// The lookups below find the record a request's {id} names, or answer the
// owning service's 404 and report false. Callers hold c.mu.

// serverOr404 finds a live server (one being deleted is gone once its
// task is "deleted").
func (c *Service) serverOr404(w http.ResponseWriter, r *http.Request) (*state.Server, bool) {
	s, ok := c.lookupServer(r.PathValue("id"))
	if !ok {
		c.notFoundServer(w, r.PathValue("id"))
	}
	return s, ok
}
