package nova

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// maxServerTags is nova's per-server tag limit (objects.instance.MAX_TAG_COUNT).
const maxServerTags = 50

// The server tags API (nova 2.26+): GET/PUT/DELETE /servers/{id}/tags and
// GET/PUT/DELETE /servers/{id}/tags/{tag}.
func (c *Service) serverTagRoutes(mux *http.ServeMux) {
	n := c.nova
	p := "/compute/v2.1/servers/{id}/tags"
	mux.HandleFunc("GET "+p, n(c.serverTags(c.listServerTags)))
	mux.HandleFunc("PUT "+p, n(c.serverTags(c.replaceServerTags)))
	mux.HandleFunc("DELETE "+p, n(c.serverTags(c.deleteServerTags)))
	mux.HandleFunc("GET "+p+"/{tag}", n(c.serverTags(c.checkServerTag)))
	mux.HandleFunc("PUT "+p+"/{tag}", n(c.serverTags(c.addServerTag)))
	mux.HandleFunc("DELETE "+p+"/{tag}", n(c.serverTags(c.deleteServerTag)))
}

type serverTagHandler func(w http.ResponseWriter, r *http.Request, s *state.Server)

// serverTags checks the microversion (404 below 2.26, as nova routes
// nothing there), takes the lock and finds the server; writes also need a
// server at rest in a state nova allows tag changes in.
func (c *Service) serverTags(h serverTagHandler) core.VersionedHandler {
	return func(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
		if !mv.AtLeast(2, 26) {
			core.WriteError(w, core.Compute, core.Errf(404, "The resource could not be found."))
			return
		}
		c.Mu.Lock()
		defer c.Mu.Unlock()
		s, ok := c.serverOr404(w, r)
		if !ok {
			return
		}
		if r.Method != http.MethodGet {
			if !slices.Contains([]string{"active", "paused", "suspended", "stopped"}, s.VMState) {
				core.WriteError(w, core.Compute, core.Errf(409, "Cannot 'update tag' instance %s while it is in vm_state %s", s.ID, s.VMState))
				return
			}
		}
		h(w, r, s)
	}
}

// validTag is nova's parameter_types.tag: 1..60 characters without '/' or ','.
func validTag(tag string) bool {
	return tag != "" && len([]rune(tag)) <= 60 && !strings.ContainsAny(tag, "/,")
}

func tagsOrEmpty(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

func (c *Service) listServerTags(w http.ResponseWriter, r *http.Request, s *state.Server) {
	core.WriteJSON(w, 200, map[string]any{"tags": tagsOrEmpty(s.Tags)})
}

func (c *Service) replaceServerTags(w http.ResponseWriter, r *http.Request, s *state.Server) {
	var req struct {
		Tags *[]string `json:"tags"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.Tags == nil {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute tags. Value: None. None is not of type 'array'"))
		return
	}
	if len(*req.Tags) > maxServerTags {
		core.WriteError(w, core.Compute, core.Errf(400, "The number of tags exceeded the per-server limit %d", maxServerTags))
		return
	}
	var tags []string
	for _, t := range *req.Tags {
		if !validTag(t) {
			core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute tags. Value: %q. Tags must be 1 to 60 characters without '/' or ','", t))
			return
		}
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	s.Tags = tags
	c.Save()
	core.WriteJSON(w, 200, map[string]any{"tags": tagsOrEmpty(s.Tags)})
}

func (c *Service) deleteServerTags(w http.ResponseWriter, r *http.Request, s *state.Server) {
	s.Tags = nil
	c.Save()
	w.WriteHeader(http.StatusNoContent)
}

// checkServerTag answers 204 when the server has the tag.
func (c *Service) checkServerTag(w http.ResponseWriter, r *http.Request, s *state.Server) {
	tag := r.PathValue("tag")
	if !slices.Contains(s.Tags, tag) {
		core.WriteError(w, core.Compute, core.Errf(404, "Server %s has no tag '%s'", s.ID, tag))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// addServerTag answers 201 with the tag's Location when it is new, 204 when
// the server has it already.
func (c *Service) addServerTag(w http.ResponseWriter, r *http.Request, s *state.Server) {
	tag := r.PathValue("tag")
	if !validTag(tag) {
		core.WriteError(w, core.Compute, core.Errf(400, "Tag '%s' is invalid. It must be a non empty string without characters '/' and ','.", tag))
		return
	}
	if slices.Contains(s.Tags, tag) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if len(s.Tags) >= maxServerTags {
		core.WriteError(w, core.Compute, core.Errf(400, "The number of tags exceeded the per-server limit %d", maxServerTags))
		return
	}
	s.Tags = append(s.Tags, tag)
	c.Save()
	w.Header().Set("Location", c.baseURL+"/compute/v2.1/servers/"+s.ID+"/tags/"+url.PathEscape(tag))
	w.WriteHeader(http.StatusCreated)
}

func (c *Service) deleteServerTag(w http.ResponseWriter, r *http.Request, s *state.Server) {
	tag := r.PathValue("tag")
	if !slices.Contains(s.Tags, tag) {
		core.WriteError(w, core.Compute, core.Errf(404, "Instance %s has no tag '%s'", s.ID, tag))
		return
	}
	s.Tags = slices.DeleteFunc(s.Tags, func(t string) bool { return t == tag })
	c.Save()
	w.WriteHeader(http.StatusNoContent)
}
