package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// accountGuests adds the account list of a real server to fakeGuests:
// EnsureUsers adds accounts, DropUsers removes them.
type accountGuests struct {
	*fakeGuests
	mu       sync.Mutex
	accounts map[guest.Account]guest.User
}

func (g *accountGuests) Open(spec guest.ClusterSpec, obs guest.Observer) (GuestCluster, error) {
	gc, err := g.fakeGuests.Open(spec, obs)
	if err != nil {
		return nil, err
	}
	return &accountCluster{GuestCluster: gc, g: g}, nil
}

type accountCluster struct {
	GuestCluster
	g *accountGuests
}

func (c *accountCluster) EnsureUsers(ctx context.Context, users ...guest.User) error {
	c.g.mu.Lock()
	for _, u := range users {
		c.g.accounts[guest.Account{Name: u.Name, Host: u.Host}] = u
	}
	c.g.mu.Unlock()
	return c.GuestCluster.EnsureUsers(ctx, users...)
}

func (c *accountCluster) Accounts(_ context.Context, prefix string) ([]guest.Account, error) {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	var out []guest.Account
	for a := range c.g.accounts {
		if strings.HasPrefix(a.Name, prefix) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (c *accountCluster) DropUsers(_ context.Context, users ...guest.User) error {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	for _, u := range users {
		delete(c.g.accounts, guest.Account{Name: u.Name, Host: u.Host})
	}
	c.g.log.add(fmt.Sprintf("DropUsers %d", len(users)))
	return nil
}

func (g *accountGuests) names() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for a := range g.accounts {
		out = append(out, a.Name+"@"+a.Host)
	}
	slices.Sort(out)
	return out
}

// credentialsRig is a created cluster and a manager whose guests keep accounts.
func credentialsRig(t *testing.T) (*Manager, *accountGuests, *Cluster, Spec) {
	t.Helper()
	r := newRig()
	c, err := r.m.Create(testContext(t), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	ag := &accountGuests{fakeGuests: r.guests, accounts: map[guest.Account]guest.User{}}
	// What pxc_credentials knows: the cluster's secrets, no recorded host keys.
	access := Spec{RootPassword: testSpec().RootPassword, SSH: SSHSpec{PrivateKey: c.GeneratedPrivateKey}}
	return newManager(r.cloud, ag, nil), ag, c, access
}

var selectOnApp = []guest.Grant{{Privileges: []string{"SELECT"}, On: "app.*"}}

func TestOpenCredentialsCreatesAnAccountNamedWithItsExpiry(t *testing.T) {
	m, ag, c, access := credentialsRig(t)
	before := time.Now()
	cr, err := m.OpenCredentials(testContext(t), c.ID, access, CredentialsRequest{Grants: selectOnApp, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	exp, ok := credentialsExpiry(cr.Username)
	if !ok {
		t.Fatalf("username %q does not carry its expiry", cr.Username)
	}
	if !exp.Equal(cr.Expires) || exp.Before(before.Add(time.Hour-time.Second)) || exp.After(time.Now().Add(time.Hour)) {
		t.Fatalf("expiry %s (reported %s), want an hour from now", exp, cr.Expires)
	}
	if len(cr.Username) > 32 {
		t.Fatalf("username %q is longer than MySQL's 32 characters", cr.Username)
	}
	if len(cr.Password) != 32 || cr.AccountHost != "%" {
		t.Fatalf("password of %d characters, host %q", len(cr.Password), cr.AccountHost)
	}
	u := ag.accounts[guest.Account{Name: cr.Username, Host: "%"}]
	if u.Password != cr.Password || len(u.Grants) != 1 || u.Grants[0].On != "app.*" {
		t.Fatalf("account created as %+v", u)
	}
	if !slices.Contains(c.IPs(), cr.Address) {
		t.Fatalf("address %q is not a node's", cr.Address)
	}

	other, err := m.OpenCredentials(testContext(t), c.ID, access, CredentialsRequest{Grants: selectOnApp, TTL: time.Hour, AccountHost: "10.0.0.0/255.0.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if other.Username == cr.Username || other.Password == cr.Password {
		t.Fatal("two opens gave the same account or password")
	}
	if _, ok := ag.accounts[guest.Account{Name: other.Username, Host: "10.0.0.0/255.0.0.0"}]; !ok {
		t.Fatalf("accounts %v lack %s@10.0.0.0/255.0.0.0", ag.names(), other.Username)
	}
}

func TestOpenCredentialsDropsExpiredAccountsOnly(t *testing.T) {
	m, ag, c, access := credentialsRig(t)
	expired := guest.Account{Name: "tf_1000000000_deadbeef", Host: "%"}
	live := guest.Account{Name: fmt.Sprintf("tf_%d_0badcafe", time.Now().Add(time.Hour).Unix()), Host: "%"}
	notOurs := guest.Account{Name: "tf_app", Host: "%"}
	for _, a := range []guest.Account{expired, live, notOurs} {
		ag.accounts[a] = guest.User{Name: a.Name, Host: a.Host}
	}
	cr, err := m.OpenCredentials(testContext(t), c.ID, access, CredentialsRequest{Grants: selectOnApp, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cr.Expired, []string{"tf_1000000000_deadbeef@%"}) {
		t.Fatalf("expired = %v", cr.Expired)
	}
	want := []string{cr.Username + "@%", live.Name + "@%", "tf_app@%"}
	slices.Sort(want)
	if got := ag.names(); !slices.Equal(got, want) {
		t.Fatalf("accounts after open = %v, want %v", got, want)
	}
}

func TestCloseCredentialsDropsTheAccount(t *testing.T) {
	m, ag, c, access := credentialsRig(t)
	ctx := testContext(t)
	cr, err := m.OpenCredentials(ctx, c.ID, access, CredentialsRequest{Grants: selectOnApp, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ag.accounts[guest.Account{Name: "tf_app", Host: "%"}] = guest.User{}
	if err := m.CloseCredentials(ctx, c.ID, access, cr.Username); err != nil {
		t.Fatal(err)
	}
	if got := ag.names(); !slices.Equal(got, []string{"tf_app@%"}) {
		t.Fatalf("accounts after close = %v", got)
	}
	// A second close (the account is gone) succeeds.
	if err := m.CloseCredentials(ctx, c.ID, access, cr.Username); err != nil {
		t.Fatal(err)
	}
	if err := m.CloseCredentials(ctx, c.ID, access, "root"); err == nil {
		t.Fatal("close dropped an account that is not a temporary one")
	}
}

func TestOpenCredentialsOnAMissingCluster(t *testing.T) {
	m, _, _, access := credentialsRig(t)
	_, err := m.OpenCredentials(testContext(t), "00000000-0000-0000-0000-000000000000", access, CredentialsRequest{Grants: selectOnApp, TTL: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err = %v, want not found", err)
	}
}

func TestCheckCredentialsRequest(t *testing.T) {
	ok := CredentialsRequest{Grants: selectOnApp, TTL: time.Hour}
	if err := CheckCredentialsRequest(ok); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]CredentialsRequest{
		"short ttl":     {Grants: selectOnApp, TTL: time.Second},
		"long ttl":      {Grants: selectOnApp, TTL: 48 * time.Hour},
		"no grants":     {TTL: time.Hour},
		"bad privilege": {Grants: []guest.Grant{{Privileges: []string{"ALL ON *.* TO x; --"}, On: "*.*"}}, TTL: time.Hour},
		"bad target":    {Grants: []guest.Grant{{Privileges: []string{"SELECT"}, On: "app"}}, TTL: time.Hour},
		"bad host":      {Grants: selectOnApp, TTL: time.Hour, AccountHost: strings.Repeat("h", 256)},
	} {
		if err := CheckCredentialsRequest(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCredentialsExpiryReadsOnlyOurNames(t *testing.T) {
	if exp, ok := credentialsExpiry("tf_1764720000_a1b2c3d4"); !ok || exp.Unix() != 1764720000 {
		t.Fatalf("got %s, %v", exp, ok)
	}
	for _, n := range []string{"tf_app", "tf_1764720000_a1b2c3d", "tf_1764720000_A1B2C3D4", "xtf_1764720000_a1b2c3d4", "root"} {
		if _, ok := credentialsExpiry(n); ok {
			t.Errorf("%q read as a temporary account", n)
		}
	}
}

func TestConnectAddressPrefersTheWriter(t *testing.T) {
	c := threeNodes()
	c.Nodes[0].Role, c.Nodes[1].Role, c.Nodes[2].Role = RoleUnavailable, RoleReader, RoleWriter
	c.Writer = "db-3"
	if got := connectAddress(c); got != "10.0.0.13" {
		t.Fatalf("address = %s, want the writer's", got)
	}
	c.Writer, c.Nodes[2].Role = "", RoleReader
	if got := connectAddress(c); got != "10.0.0.12" {
		t.Fatalf("address = %s, want the first reader's", got)
	}
}
