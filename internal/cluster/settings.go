package cluster

import (
	"context"
	"errors"
	"sort"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// SettingsChange is what differs between a running cluster's settings and
// the spec's, for the changes that need no restart.
type SettingsChange struct {
	// Parameters whose value is new or changed, and those removed.
	SetParameters   []string
	ResetParameters []string
	// FailureDetection and SSTMethod changed.
	FailureDetection bool
	SSTMethod        bool
}

// Empty reports whether nothing changes.
func (ch SettingsChange) Empty() bool {
	return len(ch.SetParameters) == 0 && len(ch.ResetParameters) == 0 && !ch.FailureDetection && !ch.SSTMethod
}

// Parameters are every parameter the change touches, sorted.
func (ch SettingsChange) Parameters() []string {
	names := append(append([]string(nil), ch.SetParameters...), ch.ResetParameters...)
	sort.Strings(names)
	return names
}

// DiffSettings compares the settings of two specs: from what the cluster
// runs with to what it should.
func DiffSettings(from, to Spec) SettingsChange {
	var ch SettingsChange
	for k, v := range to.Parameters {
		if old, ok := from.Parameters[k]; !ok || old != v {
			ch.SetParameters = append(ch.SetParameters, k)
		}
	}
	for k := range from.Parameters {
		if _, ok := to.Parameters[k]; !ok {
			ch.ResetParameters = append(ch.ResetParameters, k)
		}
	}
	sort.Strings(ch.SetParameters)
	sort.Strings(ch.ResetParameters)
	ch.FailureDetection = from.FailureDetection != to.FailureDetection
	ch.SSTMethod = from.SSTMethod != to.SSTMethod
	return ch
}

// StaticParameters returns which of the named parameters the servers
// cannot change while running (they would need a restart of every node).
func (m *Manager) StaticParameters(ctx context.Context, c *Cluster, spec Spec, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), nil)
	if err != nil {
		return nil, err
	}
	defer gc.Close()
	static, err := gc.StaticVariables(ctx, names)
	if err != nil {
		return nil, &PhaseError{Phase: PhaseSettings, Err: err}
	}
	return static, nil
}

// ApplySettings gives every node the spec's settings without a restart:
// option files rewritten and the change set with SET GLOBAL, one node at a
// time. Static parameters must have been refused before (StaticParameters).
func (m *Manager) ApplySettings(ctx context.Context, c *Cluster, spec Spec, ch SettingsChange) error {
	if ch.Empty() {
		return nil
	}
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	err = gc.ApplySettings(ctx, guest.SettingsChange{
		Set: ch.SetParameters, Reset: ch.ResetParameters, ProviderOptions: ch.FailureDetection, SSTMethod: ch.SSTMethod,
	})
	if err != nil {
		return guestDayTwoError(PhaseSettings, err)
	}
	return nil
}

// RotateRootPassword moves a running cluster to spec.RootPassword: the
// accounts change once (they replicate), then every node's credentials
// (root's client file, SST and clustercheck accounts derived from it).
func (m *Manager) RotateRootPassword(ctx context.Context, c *Cluster, spec Spec) error {
	gc, err := m.openGuests(spec, c, accessFor(spec, spec.SSH.PrivateKey, c.HostKeys), m.observer(ctx))
	if err != nil {
		return err
	}
	defer gc.Close()
	if err := gc.RotateRootPassword(ctx, clientRootUsers(spec)...); err != nil {
		return guestDayTwoError(PhaseRootPassword, err)
	}
	return nil
}

// guestDayTwoError names the phase and the node a day-2 guest step failed on.
func guestDayTwoError(phase string, err error) *PhaseError {
	var ne *guest.NodeError
	if errors.As(err, &ne) {
		return &PhaseError{Phase: phase, Node: ne.Node, Err: ne.Err}
	}
	return &PhaseError{Phase: phase, Err: err}
}
