package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// ChangeImage moves the members node_count makes to spec.Image with a
// rolling Nova rebuild (roll.go): the root disk is new, the port and the
// data volume stay. The rebuilt server has new SSH host keys: they are
// verified again as at create (from the fingerprints the console prints
// after the rebuild) and recorded in c.HostKeys. mysqld, stopped cleanly
// before, rejoins from its kept datadir by IST. Members already on the
// image are skipped, so an apply that stopped part way resumes.
func (m *Manager) ChangeImage(ctx context.Context, c *Cluster, spec Spec) error {
	img, err := m.cloud.ResolveImage(ctx, spec.Image)
	if err != nil {
		return &PhaseError{Phase: PhaseValidate, Err: &ReferenceError{Field: "image", Err: err}}
	}
	todo := NodesNotOn(c, func(n Node) bool { return n.Image == img.ID })
	ch := serverChange{
		phase: PhaseRebuild, attribute: "image",
		change: func(ctx context.Context, n *Node) (string, error) { return m.rebuildNode(ctx, spec, c, n, img) },
		rejoin: func(ctx context.Context, gc GuestCluster, name string) error { return gc.JoinMember(ctx, name) },
	}
	return m.roll(ctx, c, spec, ch, todo)
}

// rebuildNode rebuilds one stopped member's server from img and learns
// its new host key.
func (m *Manager) rebuildNode(ctx context.Context, spec Spec, c *Cluster, n *Node, img openstack.Image) (string, error) {
	// What the console showed before: the fingerprints that count are
	// the ones printed after it.
	before := ""
	if spec.SSH.HostKeyCheck == HostKeyConsole {
		out, err := m.cloud.ConsoleOutput(ctx, n.ServerID, 0)
		if err != nil {
			return "", fmt.Errorf("read the console before the rebuild: %w", err)
		}
		before = out
	}
	if _, err := m.cloud.RebuildServer(ctx, n.ServerID, img.ID); err != nil {
		return "", fmt.Errorf("rebuild from %s: %w", img.Name, err)
	}
	n.Image = img.ID
	var fps []string
	if spec.SSH.HostKeyCheck == HostKeyConsole {
		var err error
		if fps, err = m.waitNewFingerprints(ctx, n, before, orDefault(spec.SSH.HostKeyTimeout, DefaultHostKeyTimeout)); err != nil {
			return "", &PhaseError{Phase: PhaseHostKeys, Node: n.Name, Err: err}
		}
	}
	t, err := accessFor(spec, spec.SSH.PrivateKey, c.HostKeys).target(*n, fps)
	if err != nil {
		return "", err
	}
	seen, err := m.waitSSH(ctx, n, *t, orDefault(spec.SSH.ConnectTimeout, DefaultConnectTimeout))
	if err != nil {
		return "", &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
	}
	if c.HostKeys == nil {
		c.HostKeys = map[string]string{}
	}
	delete(c.HostKeys, n.ServerID)
	if seen != nil {
		c.HostKeys[n.ServerID] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(seen)))
	}
	if err := m.cloud.UpdateServerMetadata(ctx, n.ServerID, map[string]string{metaImage: spec.Image}); err != nil {
		return "", fmt.Errorf("record image %s on the server: %w", spec.Image, err)
	}
	return "rebuilt from " + img.Name + ", host key verified", nil
}

// waitNewFingerprints polls the console until the rebuilt server has
// printed its host key fingerprints after before (the console as it was
// before the rebuild; a console the rebuild started afresh is read whole).
func (m *Manager) waitNewFingerprints(ctx context.Context, n *Node, before string, bound time.Duration) ([]string, error) {
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	defer m.reportWhile(ctx, PhaseHostKeys, n.Name, n.Name+": no new host key fingerprints on the console yet")()
	var last error
	for {
		out, err := m.cloud.ConsoleOutput(wctx, n.ServerID, 0)
		if err == nil {
			fps, ferr := consoleFingerprints(strings.TrimPrefix(out, before))
			if ferr == nil {
				return fps, nil
			}
			err = ferr
		}
		last = err
		select {
		case <-wctx.Done():
			return nil, fmt.Errorf("no new SSH host key fingerprints on the console of server %s %s after its rebuild (ssh.host_key_timeout): %v",
				n.ServerID, bound, last)
		case <-time.After(time.Second):
		}
	}
}
