package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// PhaseTLS is TLS work on a running cluster: turning it on or off, a mode
// change, certificates renewed.
const PhaseTLS = "tls"

// TLSChange is what changes in the TLS of a running cluster.
type TLSChange struct {
	// Enable: the servers run plain and the spec encrypts. Disable: the
	// reverse. Either is two rolling restarts (every node accepts plain
	// and TLS peers during the first) and the option files rewritten for
	// the state transfers (guest/tlsroll.go), quorum kept throughout;
	// Percona cannot (no socket.dynamic) and is refused.
	Enable, Disable bool
	// Mode: required <-> preferred on an encrypting cluster: one rolling
	// restart with the new option file.
	Mode bool
	// Renew: every node gets a new certificate, reloaded without a restart
	// (FLUSH SSL, socket.ssl_reload), one node at a time. With NewCA the
	// CA changes: every node first trusts the bundle of old and new CA
	// (spec.TLS.CABundle), so no peer or client breaks mid-roll.
	Renew, NewCA bool
}

// Empty reports whether nothing changes.
func (ch TLSChange) Empty() bool {
	return !ch.Enable && !ch.Disable && !ch.Mode && !ch.Renew
}

// Restarts reports whether the change restarts servers (a rolling
// restart), as a plan would say.
func (ch TLSChange) Restarts() bool { return ch.Enable || ch.Disable || ch.Mode }

// DiffTLS compares the TLS mode the servers run with (from, "" read as
// disabled) and the spec's; renewal is the caller's decision (expiry,
// validity or CA changed).
func DiffTLS(from string, to TLSSpec) TLSChange {
	on := func(m string) bool { return m != "" && m != TLSDisabled }
	var ch TLSChange
	switch {
	case !on(from) && on(to.Mode):
		ch.Enable = true
	case on(from) && to.Mode == TLSDisabled:
		ch.Disable = true
	case on(from) && on(to.Mode) && from != to.Mode:
		ch.Mode = true
	}
	return ch
}

// ChangeTLS gives a running cluster the spec's TLS: the rolls of an
// enable, disable or mode change in RestartOrder (the writer last, moved
// away first, each node Synced and ONLINE in the pools before the next),
// then a renewal when asked. from is the TLS the servers run with now
// (its CA, for the first roll of a disable).
func (m *Manager) ChangeTLS(ctx context.Context, c *Cluster, from TLSSpec, spec Spec, ch TLSChange) (err error) {
	if ch.Empty() {
		return nil
	}
	if (ch.Enable || ch.Disable) && !guest.CanRollTLS(guest.Flavour(spec.Datastore.Type)) {
		return &PhaseError{Phase: PhaseTLS, Err: fmt.Errorf("%s cannot turn TLS on or off by rolling restarts (no socket.dynamic); "+
			"build a new cluster with the TLS wanted and move the data (a backup restored into it)", spec.Datastore.Type)}
	}
	// The guests of each step run the step's mode (openGuests reads the
	// recorded one); the record follows once the servers do.
	recorded, rewritten := c.Requested.TLSMode, false
	defer func() {
		if err != nil && !rewritten {
			c.Requested.TLSMode = recorded
		}
	}()
	c.Requested.TLSMode = spec.TLS.Mode
	switch {
	case ch.Enable:
		// Certificates first, on every node: the running servers ignore
		// them until their restart.
		if err := m.eachGuest(ctx, c, spec, func(gc GuestCluster, name string) error {
			return gc.EnsureTLSFiles(ctx, name)
		}); err != nil {
			return err
		}
		if err := m.RollingRestart(ctx, c, tlsStep(spec, spec.TLS, true, true), "turning TLS on, roll 1 of 2: TLS and plain peers accepted"); err != nil {
			return err
		}
		if err := m.RollingRestart(ctx, c, tlsStep(spec, spec.TLS, false, true), "turning TLS on, roll 2 of 2: "+spec.TLS.Mode); err != nil {
			return err
		}
		// Transfers encrypted from now on: the SST scripts read the
		// option file at each transfer, nothing restarts.
		if err := m.writeOptionFiles(ctx, c, spec); err != nil {
			return err
		}
		if err := m.recordTLSMode(ctx, c, spec.TLS.Mode); err != nil {
			return err
		}
		rewritten = true
	case ch.Disable:
		// The reverse: plain transfers first (option files), a roll that
		// accepts both (the nodes keep their files), then the plain roll.
		was := from
		was.CAKey = "" // nothing is issued
		if err := m.writeOptionFiles(ctx, c, tlsStep(spec, was, false, true)); err != nil {
			return err
		}
		was.Mode = TLSPreferred
		c.Requested.TLSMode = TLSPreferred
		if err := m.RollingRestart(ctx, c, tlsStep(spec, was, true, true), "turning TLS off, roll 1 of 2: TLS and plain peers accepted"); err != nil {
			return err
		}
		c.Requested.TLSMode = TLSDisabled
		if err := m.RollingRestart(ctx, c, spec, "turning TLS off, roll 2 of 2"); err != nil {
			return err
		}
		if err := m.recordTLSMode(ctx, c, TLSDisabled); err != nil {
			return err
		}
		rewritten = true
	case ch.Mode:
		if err := m.RollingRestart(ctx, c, spec, "tls.mode "+spec.TLS.Mode); err != nil {
			return err
		}
		if err := m.recordTLSMode(ctx, c, spec.TLS.Mode); err != nil {
			return err
		}
		rewritten = true
	}
	c.Requested.TLSMode = spec.TLS.Mode
	if ch.Renew && !ch.Enable && spec.TLS.enabled() {
		if err := m.renewTLS(ctx, c, spec, ch.NewCA); err != nil {
			return err
		}
	}
	// What the certificates now say, as the next read will find it.
	c.CertificatesExpire = time.Time{}
	if spec.TLS.enabled() {
		gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), nil)
		if err != nil {
			return err
		}
		defer gc.Close()
		readCertificatesExpire(ctx, c, spec, gc)
	}
	return nil
}

// recordTLSMode rewrites the mode every server records (metadata
// pxc_tls), which later reads and imports take as what the servers run.
func (m *Manager) recordTLSMode(ctx context.Context, c *Cluster, mode string) error {
	for _, n := range c.Nodes {
		if err := m.cloud.UpdateServerMetadata(ctx, n.ServerID, map[string]string{metaTLS: mode}); err != nil {
			return &PhaseError{Phase: PhaseTLS, Node: n.Name, Err: fmt.Errorf("record tls mode %s in the server's metadata: %w", mode, err)}
		}
	}
	c.Requested.TLSMode = mode
	return nil
}

// tlsStep is spec with tls in the form of one step of a change.
func tlsStep(spec Spec, tls TLSSpec, transition, plainSST bool) Spec {
	tls.Transition, tls.PlainSST = transition, plainSST
	spec.TLS = tls
	return spec
}

// writeOptionFiles rewrites every node's option file from spec; nothing
// restarts.
func (m *Manager) writeOptionFiles(ctx context.Context, c *Cluster, spec Spec) error {
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	if err := gc.ApplySettings(ctx, guest.SettingsChange{}); err != nil {
		return guestDayTwoError(PhaseTLS, err)
	}
	return nil
}

// renewTLS gives every node a new certificate without a restart, one
// node at a time in RestartOrder; with a new CA, every node trusts the
// bundle (old and new CA) before any presents a certificate of the new.
func (m *Manager) renewTLS(ctx context.Context, c *Cluster, spec Spec, newCA bool) error {
	if spec.TLS.CAKey == "" {
		return &PhaseError{Phase: PhaseTLS, Err: errors.New("the CA's key is not known, so no certificate can be renewed: give tls.ca_cert and tls.ca_key")}
	}
	if newCA {
		bundle := spec.TLS.CABundle
		if bundle == "" {
			bundle = spec.TLS.CACert
		}
		if err := m.eachGuest(ctx, c, spec, func(gc GuestCluster, name string) error {
			start := time.Now()
			if err := gc.WriteCABundle(ctx, name, bundle); err != nil {
				return err
			}
			if err := gc.ReloadTLS(ctx, name); err != nil {
				return err
			}
			m.progress(ctx, PhaseTLS, name, name+": trusts the old and the new CA", start)
			return nil
		}); err != nil {
			return err
		}
	}
	return m.eachGuest(ctx, c, spec, func(gc GuestCluster, name string) error {
		start := time.Now()
		if err := gc.EnsureTLSFiles(ctx, name); err != nil {
			return err
		}
		if err := gc.ReloadTLS(ctx, name); err != nil {
			return err
		}
		m.progress(ctx, PhaseTLS, name, name+": new certificate in use (no restart), Synced", start)
		return nil
	})
}

// eachGuest runs f for every member in RestartOrder on one guest handle
// opened with spec; an error names the node.
func (m *Manager) eachGuest(ctx context.Context, c *Cluster, spec Spec, f func(gc GuestCluster, name string) error) error {
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	for _, name := range RestartOrder(c) {
		if err := f(gc, name); err != nil {
			pe := guestDayTwoError(PhaseTLS, err)
			if pe.Node == "" {
				pe.Node = name
			}
			return pe
		}
	}
	return nil
}

// RenewBefore is how long before a server certificate expires a plan
// renews it.
const RenewBefore = 30 * 24 * time.Hour

// readCertificatesExpire records when the first node certificate expires
// (a read's part: failures leave it zero).
func readCertificatesExpire(ctx context.Context, c *Cluster, spec Spec, gc GuestCluster) {
	if !spec.TLS.enabled() || spec.TLS.Mode == "" {
		return
	}
	exp, err := gc.CertificateExpiry(ctx)
	if err != nil {
		return
	}
	c.CertificatesExpire = time.Time{}
	for _, t := range exp {
		if c.CertificatesExpire.IsZero() || t.Before(c.CertificatesExpire) {
			c.CertificatesExpire = t
		}
	}
}

// RenewalDue says whether a certificate that expires at exp is renewed
// now.
func RenewalDue(exp, now time.Time) bool {
	return !exp.IsZero() && exp.Sub(now) < RenewBefore
}
