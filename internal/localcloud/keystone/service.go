package keystone

import (
	"sync"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// Config is what Keystone needs from the cloud's configuration.
type Config struct {
	// BaseURL is the API listener; the identity endpoint is BaseURL/identity.
	BaseURL string
	Region  string
	// User, Project and Domain name the seeded identity; Password, when set,
	// replaces the stored one.
	User, Project, Domain, Password string
	TokenTTL                        time.Duration
	// LoadBalancer lists the load-balancer endpoint in the catalogue.
	LoadBalancer bool
	// ObjectStoreURL, when set, lists the object store (Swift) in the
	// catalogue at ObjectStoreURL/v1/AUTH_<project>; it is another root than
	// BaseURL (the bridge gateway, which servers reach).
	ObjectStoreURL string
}

// Identity is Keystone's part of the state file (the seeded user and
// project, and the application credentials); it survives restarts.
type Identity struct {
	Password  string                    `json:"password"`
	UserID    string                    `json:"user_id"`
	ProjectID string                    `json:"project_id"`
	AppCreds  map[string]*AppCredential `json:"application_credentials"`
}

// AppCredential is an application credential; only its secret's hash is kept.
type AppCredential struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	SecretHash  string    `json:"secret_hash"` // sha256 of the secret, hex
	UserID      string    `json:"user_id"`
	ProjectID   string    `json:"project_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	Unrestrict  bool      `json:"unrestricted"`
	// AccessRules, when any, are all its tokens may do (accessrules.go).
	AccessRules []AccessRule `json:"access_rules,omitempty"`
}

// Seed fills what a first start lacks: password (or cfg's), user and project ids.
func (id *Identity) Seed(password string) {
	if password != "" {
		id.Password = password
	}
	if id.Password == "" {
		id.Password = core.RandomSecret(24)
	}
	if id.UserID == "" {
		id.UserID = core.NewHexID()
	}
	if id.ProjectID == "" {
		id.ProjectID = core.NewHexID()
	}
}

// Service serves Keystone below /identity and validates tokens for the
// other services. Tokens live in memory only.
type Service struct {
	cfg Config
	// mu is the cloud's state lock: the state file, Identity included, is
	// written as one, under it.
	mu     *sync.Mutex
	st     *Identity
	save   func() // persists the state file; called with mu held
	tokens map[string]*Token
}

// New builds the identity service over st (guarded by mu; save persists it).
func New(cfg Config, mu *sync.Mutex, st *Identity, save func()) *Service {
	return &Service{cfg: cfg, mu: mu, st: st, save: save, tokens: map[string]*Token{}}
}

// AuthURL is the Keystone v3 endpoint clients authenticate against.
func (c *Service) AuthURL() string { return c.cfg.BaseURL + "/identity/v3" }

// InternalToken issues a short-lived project token for the cloud's own calls.
func (c *Service) InternalToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Token{ID: "gAAAAA" + core.RandomSecret(180), UserID: c.st.UserID, ProjectID: c.st.ProjectID,
		Methods: []string{"password"}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
	c.tokens[t.ID] = t
	return t.ID
}

// RevokeAll revokes every token and says how many there were.
func (c *Service) RevokeAll() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.tokens)
	c.tokens = map[string]*Token{}
	return n
}
