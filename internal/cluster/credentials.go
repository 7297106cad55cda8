package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// Temporary accounts carry their expiry in their name,
// tf_<expiry unix seconds>_<8 hex>, so one left by an interrupted run is
// recognised and dropped by the next open without any state of its own.
const credentialsPrefix = "tf_"

var credentialsName = regexp.MustCompile(`^tf_([0-9]{9,11})_[0-9a-f]{8}$`)

// MaxCredentialsTTL bounds how long a temporary account may live.
const MaxCredentialsTTL = 24 * time.Hour

// CredentialsRequest is what a temporary account is opened with.
type CredentialsRequest struct {
	Grants []guest.Grant
	TTL    time.Duration
	// AccountHost is the account's host pattern; empty means '%'. The
	// security group already limits who reaches port 3306.
	AccountHost string
}

// Credentials is an open temporary account. Password is a secret.
type Credentials struct {
	Username    string
	Password    string
	AccountHost string
	Expires     time.Time
	// Address is the writer's IP, else a healthy node's.
	Address string
	// Expired names the accounts of earlier runs this open dropped.
	Expired []string
}

// accountAdmin is the part of *guest.Cluster temporary accounts use.
type accountAdmin interface {
	EnsureUsers(ctx context.Context, users ...guest.User) error
	Accounts(ctx context.Context, prefix string) ([]guest.Account, error)
	DropUsers(ctx context.Context, users ...guest.User) error
}

// CheckCredentialsRequest refuses a request before anything runs.
func CheckCredentialsRequest(r CredentialsRequest) error {
	var errs []error
	if r.TTL < time.Minute || r.TTL > MaxCredentialsTTL {
		errs = append(errs, fmt.Errorf("ttl %s: use 1m to %s", r.TTL, MaxCredentialsTTL))
	}
	if len(r.Grants) == 0 {
		errs = append(errs, errors.New("grants: at least one grant is needed"))
	}
	// The name is a placeholder of the real shape; ValidateUser checks the
	// privileges, the targets and the host.
	if err := guest.ValidateUser(guest.User{Name: "tf_0000000000_00000000", Host: r.AccountHost, Grants: r.Grants}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// OpenCredentials drops expired temporary accounts, then creates one with
// the grants asked for and a random password on a healthy member (it
// replicates to all).
func (m *Manager) OpenCredentials(ctx context.Context, id string, spec Spec, r CredentialsRequest) (*Credentials, error) {
	if err := CheckCredentialsRequest(r); err != nil {
		return nil, err
	}
	c, gc, err := m.liveGuests(ctx, id, spec)
	if err != nil {
		return nil, err
	}
	defer gc.Close()
	admin, ok := gc.(accountAdmin)
	if !ok {
		return nil, errors.New("the guest library cannot manage accounts (a bug in the provider)")
	}
	now := time.Now()
	expired, err := dropExpired(ctx, admin, now)
	if err != nil {
		return nil, err
	}
	if len(expired) > 0 {
		m.log.Warn(ctx, fmt.Sprintf("dropped %d expired temporary accounts: %s", len(expired), strings.Join(expired, ", ")))
	}
	cr := &Credentials{AccountHost: r.AccountHost, Expires: now.Add(r.TTL).Truncate(time.Second), Expired: expired}
	if cr.AccountHost == "" {
		cr.AccountHost = "%"
	}
	if cr.Username, err = credentialsUsername(cr.Expires); err != nil {
		return nil, err
	}
	if cr.Password, err = GeneratePassword(32); err != nil {
		return nil, err
	}
	if err := admin.EnsureUsers(ctx, guest.User{Name: cr.Username, Host: cr.AccountHost, Password: cr.Password, Grants: r.Grants}); err != nil {
		return nil, fmt.Errorf("create temporary account %s on cluster %s: %w", cr.Username, id, err)
	}
	cr.Address = connectAddress(c)
	return cr, nil
}

// CloseCredentials drops a temporary account (every host of that name).
// An account already gone is not an error.
func (m *Manager) CloseCredentials(ctx context.Context, id string, spec Spec, username string) error {
	if !credentialsName.MatchString(username) {
		return fmt.Errorf("%q is not a temporary account name", username)
	}
	_, gc, err := m.liveGuests(ctx, id, spec)
	if err != nil {
		return err
	}
	defer gc.Close()
	admin, ok := gc.(accountAdmin)
	if !ok {
		return errors.New("the guest library cannot manage accounts (a bug in the provider)")
	}
	accounts, err := admin.Accounts(ctx, username)
	if err != nil {
		return err
	}
	var drop []guest.User
	for _, a := range accounts {
		if a.Name == username {
			drop = append(drop, guest.User{Name: a.Name, Host: a.Host})
		}
	}
	if err := admin.DropUsers(ctx, drop...); err != nil {
		return fmt.Errorf("drop temporary account %s on cluster %s: %w", username, id, err)
	}
	return nil
}

// dropExpired drops every temporary account whose expiry has passed and
// returns their names.
func dropExpired(ctx context.Context, admin accountAdmin, now time.Time) ([]string, error) {
	accounts, err := admin.Accounts(ctx, credentialsPrefix)
	if err != nil {
		return nil, err
	}
	var drop []guest.User
	var names []string
	for _, a := range accounts {
		if exp, ok := credentialsExpiry(a.Name); ok && !exp.After(now) {
			drop = append(drop, guest.User{Name: a.Name, Host: a.Host})
			names = append(names, a.Name+"@"+a.Host)
		}
	}
	if err := admin.DropUsers(ctx, drop...); err != nil {
		return nil, fmt.Errorf("drop expired temporary accounts: %w", err)
	}
	return names, nil
}

func credentialsUsername(expires time.Time) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("temporary account name: %w", err)
	}
	return fmt.Sprintf("%s%d_%s", credentialsPrefix, expires.Unix(), hex.EncodeToString(b)), nil
}

// credentialsExpiry reads the expiry from a temporary account's name;
// false for any other name.
func credentialsExpiry(name string) (time.Time, bool) {
	m := credentialsName.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// connectAddress is the writer's IP, else the first healthy node's.
func connectAddress(c *Cluster) string {
	if w, ok := c.WriterNode(); ok {
		return w.IP
	}
	for _, n := range c.Nodes {
		if n.Role == RoleReader {
			return n.IP
		}
	}
	return ""
}

// liveGuests finds the cluster, opens the guest library on it (host keys
// checked as spec.SSH says; with console, against the Nova console) and
// reads its live state. The caller closes the handle.
func (m *Manager) liveGuests(ctx context.Context, id string, spec Spec) (*Cluster, GuestCluster, error) {
	inv, err := m.discover(ctx, id, "")
	if err != nil {
		return nil, nil, err
	}
	if inv.empty() {
		return nil, nil, ErrNotFound
	}
	c := inv.cluster(id)
	if len(c.Nodes) == 0 {
		return nil, nil, fmt.Errorf("cluster %s has no servers: %w", id, ErrNotFound)
	}
	spec = completeSpec(spec, c)
	if spec.SSH.PrivateKey == "" {
		return nil, nil, errors.New("an SSH private key is needed to reach the nodes")
	}
	a := accessFor(spec, spec.SSH.PrivateKey, nil)
	if spec.SSH.HostKeyCheck == HostKeyConsole {
		a.fingerprints = m.consoleFingerprintsOf(ctx, c.Nodes, nil)
	}
	gc, err := m.openGuests(spec, c, a, m.observer(ctx))
	if err != nil {
		return nil, nil, err
	}
	st, err := gc.Status(ctx)
	if err != nil {
		m.log.Warn(ctx, "reading Galera state: "+err.Error())
	}
	applyStatus(c, st)
	return c, gc, nil
}
