package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// ChangeFlavor moves the members node_count makes to spec.Flavor with a
// rolling Nova resize (roll.go): each resize waits for VERIFY_RESIZE, the
// server must answer SSH with its recorded host key on the new flavor
// before the resize is confirmed (else it is reverted), and mysqld rejoins
// after the reboot. A resize Nova refuses leaves the server on its old
// flavor; one that reached VERIFY_RESIZE and then failed is reverted.
// Either way the roll stops there with the node back in the cluster and an
// error naming it. Members already on the flavor (Nova says so) are
// skipped, so an apply that stopped part way resumes on the others.
func (m *Manager) ChangeFlavor(ctx context.Context, c *Cluster, spec Spec) error {
	f, err := m.cloud.ResolveFlavor(ctx, spec.Flavor)
	if err != nil {
		return &PhaseError{Phase: PhaseValidate, Err: &ReferenceError{Field: "flavor", Err: err}}
	}
	todo := NodesNotOn(c, func(n Node) bool { return n.Flavor == f.Name })
	ch := serverChange{
		phase: PhaseResize, attribute: "flavor",
		change: func(ctx context.Context, n *Node) (string, error) { return m.resizeNode(ctx, spec, c, n, f) },
		rejoin: repairRejoin,
	}
	return m.roll(ctx, c, spec, ch, todo)
}

// NodesNotOn names the members node_count makes (data nodes, not a
// pxc_node's) for which on is false, in node order: the nodes a roll
// still has to change.
func NodesNotOn(c *Cluster, on func(Node) bool) []string {
	var out []string
	for _, n := range c.Nodes {
		if !n.Extra && n.Kind == KindData && !on(n) {
			out = append(out, n.Name)
		}
	}
	return out
}

// resizeNode resizes one stopped member's server to flavor f.
func (m *Manager) resizeNode(ctx context.Context, spec Spec, c *Cluster, n *Node, f openstack.Flavor) (string, error) {
	s, err := m.cloud.ResizeServer(ctx, n.ServerID, f.ID)
	if err != nil {
		if s.Status == "VERIFY_RESIZE" {
			return "", m.revertResize(ctx, spec, c, n, err)
		}
		var refused *openstack.ResizeFailedError
		if errors.As(err, &refused) || gophercloud.ResponseCodeIs(err, 400) || gophercloud.ResponseCodeIs(err, 403) || gophercloud.ResponseCodeIs(err, 409) {
			return "", fmt.Errorf("resize to %s failed; the server is still on %s: %w", f.Name, n.Flavor, err)
		}
		return "", fmt.Errorf("resize to %s: %w", f.Name, err)
	}
	if s.Status == "VERIFY_RESIZE" {
		// Confirm only a server that came up on the new flavor.
		if err := m.waitNodeSSH(ctx, spec, c, n); err != nil {
			return "", m.revertResize(ctx, spec, c, n, fmt.Errorf("the server did not answer on flavor %s: %w", f.Name, err))
		}
		if _, err := m.cloud.ConfirmResize(ctx, n.ServerID); err != nil {
			return "", fmt.Errorf("confirm the resize to %s: %w", f.Name, err)
		}
	}
	n.Flavor = f.Name
	if err := m.cloud.UpdateServerMetadata(ctx, n.ServerID, map[string]string{metaFlavor: spec.Flavor}); err != nil {
		return "", fmt.Errorf("record flavor %s on the server: %w", spec.Flavor, err)
	}
	if err := m.waitNodeSSH(ctx, spec, c, n); err != nil {
		return "", err
	}
	return "resized to " + f.Name, nil
}

// revertResize takes a resize in VERIFY_RESIZE back to the old flavor
// after cause and waits until the server answers SSH again.
func (m *Manager) revertResize(ctx context.Context, spec Spec, c *Cluster, n *Node, cause error) error {
	if _, err := m.cloud.RevertResize(ctx, n.ServerID); err != nil {
		return errors.Join(cause, fmt.Errorf("reverting the resize failed too: %w", err))
	}
	if err := m.waitNodeSSH(ctx, spec, c, n); err != nil {
		return errors.Join(fmt.Errorf("%w; the resize was reverted to %s", cause, n.Flavor), err)
	}
	return fmt.Errorf("%w; the resize was reverted to %s", cause, n.Flavor)
}

// waitNodeSSH waits until node n's server answers SSH with its recorded
// host key (after a reboot).
func (m *Manager) waitNodeSSH(ctx context.Context, spec Spec, c *Cluster, n *Node) error {
	t, err := accessFor(spec, spec.SSH.PrivateKey, c.HostKeys).target(*n, nil)
	if err != nil {
		return err
	}
	if _, err := m.waitSSH(ctx, n, *t, orDefault(spec.SSH.ConnectTimeout, DefaultConnectTimeout)); err != nil {
		return fmt.Errorf("SSH after the reboot: %w", err)
	}
	return nil
}
