package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func tlsCalls(r *rig, from int) []string {
	var out []string
	for _, c := range r.log.all()[from:] {
		for _, p := range []string{"RestartMember ", "MoveWriter ", "EnsureTLSFiles ", "WriteCABundle ", "ReloadTLS ", "ApplySettings"} {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestDiffTLS(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     TLSChange
	}{
		{"", TLSRequired, TLSChange{Enable: true}},
		{TLSDisabled, TLSPreferred, TLSChange{Enable: true}},
		{TLSRequired, TLSDisabled, TLSChange{Disable: true}},
		{TLSPreferred, TLSRequired, TLSChange{Mode: true}},
		{TLSRequired, TLSRequired, TLSChange{}},
		{"", TLSDisabled, TLSChange{}},
	} {
		if got := DiffTLS(tc.from, TLSSpec{Mode: tc.to}); got != tc.want {
			t.Errorf("DiffTLS(%q, %q) = %+v, want %+v", tc.from, tc.to, got, tc.want)
		}
	}
}

// Turning TLS on: every node's files first, then two rolls in
// RestartOrder, the writer moved away before its restart in each; the
// first roll's guest spec is the transition, the second's the final.
func TestChangeTLSEnableRollsTwice(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	spec.TLS.Mode = TLSDisabled
	c := builtSpecCluster(t, r, &spec)
	c.Writer = "db-1"
	r.guests.writer = "db-1"
	cert, key, err := NewCA(spec.Name, DefaultCAValidity)
	if err != nil {
		t.Fatal(err)
	}
	to := spec
	to.TLS = TLSSpec{Mode: TLSRequired, CACert: cert, CAKey: key}
	ch := DiffTLS(spec.TLS.Mode, to.TLS)
	if !ch.Restarts() {
		t.Fatal("turning TLS on must say it restarts")
	}
	mark, specsMark := len(r.log.all()), len(r.guests.specs)
	if err := r.m.ChangeTLS(ctx, c, spec.TLS, to, ch); err != nil {
		t.Fatal(err)
	}
	want := "EnsureTLSFiles db-2,EnsureTLSFiles db-3,EnsureTLSFiles db-1," +
		"RestartMember db-2,RestartMember db-3,MoveWriter db-1,RestartMember db-1," +
		"RestartMember db-1,RestartMember db-3,MoveWriter db-2,RestartMember db-2,ApplySettings db"
	if got := strings.Join(tlsCalls(r, mark), ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	specs := r.guests.specs[specsMark:]
	if len(specs) != 5 {
		t.Fatalf("%d guest handles opened, want 5 (files, roll 1, roll 2, option files, certificates read)", len(specs))
	}
	for i, want := range [][2]bool{{false, false}, {true, true}, {false, true}, {false, false}, {false, false}} {
		tl := specs[i].TLS
		if tl == nil || string(tl.Mode) != TLSRequired || tl.Transition != want[0] || tl.PlainSST != want[1] || tl.Issue == nil {
			t.Errorf("guest spec %d: TLS %+v, want required, transition %v, plain SST %v, an issuer", i, tl, want[0], want[1])
		}
	}
	for _, n := range c.Nodes {
		if got := r.cloud.servers[n.ServerID].Metadata[metaTLS]; got != TLSRequired {
			t.Errorf("%s records tls mode %q, want required", n.Name, got)
		}
	}
	if c.Requested.TLSMode != TLSRequired {
		t.Errorf("cluster records %q", c.Requested.TLSMode)
	}
	// A failure on a node stops the change there, named, and the cluster
	// keeps the mode it recorded.
	c.Requested.TLSMode = TLSDisabled
	r.guests.restartErr = map[string]error{"db-3": errors.New("did not rejoin")}
	err = r.m.ChangeTLS(ctx, c, spec.TLS, to, ch)
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Node != "db-3" {
		t.Errorf("err %v, want one naming db-3", err)
	}
	if c.Requested.TLSMode != TLSDisabled {
		t.Errorf("after a failed roll the cluster records %q, want disabled", c.Requested.TLSMode)
	}
	// Percona cannot roll it.
	p := to
	p.Datastore = Datastore{Type: "percona", Version: "8.0"}
	if err := r.m.ChangeTLS(ctx, c, spec.TLS, p, ch); err == nil || !strings.Contains(err.Error(), "no socket.dynamic") {
		t.Errorf("percona: %v", err)
	}
}

// A renewal restarts nothing: with a new CA, every node trusts the bundle
// first, then every node gets its new certificate, reloaded, in
// RestartOrder. Without the CA's key nothing can be renewed.
func TestChangeTLSRenewWithoutRestart(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	c.Writer = "db-2"
	r.guests.writer = "db-2"
	cert, key, err := NewCA(spec.Name, DefaultCAValidity)
	if err != nil {
		t.Fatal(err)
	}
	to := spec
	to.TLS = TLSSpec{Mode: TLSRequired, CACert: cert, CAKey: key, CABundle: c.CACertificate + cert}
	ch := TLSChange{Renew: true, NewCA: true}
	if ch.Restarts() {
		t.Fatal("a renewal must not say it restarts")
	}
	mark := len(r.log.all())
	if err := r.m.ChangeTLS(ctx, c, spec.TLS, to, ch); err != nil {
		t.Fatal(err)
	}
	want := "WriteCABundle db-1,ReloadTLS db-1,WriteCABundle db-3,ReloadTLS db-3,WriteCABundle db-2,ReloadTLS db-2," +
		"EnsureTLSFiles db-1,ReloadTLS db-1,EnsureTLSFiles db-3,ReloadTLS db-3,EnsureTLSFiles db-2,ReloadTLS db-2"
	if got := strings.Join(tlsCalls(r, mark), ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	r.guests.reloadErr = map[string]error{"db-3": errors.New("reload refused")}
	err = r.m.ChangeTLS(ctx, c, spec.TLS, to, TLSChange{Renew: true})
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Node != "db-3" || pe.Phase != PhaseTLS {
		t.Errorf("err %v, want the tls phase on db-3", err)
	}
	to.TLS.CAKey = ""
	if err := r.m.ChangeTLS(ctx, c, spec.TLS, to, TLSChange{Renew: true}); err == nil || !strings.Contains(err.Error(), "key is not known") {
		t.Errorf("renewal without the CA key: %v", err)
	}
}

// A read records the first node certificate to expire; a renewal is due
// 30 days before.
func TestCertificatesExpire(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c := builtSpecCluster(t, r, &spec)
	soon, later := time.Now().Add(20*24*time.Hour), time.Now().Add(200*24*time.Hour)
	r.guests.expiry = map[string]time.Time{"db-1": later, "db-2": soon, "db-3": later}
	got, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CertificatesExpire.Equal(soon) {
		t.Errorf("CertificatesExpire %v, want %v", got.CertificatesExpire, soon)
	}
	if !RenewalDue(soon, time.Now()) || RenewalDue(later, time.Now()) || RenewalDue(time.Time{}, time.Now()) {
		t.Error("RenewalDue")
	}
}
