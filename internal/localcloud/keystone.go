package localcloud

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
)

// token is an issued Keystone token (kept in memory only: a restarted cloud
// answers 401 and clients authenticate again, as after a Keystone key rotation).
type token struct {
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

func (c *Cloud) seedIdentity() {
	if c.cfg.Password != "" {
		c.st.Password = c.cfg.Password
	}
	if c.st.Password == "" {
		c.st.Password = randomSecret(24)
	}
	if c.st.UserID == "" {
		c.st.UserID = newHexID()
	}
	if c.st.ProjectID == "" {
		c.st.ProjectID = newHexID()
	}
}

type ctxKey int

const tokenKey ctxKey = 0

// tokenFrom returns the token an authenticated handler runs under.
func tokenFrom(ctx context.Context) *token {
	t, _ := ctx.Value(tokenKey).(*token)
	return t
}

// lookupToken validates a token id.
func (c *Cloud) lookupToken(id string) (*token, bool) {
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

// authenticateRequest validates X-Auth-Token and returns the project; the
// load-balancer service uses it.
func (c *Cloud) authenticateRequest(r *http.Request) (string, error) {
	t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
	if !ok {
		return "", errors.New("no valid token in X-Auth-Token")
	}
	if t.ProjectID == "" {
		return "", errors.New("the token is not scoped to a project")
	}
	return t.ProjectID, nil
}

// authed wraps a service handler with token validation. Unscoped tokens are
// refused with 401, like keystonemiddleware does for project-scoped APIs.
func (c *Cloud) authed(svc service, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
		if !ok {
			w.Header().Set("WWW-Authenticate", "Keystone uri=\""+c.AuthURL()+"\"")
			writeError(w, svc, errf(401, unauthMessage))
			return
		}
		if t.ProjectID == "" {
			writeError(w, svc, errf(401, unauthMessage))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey, t)))
	}
}

func (c *Cloud) keystoneRoutes(mux *http.ServeMux) {
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
func (c *Cloud) identityAuthed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := c.lookupToken(r.Header.Get("X-Auth-Token"))
		if !ok {
			writeError(w, svcIdentity, errf(401, unauthMessage))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey, t)))
	}
}

func (c *Cloud) identityVersionBody() map[string]any {
	return map[string]any{
		"id":    "v3.14",
		"links": []any{map[string]any{"href": c.baseURL + "/identity/v3/", "rel": "self"}},
		"media-types": []any{map[string]any{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
	}
}

func (c *Cloud) identityVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{
		"values": []any{c.identityVersionBody()}}})
}

func (c *Cloud) identityVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"version": c.identityVersionBody()})
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

func (c *Cloud) domainMatches(d *authDomain) bool {
	if d == nil {
		return false
	}
	if d.ID != "" {
		return d.ID == domainID
	}
	return d.Name == c.cfg.Domain
}

// userMatches checks a user reference (id, or name plus domain).
func (c *Cloud) userMatches(u *authUser) bool {
	if u.ID != "" {
		return u.ID == c.st.UserID
	}
	return u.Name == c.cfg.User && c.domainMatches(u.Domain)
}

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (c *Cloud) createToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity': %s", err))
		return
	}
	id := req.Auth.Identity
	if len(id.Methods) == 0 {
		writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity': 'methods' is a required property"))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &token{ID: "gAAAAA" + randomSecret(180), Methods: id.Methods, IssuedAt: time.Now()}
	t.ExpiresAt = t.IssuedAt.Add(c.cfg.TokenTTL)
	var appCred *appCredential
	switch id.Methods[0] {
	case "password":
		if id.Password == nil {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity/password': 'password' is a required property"))
			return
		}
		u := id.Password.User
		if u.ID == "" && u.Name == "" {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity/password/user': either 'id' or 'name' is required"))
			return
		}
		if u.ID == "" && u.Domain == nil {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity/password/user/domain': 'domain' is required with a user name"))
			return
		}
		if !c.userMatches(&u) || subtle.ConstantTimeCompare([]byte(u.Password), []byte(c.st.Password)) != 1 {
			writeError(w, svcIdentity, errf(401, unauthMessage))
			return
		}
		t.UserID = c.st.UserID
	case "token":
		if id.Token == nil {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity/token': 'token' is a required property"))
			return
		}
		old, ok := c.tokens[id.Token.ID]
		if !ok || time.Now().After(old.ExpiresAt) {
			writeError(w, svcIdentity, errf(404, "Could not find token: %s", "(redacted)"))
			return
		}
		t.UserID = old.UserID
		t.ExpiresAt = old.ExpiresAt
	case "application_credential":
		ac := id.AppCred
		if ac == nil || ac.Secret == "" || (ac.ID == "" && ac.Name == "") {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'identity/application_credential': 'id' or 'name' and 'secret' are required"))
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
			writeError(w, svcIdentity, errf(401, unauthMessage))
			return
		}
		if !appCred.ExpiresAt.IsZero() && time.Now().After(appCred.ExpiresAt) {
			writeError(w, svcIdentity, errf(401, unauthMessage))
			return
		}
		t.UserID = appCred.UserID
		t.ProjectID = appCred.ProjectID
		t.AppCredID = appCred.ID
	default:
		writeError(w, svcIdentity, errf(401, "Attempted to authenticate with an unsupported method."))
		return
	}

	if len(req.Auth.Scope) > 0 && string(req.Auth.Scope) != "null" && string(req.Auth.Scope) != `"unscoped"` {
		if appCred != nil {
			writeError(w, svcIdentity, errf(401, "Application credentials cannot request a scope."))
			return
		}
		var sc authScope
		if err := json.Unmarshal(req.Auth.Scope, &sc); err != nil {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'scope': %s", err))
			return
		}
		switch {
		case sc.Project != nil:
			p := sc.Project
			if p.ID == "" && (p.Name == "" || p.Domain == nil) {
				writeError(w, svcIdentity, errf(400, "Invalid input for field 'scope/project': 'id', or 'name' and 'domain', are required"))
				return
			}
			ok := p.ID == c.st.ProjectID || (p.ID == "" && p.Name == c.cfg.Project && c.domainMatches(p.Domain))
			if !ok {
				writeError(w, svcIdentity, errf(401, unauthMessage))
				return
			}
			t.ProjectID = c.st.ProjectID
		default:
			writeError(w, svcIdentity, errf(401, "The local cloud issues project-scoped or unscoped tokens only."))
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
	writeJSON(w, http.StatusCreated, map[string]any{"token": c.tokenBody(t, appCred)})
}

func (c *Cloud) pruneTokensLocked() {
	now := time.Now()
	for id, t := range c.tokens {
		if now.After(t.ExpiresAt) {
			delete(c.tokens, id)
		}
	}
}

// tokenBody renders a token; callers hold c.mu.
func (c *Cloud) tokenBody(t *token, ac *appCredential) map[string]any {
	dom := map[string]any{"id": domainID, "name": c.cfg.Domain}
	body := map[string]any{
		"audit_ids":  []string{randomSecret(22)},
		"expires_at": t.ExpiresAt.UTC().Format(tokenTime),
		"issued_at":  t.IssuedAt.UTC().Format(tokenTime),
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
func (c *Cloud) catalog() []any {
	type svc struct{ typ, name, path string }
	svcs := []svc{
		{"identity", "keystone", "/identity"},
		{"compute", "nova", "/compute/v2.1"},
		{"image", "glance", "/image"},
		{"volumev3", "cinderv3", "/volume/v3/" + c.st.ProjectID},
		{"block-storage", "cinder", "/volume/v3/" + c.st.ProjectID},
		{"network", "neutron", "/network"},
	}
	if c.lb != nil {
		svcs = append(svcs, svc{"load-balancer", "octavia", "/load-balancer"})
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
				"url":       c.baseURL + s.path,
			})
		}
		out = append(out, map[string]any{
			"endpoints": eps, "type": s.typ, "name": s.name, "id": hashSecret(s.typ)[:32],
		})
	}
	return out
}

func (c *Cloud) validateToken(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.lookupToken(r.Header.Get("X-Auth-Token")); !ok {
		writeError(w, svcIdentity, errf(401, unauthMessage))
		return
	}
	subject, ok := c.lookupToken(r.Header.Get("X-Subject-Token"))
	if !ok {
		writeError(w, svcIdentity, errf(404, "Could not find token."))
		return
	}
	c.mu.Lock()
	var ac *appCredential
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
	writeJSON(w, 200, map[string]any{"token": body})
}

func (c *Cloud) revokeToken(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.lookupToken(r.Header.Get("X-Auth-Token")); !ok {
		writeError(w, svcIdentity, errf(401, unauthMessage))
		return
	}
	subj := r.Header.Get("X-Subject-Token")
	c.mu.Lock()
	_, ok := c.tokens[subj]
	delete(c.tokens, subj)
	c.mu.Unlock()
	if !ok {
		writeError(w, svcIdentity, errf(404, "Could not find token."))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) getCatalog(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	writeJSON(w, 200, map[string]any{"catalog": c.catalog()})
}

func (c *Cloud) appCredBody(ac *appCredential) map[string]any {
	var exp any
	if !ac.ExpiresAt.IsZero() {
		exp = ac.ExpiresAt.UTC().Format(noZTime)
	}
	return map[string]any{
		"id": ac.ID, "name": ac.Name, "description": ac.Description, "expires_at": exp,
		"project_id": ac.ProjectID, "unrestricted": ac.Unrestrict,
		"roles":        []any{map[string]any{"id": adminRoleID, "name": "admin", "domain_id": nil}},
		"access_rules": []any{},
		"links":        map[string]any{"self": c.AuthURL() + "/users/" + ac.UserID + "/application_credentials/" + ac.ID},
	}
}

// checkUserPath answers 403/404 when the path's user is not the token's user.
func (c *Cloud) checkUserPath(w http.ResponseWriter, r *http.Request) bool {
	t := tokenFrom(r.Context())
	if pv(r, "user") != t.UserID {
		writeError(w, svcIdentity, errf(403, "You are not authorized to perform the requested action: identity:application_credential."))
		return false
	}
	return true
}

func (c *Cloud) createAppCred(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	t := tokenFrom(r.Context())
	if t.AppCredID != "" {
		writeError(w, svcIdentity, errf(403, "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials."))
		return
	}
	if t.ProjectID == "" {
		writeError(w, svcIdentity, errf(401, "Application credentials must be created with a project-scoped token."))
		return
	}
	var req struct {
		AC struct {
			Name         string  `json:"name"`
			Description  string  `json:"description"`
			Secret       string  `json:"secret"`
			ExpiresAt    *string `json:"expires_at"`
			Unrestricted bool    `json:"unrestricted"`
		} `json:"application_credential"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, svcIdentity, errf(400, "Invalid input for field 'application_credential': %s", err))
		return
	}
	if req.AC.Name == "" {
		writeError(w, svcIdentity, errf(400, "Invalid input for field 'application_credential': 'name' is a required property"))
		return
	}
	ac := &appCredential{ID: newHexID(), Name: req.AC.Name, Description: req.AC.Description,
		UserID: t.UserID, ProjectID: t.ProjectID, Unrestrict: req.AC.Unrestricted}
	if req.AC.ExpiresAt != nil && *req.AC.ExpiresAt != "" {
		exp, err := parseLooseTime(*req.AC.ExpiresAt)
		if err != nil {
			writeError(w, svcIdentity, errf(400, "Invalid input for field 'expires_at': %s", err))
			return
		}
		ac.ExpiresAt = exp
	}
	secret := req.AC.Secret
	if secret == "" {
		secret = randomSecret(40)
	}
	ac.SecretHash = hashSecret(secret)
	c.mu.Lock()
	for _, other := range c.st.AppCreds {
		if other.Name == ac.Name && other.UserID == ac.UserID {
			c.mu.Unlock()
			writeError(w, svcIdentity, errf(409, "Conflict occurred attempting to store application_credential - Duplicate entry found with name %s.", ac.Name))
			return
		}
	}
	c.st.AppCreds[ac.ID] = ac
	c.save()
	body := c.appCredBody(ac)
	c.mu.Unlock()
	body["secret"] = secret
	writeJSON(w, 201, map[string]any{"application_credential": body})
}

func parseLooseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 time")
}

func (c *Cloud) listAppCreds(w http.ResponseWriter, r *http.Request) {
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
	writeJSON(w, 200, map[string]any{"application_credentials": out,
		"links": map[string]any{"self": c.AuthURL() + r.URL.Path, "previous": nil, "next": nil}})
}

func (c *Cloud) getAppCred(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ac, ok := c.st.AppCreds[pv(r, "id")]
	if !ok {
		writeError(w, svcIdentity, errf(404, "Could not find application credential: %s.", pv(r, "id")))
		return
	}
	writeJSON(w, 200, map[string]any{"application_credential": c.appCredBody(ac)})
}

func (c *Cloud) deleteAppCred(w http.ResponseWriter, r *http.Request) {
	if !c.checkUserPath(w, r) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := pv(r, "id")
	if _, ok := c.st.AppCreds[id]; !ok {
		writeError(w, svcIdentity, errf(404, "Could not find application credential: %s.", id))
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
