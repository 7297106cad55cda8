package keystone

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// AccessRule limits what an application credential's tokens may do, as
// Keystone's access rules (Train and later) do: a request is allowed when
// one rule names its service type and method and its path matches the
// rule's path, where "*" matches one path segment and "**" any number
// (keystonemiddleware checks them in the service; here each service's
// authenticator does). A credential without rules is not limited.
type AccessRule struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// validate answers what Keystone answers to a malformed rule.
func (a AccessRule) validate() error {
	switch {
	case a.Service == "":
		return fmt.Errorf("'service' is a required property")
	case a.Path == "" || !strings.HasPrefix(a.Path, "/"):
		return fmt.Errorf("'path' must be an absolute path")
	}
	switch a.Method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE":
		return nil
	}
	return fmt.Errorf("'method' %q is not one of GET, HEAD, POST, PUT, PATCH, DELETE", a.Method)
}

func (a AccessRule) body() map[string]any {
	return map[string]any{"id": a.ID, "service": a.Service, "method": a.Method, "path": a.Path}
}

// permits says whether the rule allows method on path of service.
func (a AccessRule) permits(service, method, path string) bool {
	return a.Service == service && a.Method == method && pathMatches(splitPath(a.Path), splitPath(path))
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

func pathMatches(pattern, path []string) bool {
	if len(pattern) == 0 {
		return len(path) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(path); i++ {
			if pathMatches(pattern[1:], path[i:]) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 || (pattern[0] != "*" && pattern[0] != path[0]) {
		return false
	}
	return pathMatches(pattern[1:], path[1:])
}

// serviceTypes are the catalogue types of the services Authed wraps.
var serviceTypes = map[core.Service]string{
	core.Compute: "compute", core.Image: "image", core.Volume: "block-storage", core.Network: "network",
}

// allowedBy says whether the token may make request r on service: a token
// of an application credential with access rules only where a rule allows.
func (c *Service) allowedBy(t *Token, service string, r *http.Request) bool {
	if t.AppCredID == "" {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ac := c.st.AppCreds[t.AppCredID]
	if ac == nil {
		return false
	}
	if len(ac.AccessRules) == 0 {
		return true
	}
	for _, rule := range ac.AccessRules {
		if rule.permits(service, r.Method, r.URL.Path) {
			return true
		}
	}
	return false
}

// ServiceAuthenticator is AuthenticateRequest for one service type: it
// also checks the token's application credential's access rules.
func (c *Service) ServiceAuthenticator(service string) func(r *http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
		if !ok {
			return "", fmt.Errorf("no valid token in X-Auth-Token")
		}
		if t.ProjectID == "" {
			return "", fmt.Errorf("the token is not scoped to a project")
		}
		if !c.allowedBy(t, service, r) {
			return "", fmt.Errorf("the application credential's access rules do not allow %s %s", r.Method, r.URL.Path)
		}
		return t.ProjectID, nil
	}
}
