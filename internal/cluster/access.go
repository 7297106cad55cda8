package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// guestAccess is what reaching the guests takes.
type guestAccess struct {
	user       string
	privateKey string
	check      string
	knownHosts string
	hostKeys   map[string]string // server id -> authorized_keys line
	// fingerprints from the console, for servers with no recorded key (import).
	fingerprints map[string][]string
	bastion      *BastionSpec
}

func accessFor(spec Spec, privateKey string, hostKeys map[string]string) guestAccess {
	return guestAccess{
		user: spec.SSH.User, privateKey: privateKey, check: spec.SSH.HostKeyCheck,
		knownHosts: spec.SSH.KnownHostsFile, hostKeys: hostKeys, bastion: spec.SSH.Bastion,
	}
}

// target is how to reach node n, its host key checked against the given
// fingerprints, else the recorded key, else the console's fingerprints.
func (a guestAccess) target(n Node, fingerprints []string) (*guest.SSHTarget, error) {
	t := &guest.SSHTarget{Addr: n.IP, User: a.user, PrivateKey: []byte(a.privateKey)}
	switch {
	case a.check == HostKeyInsecure:
		t.InsecureIgnoreHostKey = true
	case a.check == HostKeyKnownHosts:
		t.KnownHostsFile = a.knownHosts
	case len(fingerprints) > 0:
		t.HostKeyFingerprints = fingerprints
	case a.hostKeys[n.ServerID] == "" && len(a.fingerprints[n.ServerID]) > 0:
		t.HostKeyFingerprints = a.fingerprints[n.ServerID]
	default:
		line, ok := a.hostKeys[n.ServerID]
		if !ok {
			return nil, fmt.Errorf("no verified host key recorded for server %s", n.ServerID)
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("recorded host key of server %s: %w", n.ServerID, err)
		}
		t.HostKeys = []ssh.PublicKey{key}
	}
	if a.bastion != nil {
		bt, err := a.bastionTarget()
		if err != nil {
			return nil, err
		}
		t.Bastion = bt
	}
	return t, nil
}

func (a guestAccess) bastionTarget() (*guest.SSHTarget, error) {
	b := a.bastion
	bt := &guest.SSHTarget{Addr: fmt.Sprintf("%s:%d", b.Host, b.Port), User: b.User, PrivateKey: []byte(b.PrivateKey)}
	if b.PrivateKey == "" {
		bt.PrivateKey = []byte(a.privateKey)
	}
	switch {
	case b.HostKey != "":
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(b.HostKey))
		if err != nil {
			return nil, fmt.Errorf("ssh.bastion.host_key: %w", err)
		}
		bt.HostKeys = []ssh.PublicKey{key}
	case a.check == HostKeyInsecure:
		bt.InsecureIgnoreHostKey = true
	case a.check == HostKeyKnownHosts:
		bt.KnownHostsFile = a.knownHosts
	default:
		return nil, errors.New("ssh.bastion.host_key is required unless ssh.host_key_check is insecure or known_hosts")
	}
	return bt, nil
}

// Bounds of the waits for a new server, when the spec gives none: the
// console usually shows the fingerprints and sshd answers within a minute
// of ACTIVE; far longer means something the user must fix, not patience.
const (
	DefaultHostKeyTimeout = 5 * time.Minute
	DefaultConnectTimeout = 5 * time.Minute
)

// waitReportEvery is how often a wait for a server logs that it still waits.
var waitReportEvery = 30 * time.Second

// hostKeyVerifier reads each new server's host key fingerprints from its
// Nova console (console mode), connects over SSH checking the key against
// them, and records the verified keys in the cluster for later
// connections. verify runs per node as its server comes up (a placement's
// onActive), beside the attach of its volume.
type hostKeyVerifier struct {
	m    *Manager
	spec Spec
	a    guestAccess
	keys []string // by node index - 1
}

func (m *Manager) newHostKeyVerifier(ctx context.Context, spec Spec, c *Cluster, a guestAccess) *hostKeyVerifier {
	if spec.SSH.HostKeyCheck == HostKeyInsecure {
		m.log.Warn(ctx, "ssh.host_key_check is insecure: the servers' SSH host keys are not verified")
	}
	return &hostKeyVerifier{m: m, spec: spec, a: a, keys: make([]string, len(c.Nodes))}
}

// verify checks node n's host key.
func (v *hostKeyVerifier) verify(ctx context.Context, n *Node) error {
	key, err := v.m.nodeHostKey(ctx, v.spec, v.a, n)
	v.keys[n.Index-1] = key
	return err
}

// record keeps the verified keys in c.HostKeys, by server id.
func (v *hostKeyVerifier) record(c *Cluster) {
	c.HostKeys = map[string]string{}
	for i, n := range c.Nodes {
		if v.keys[i] != "" {
			c.HostKeys[n.ServerID] = v.keys[i]
		}
	}
}

// nodeHostKey verifies one new server's host key (from its console in
// console mode) over SSH and returns it in authorized_keys format, empty
// when the check is off.
func (m *Manager) nodeHostKey(ctx context.Context, spec Spec, a guestAccess, n *Node) (string, error) {
	var fps []string
	if spec.SSH.HostKeyCheck == HostKeyConsole {
		var err error
		if fps, err = m.waitConsoleFingerprints(ctx, n, orDefault(spec.SSH.HostKeyTimeout, DefaultHostKeyTimeout)); err != nil {
			return "", &PhaseError{Phase: PhaseHostKeys, Node: n.Name, Err: err}
		}
	}
	t, err := a.target(*n, fps)
	if err != nil {
		return "", err
	}
	seen, err := m.waitSSH(ctx, n, *t, orDefault(spec.SSH.ConnectTimeout, DefaultConnectTimeout))
	if err != nil {
		return "", &PhaseError{Phase: PhaseSSH, Node: n.Name, Err: err}
	}
	if seen == nil {
		return "", nil
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(seen))), nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// waitConsoleFingerprints polls the server's console until cloud-init has
// printed the host key fingerprints, for at most bound.
func (m *Manager) waitConsoleFingerprints(ctx context.Context, n *Node, bound time.Duration) ([]string, error) {
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	defer m.reportWhile(ctx, PhaseHostKeys, n.Name, n.Name+": no host key fingerprints on the console yet")()
	// cloud-init's final stage prints the block seconds after sshd
	// answers (Nova's ACTIVE here): a look every second for the first
	// consoleSteady finds it at most a second late, where a doubling
	// interval found it up to four; a slow image backs off after.
	delay, start := time.Second, time.Now()
	for {
		out, err := m.cloud.ConsoleOutput(wctx, n.ServerID, 0)
		if err == nil {
			fps, ferr := consoleFingerprints(out)
			if ferr == nil {
				return fps, nil
			}
			err = ferr
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return nil, fmt.Errorf("read host key fingerprints from the console of server %s: %w (last: %v)", n.ServerID, ctx.Err(), err)
			}
			return nil, fmt.Errorf("no SSH host key fingerprints on the console of server %s after %s (ssh.host_key_timeout). "+
				"Check that the image runs cloud-init and that cloud-init prints the key fingerprints to the console "+
				"(`openstack console log show %s` shows a %s block), or set ssh.host_key_check = %q with ssh.known_hosts_file. Last: %v",
				n.ServerID, bound, n.ServerID, fingerprintsBegin, HostKeyKnownHosts, err)
		case <-time.After(delay):
		}
		if time.Since(start) >= consoleSteady {
			delay = min(delay*2, 10*time.Second)
		}
	}
}

// consoleSteady is how long waitConsoleFingerprints looks every second.
const consoleSteady = 10 * time.Second

// waitSSH connects to the server, retrying while sshd does not answer, for
// at most bound, and returns the host key it presented. A host key that
// does not match fails at once.
func (m *Manager) waitSSH(ctx context.Context, n *Node, t guest.SSHTarget, bound time.Duration) (ssh.PublicKey, error) {
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	defer m.reportWhile(ctx, PhaseSSH, n.Name, fmt.Sprintf("%s: SSH to %s as %s not answering yet", n.Name, t.Addr, t.User))()
	seen, err := m.guests.HostKey(wctx, t)
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil, fmt.Errorf("no SSH answer from %s as %q after %s (ssh.connect_timeout). "+
			"Check that the security group lets this machine reach port 22 (ssh.source_cidrs), that a route leads from here to the server's network "+
			"(or set ssh.bastion), and that %q is the login user of the image (ssh.user). Last: %w", t.Addr, t.User, bound, t.User, err)
	}
	return seen, err
}

// reportWhile logs msg with the time waited at INFO every waitReportEvery
// until the returned stop is called, so a long wait is never silent.
func (m *Manager) reportWhile(ctx context.Context, phase, node, msg string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(waitReportEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				m.log.Progress(ctx, Event{Phase: phase, Node: node, Message: msg, Duration: time.Since(start).Round(100 * time.Millisecond)})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// consoleFingerprintsOf reads the console of servers whose host key was
// never recorded (an imported cluster).
func (m *Manager) consoleFingerprintsOf(ctx context.Context, nodes []Node, known map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, n := range nodes {
		if known[n.ServerID] != "" {
			continue
		}
		console, err := m.cloud.ConsoleOutput(ctx, n.ServerID, 0)
		if err != nil {
			continue
		}
		if fps, err := consoleFingerprints(console); err == nil {
			out[n.ServerID] = fps
		}
	}
	return out
}
