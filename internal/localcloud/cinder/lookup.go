package cinder

import (
	"net/http"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// volumeOr404 finds the volume a request's {id} names, or answers Cinder's
// 404 and reports false. Callers hold c.Mu.
func (c *Service) volumeOr404(w http.ResponseWriter, r *http.Request) (*state.Volume, bool) {
	return core.Lookup(w, core.Volume, c.St.Volumes, r.PathValue("id"), func(id string) *core.Error {
		return core.Errf(404, "Volume %s could not be found.", id)
	})
}
