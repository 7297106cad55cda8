package keystone

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// Token is an issued Keystone token (kept in memory only: a restarted cloud
// answers 401 and clients authenticate again, as after a Keystone key rotation).
type Token struct {
	ID        string
	UserID    string
	ProjectID string // empty: unscoped
	Methods   []string
	AppCredID string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

const (
	domainID      = "default"
	adminRoleID   = "51cc68287d524c759f47c811e6463340"
	unauthMessage = "The request you have made requires authentication."
)

type ctxKey int

const tokenKey ctxKey = 0

// TokenFrom returns the token an authenticated handler runs under.
func TokenFrom(ctx context.Context) *Token {
	t, _ := ctx.Value(tokenKey).(*Token)
	return t
}

// lookupToken validates a token id.
func (c *Service) lookupToken(id string) (*Token, bool) {
	if id == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[id]
	if !ok || time.Now().After(t.ExpiresAt) {
		return nil, false
	}
	return t, true
}

// AuthenticateRequest validates X-Auth-Token and returns the project; the
// load-balancer service uses it.
func (c *Service) AuthenticateRequest(r *http.Request) (string, error) {
	t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
	if !ok {
		return "", errors.New("no valid token in X-Auth-Token")
	}
	if t.ProjectID == "" {
		return "", errors.New("the token is not scoped to a project")
	}
	if !c.allowedBy(t, "load-balancer", r) {
		return "", errors.New("the application credential's access rules do not allow this request")
	}
	return t.ProjectID, nil
}

// Authed wraps a service handler with token validation. Unscoped tokens are
// refused with 401, like keystonemiddleware does for project-scoped APIs.
func (c *Service) Authed(svc core.Service, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
		if !ok {
			w.Header().Set("WWW-Authenticate", "Keystone uri=\""+c.AuthURL()+"\"")
			core.WriteError(w, svc, core.Errf(401, unauthMessage))
			return
		}
		if t.ProjectID == "" || !c.allowedBy(t, serviceTypes[svc], r) {
			core.WriteError(w, svc, core.Errf(401, unauthMessage))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey, t)))
	}
}

// Routes registers the identity API on mux.
func (c *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /identity", c.identityVersions)
	mux.HandleFunc("GET /identity/{$}", c.identityVersions)
	mux.HandleFunc("GET /identity/v3", c.identityVersion)
	mux.HandleFunc("GET /identity/v3/{$}", c.identityVersion)
	mux.HandleFunc("POST /identity/v3/auth/tokens", c.createToken)
	mux.HandleFunc("GET /identity/v3/auth/tokens", c.validateToken)
	mux.HandleFunc("HEAD /identity/v3/auth/tokens", c.validateToken)
	mux.HandleFunc("DELETE /identity/v3/auth/tokens", c.revokeToken)
	mux.HandleFunc("GET /identity/v3/auth/catalog", c.identityAuthed(c.getCatalog))
	mux.HandleFunc("POST /identity/v3/users/{user}/application_credentials", c.identityAuthed(c.createAppCred))
	mux.HandleFunc("GET /identity/v3/users/{user}/application_credentials", c.identityAuthed(c.listAppCreds))
	mux.HandleFunc("GET /identity/v3/users/{user}/application_credentials/{id}", c.identityAuthed(c.getAppCred))
	mux.HandleFunc("DELETE /identity/v3/users/{user}/application_credentials/{id}", c.identityAuthed(c.deleteAppCred))
}

// identityAuthed accepts unscoped tokens too (Keystone's own API does).
func (c *Service) identityAuthed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
		if !ok {
			core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey, t)))
	}
}

func (c *Service) identityVersionBody() map[string]any {
	return map[string]any{
		"id":    "v3.14",
		"links": []any{map[string]any{"href": c.cfg.BaseURL + "/identity/v3/", "rel": "self"}},
		"media-types": []any{map[string]any{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
	}
}

func (c *Service) identityVersions(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{
		"values": []any{c.identityVersionBody()}}})
}

func (c *Service) identityVersion(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, 200, map[string]any{"version": c.identityVersionBody()})
}

type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User authUser `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			AppCred *struct {
				ID     string    `json:"id"`
				Name   string    `json:"name"`
				Secret string    `json:"secret"`
				User   *authUser `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type authDomain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type authUser struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Password string      `json:"password"`
	Domain   *authDomain `json:"domain"`
}

type authScope struct {
	Project *struct {
		ID     string      `json:"id"`
		Name   string      `json:"name"`
		Domain *authDomain `json:"domain"`
	} `json:"project"`
	Domain *authDomain `json:"domain"`
	System any         `json:"system"`
}

func (c *Service) domainMatches(d *authDomain) bool {
	if d == nil {
		return false
	}
	if d.ID != "" {
		return d.ID == domainID
	}
	return d.Name == c.cfg.Domain
}

// userMatches checks a user reference (id, or name plus domain).
func (c *Service) userMatches(u *authUser) bool {
	if u.ID != "" {
		return u.ID == c.st.UserID
	}
	return u.Name == c.cfg.User && c.domainMatches(u.Domain)
}

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (c *Service) createToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity': %s", err))
		return
	}
	id := req.Auth.Identity
	if len(id.Methods) == 0 {
		core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity': 'methods' is a required property"))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Token{ID: "gAAAAA" + core.RandomSecret(180), Methods: id.Methods, IssuedAt: time.Now()}
	t.ExpiresAt = t.IssuedAt.Add(c.cfg.TokenTTL)
	var appCred *AppCredential
	switch id.Methods[0] {
	case "password":
		if id.Password == nil {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity/password': 'password' is a required property"))
			return
		}
		u := id.Password.User
		if u.ID == "" && u.Name == "" {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity/password/user': either 'id' or 'name' is required"))
			return
		}
		if u.ID == "" && u.Domain == nil {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity/password/user/domain': 'domain' is required with a user name"))
			return
		}
		if !c.userMatches(&u) || subtle.ConstantTimeCompare([]byte(u.Password), []byte(c.st.Password)) != 1 {
			core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
			return
		}
		t.UserID = c.st.UserID
	case "token":
		if id.Token == nil {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity/token': 'token' is a required property"))
			return
		}
		old, ok := c.tokens[id.Token.ID]
		if !ok || time.Now().After(old.ExpiresAt) {
			core.WriteError(w, core.Identity, core.Errf(404, "Could not find token: %s", "(redacted)"))
			return
		}
		t.UserID = old.UserID
		t.ExpiresAt = old.ExpiresAt
	case "application_credential":
		ac := id.AppCred
		if ac == nil || ac.Secret == "" || (ac.ID == "" && ac.Name == "") {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'identity/application_credential': 'id' or 'name' and 'secret' are required"))
			return
		}
		for _, cand := range c.st.AppCreds {
			if ac.ID != "" && cand.ID == ac.ID {
				appCred = cand
			} else if ac.ID == "" && cand.Name == ac.Name && ac.User != nil && c.userMatches(ac.User) {
				appCred = cand
			}
		}
		if appCred == nil || subtle.ConstantTimeCompare([]byte(hashSecret(ac.Secret)), []byte(appCred.SecretHash)) != 1 {
			core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
			return
		}
		if !appCred.ExpiresAt.IsZero() && time.Now().After(appCred.ExpiresAt) {
			core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
			return
		}
		t.UserID = appCred.UserID
		t.ProjectID = appCred.ProjectID
		t.AppCredID = appCred.ID
	default:
		core.WriteError(w, core.Identity, core.Errf(401, "Attempted to authenticate with an unsupported method."))
		return
	}

	if len(req.Auth.Scope) > 0 && string(req.Auth.Scope) != "null" && string(req.Auth.Scope) != `"unscoped"` {
		if appCred != nil {
			core.WriteError(w, core.Identity, core.Errf(401, "Application credentials cannot request a scope."))
			return
		}
		var sc authScope
		if err := json.Unmarshal(req.Auth.Scope, &sc); err != nil {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'scope': %s", err))
			return
		}
		switch {
		case sc.Project != nil:
			p := sc.Project
			if p.ID == "" && (p.Name == "" || p.Domain == nil) {
				core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'scope/project': 'id', or 'name' and 'domain', are required"))
				return
			}
			ok := p.ID == c.st.ProjectID || (p.ID == "" && p.Name == c.cfg.Project && c.domainMatches(p.Domain))
			if !ok {
				core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
				return
			}
			t.ProjectID = c.st.ProjectID
		default:
			core.WriteError(w, core.Identity, core.Errf(401, "The local cloud issues project-scoped or unscoped tokens only."))
			return
		}
	} else if id.Methods[0] == "token" {
		if old := c.tokens[id.Token.ID]; old != nil {
			t.ProjectID = old.ProjectID
		}
	}
	c.tokens[t.ID] = t
	c.pruneTokensLocked()
	w.Header().Set("X-Subject-Token", t.ID)
	core.WriteJSON(w, http.StatusCreated, map[string]any{"token": c.tokenBody(t, appCred)})
}

func (c *Service) pruneTokensLocked() {
	now := time.Now()
	for id, t := range c.tokens {
		if now.After(t.ExpiresAt) {
			delete(c.tokens, id)
		}
	}
}

// tokenBody renders a token; callers hold c.mu.
func (c *Service) tokenBody(t *Token, ac *AppCredential) map[string]any {
	dom := map[string]any{"id": domainID, "name": c.cfg.Domain}
	body := map[string]any{
		"audit_ids":  []string{core.RandomSecret(22)},
		"expires_at": t.ExpiresAt.UTC().Format(core.TokenTime),
		"issued_at":  t.IssuedAt.UTC().Format(core.TokenTime),
		"methods":    t.Methods,
		"user": map[string]any{
			"domain": dom, "id": c.st.UserID, "name": c.cfg.User, "password_expires_at": nil,
		},
	}
	if t.ProjectID != "" {
		body["is_domain"] = false
		body["project"] = map[string]any{"domain": dom, "id": c.st.ProjectID, "name": c.cfg.Project}
		body["roles"] = []any{
			map[string]any{"id": adminRoleID, "name": "admin"},
			map[string]any{"id": "9fe2ff9ee4384b1894a90878d3e92bab", "name": "member"},
			map[string]any{"id": "f1f4b1d4ab6e4d8a9b1b8f0f0b6b4b61", "name": "reader"},
		}
		body["catalog"] = c.catalog()
	}
	if ac != nil {
		body["application_credential"] = map[string]any{
			"id": ac.ID, "name": ac.Name, "restricted": !ac.Unrestrict,
		}
	}
	return body
}

// catalog lists every endpoint, with public, internal and admin interfaces.
func (c *Service) catalog() []any {
	type svc struct{ typ, name, root, path string }
	base := c.cfg.BaseURL
	svcs := []svc{
		{"identity", "keystone", base, "/identity"},
		{"compute", "nova", base, "/compute/v2.1"},
		{"image", "glance", base, "/image"},
		{"volumev3", "cinderv3", base, "/volume/v3/" + c.st.ProjectID},
		{"block-storage", "cinder", base, "/volume/v3/" + c.st.ProjectID},
		{"network", "neutron", base, "/network"},
	}
	if c.cfg.LoadBalancer {
		svcs = append(svcs, svc{"load-balancer", "octavia", base, "/load-balancer"})
	}
	if c.cfg.ObjectStoreURL != "" {
		svcs = append(svcs, svc{"object-store", "swift", c.cfg.ObjectStoreURL, "/v1/AUTH_" + c.st.ProjectID})
	}
	out := make([]any, 0, len(svcs))
	for _, s := range svcs {
		var eps []any
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]any{
				"id":        hashSecret(s.typ + iface)[:32],
				"interface": iface,
				"region":    c.cfg.Region,
				"region_id": c.cfg.Region,
				"url":       s.root + s.path,
			})
		}
		out = append(out, map[string]any{
			"endpoints": eps, "type": s.typ, "name": s.name, "id": hashSecret(s.typ)[:32],
		})
	}
	return out
}

func (c *Service) validateToken(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.lookupToken(r.Header.Get("X-Auth-Token")); !ok {
		core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
		return
	}
	subject, ok := c.lookupToken(r.Header.Get("X-Subject-Token"))
	if !ok {
		core.WriteError(w, core.Identity, core.Errf(404, "Could not find token."))
		return
	}
	c.mu.Lock()
	var ac *AppCredential
	if subject.AppCredID != "" {
		ac = c.st.AppCreds[subject.AppCredID]
	}
	body := c.tokenBody(subject, ac)
	c.mu.Unlock()
	w.Header().Set("X-Subject-Token", subject.ID)
	if r.Method == http.MethodHead {
		w.WriteHeader(200)
		return
	}
	core.WriteJSON(w, 200, map[string]any{"token": body})
}

func (c *Service) revokeToken(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.lookupToken(r.Header.Get("X-Auth-Token")); !ok {
		core.WriteError(w, core.Identity, core.Errf(401, unauthMessage))
		return
	}
	subj := r.Header.Get("X-Subject-Token")
	c.mu.Lock()
	_, ok := c.tokens[subj]
	delete(c.tokens, subj)
	c.mu.Unlock()
	if !ok {
		core.WriteError(w, core.Identity, core.Errf(404, "Could not find token."))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Service) getCatalog(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	core.WriteJSON(w, 200, map[string]any{"catalog": c.catalog()})
}

func (c *Service) appCredBody(ac *AppCredential) map[string]any {
	var exp any
	if !ac.ExpiresAt.IsZero() {
		exp = ac.ExpiresAt.UTC().Format(core.NoZTime)
	}
	rules := []any{}
	for _, a := range ac.AccessRules {
		rules = append(rules, a.body())
	}
	return map[string]any{
		"id": ac.ID, "name": ac.Name, "description": ac.Description, "expires_at": exp,
		"project_id": ac.ProjectID, "unrestricted": ac.Unrestrict,
		"roles":        []any{map[string]any{"id": adminRoleID, "name": "admin", "domain_id": nil}},
		"access_rules": rules,
		"links":        map[string]any{"self": c.AuthURL() + "/users/" + ac.UserID + "/application_credentials/" + ac.ID},
	}
}

// checkUserPath answers 403/404 when the path's user is not the token's user.
func (c *Service) checkUserPath(w http.ResponseWriter, r *http.Request) bool {
	t := TokenFrom(r.Context())
	if r.PathValue("user") != t.UserID {
		core.WriteError(w, core.Identity, core.Errf(403, "You are not authorized to perform the requested action: identity:application_credential."))
		return false
	}
	return true
}

func (c *Service) createAppCred(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	t := TokenFrom(r.Context())
	if t.AppCredID != "" {
		core.WriteError(w, core.Identity, core.Errf(403, "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials."))
		return
	}
	if t.ProjectID == "" {
		core.WriteError(w, core.Identity, core.Errf(401, "Application credentials must be created with a project-scoped token."))
		return
	}
	var req struct {
		AC struct {
			Name         string       `json:"name"`
			Description  string       `json:"description"`
			Secret       string       `json:"secret"`
			ExpiresAt    *string      `json:"expires_at"`
			Unrestricted bool         `json:"unrestricted"`
			AccessRules  []AccessRule `json:"access_rules"`
		} `json:"application_credential"`
	}
	if err := core.ReadJSON(r, &req); err != nil {
		core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'application_credential': %s", err))
		return
	}
	if req.AC.Name == "" {
		core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'application_credential': 'name' is a required property"))
		return
	}
	ac := &AppCredential{ID: core.NewHexID(), Name: req.AC.Name, Description: req.AC.Description,
		UserID: t.UserID, ProjectID: t.ProjectID, Unrestrict: req.AC.Unrestricted}
	for _, rule := range req.AC.AccessRules {
		if err := rule.validate(); err != nil {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'access_rules': %s", err))
			return
		}
		rule.ID = core.NewHexID()
		ac.AccessRules = append(ac.AccessRules, rule)
	}
	if req.AC.ExpiresAt != nil && *req.AC.ExpiresAt != "" {
		exp, err := parseLooseTime(*req.AC.ExpiresAt)
		if err != nil {
			core.WriteError(w, core.Identity, core.Errf(400, "Invalid input for field 'expires_at': %s", err))
			return
		}
		ac.ExpiresAt = exp
	}
	secret := req.AC.Secret
	if secret == "" {
		secret = core.RandomSecret(40)
	}
	ac.SecretHash = hashSecret(secret)
	c.mu.Lock()
	for _, other := range c.st.AppCreds {
		if other.Name == ac.Name && other.UserID == ac.UserID {
			c.mu.Unlock()
			core.WriteError(w, core.Identity, core.Errf(409, "Conflict occurred attempting to store application_credential - Duplicate entry found with name %s.", ac.Name))
			return
		}
	}
	c.st.AppCreds[ac.ID] = ac
	c.save()
	body := c.appCredBody(ac)
	c.mu.Unlock()
	body["secret"] = secret
	core.WriteJSON(w, 201, map[string]any{"application_credential": body})
}

func parseLooseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 time")
}

func (c *Service) listAppCreds(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []any{}
	name := r.URL.Query().Get("name")
	for _, ac := range c.st.AppCreds {
		if name == "" || ac.Name == name {
			out = append(out, c.appCredBody(ac))
		}
	}
	core.WriteJSON(w, 200, map[string]any{"application_credentials": out,
		"links": map[string]any{"self": c.AuthURL() + r.URL.Path, "previous": nil, "next": nil}})
}

func (c *Service) getAppCred(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ac, ok := c.st.AppCreds[r.PathValue("id")]
	if !ok {
		core.WriteError(w, core.Identity, core.Errf(404, "Could not find application credential: %s.", r.PathValue("id")))
		return
	}
	core.WriteJSON(w, 200, map[string]any{"application_credential": c.appCredBody(ac)})
}

func (c *Service) deleteAppCred(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := c.st.AppCreds[id]; !ok {
		core.WriteError(w, core.Identity, core.Errf(404, "Could not find application credential: %s.", id))
		return
	}
	delete(c.st.AppCreds, id)
	for tid, t := range c.tokens {
		if t.AppCredID == id {
			delete(c.tokens, tid)
		}
	}
	c.save()
	w.WriteHeader(http.StatusNoContent)
}
