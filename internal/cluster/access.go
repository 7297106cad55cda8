package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	cue  *consoleCue
}

func (m *Manager) newHostKeyVerifier(ctx context.Context, spec Spec, c *Cluster, a guestAccess) *hostKeyVerifier {
	if spec.SSH.HostKeyCheck == HostKeyInsecure {
		m.log.Warn(ctx, "ssh.host_key_check is insecure: the servers' SSH host keys are not verified")
	}
	return &hostKeyVerifier{m: m, spec: spec, a: a, keys: make([]string, len(c.Nodes)), cue: newConsoleCue()}
}

// verify checks node n's host key.
func (v *hostKeyVerifier) verify(ctx context.Context, n *Node) error {
	key, err := v.m.nodeHostKeyCued(ctx, v.spec, v.a, n, v.cue)
	v.keys[n.Index-1] = key
	return err
}

// target is how to reach node n once verify has checked its key.
func (v *hostKeyVerifier) target(n *Node) (*guest.SSHTarget, error) {
	a := v.a
	a.hostKeys = map[string]string{n.ServerID: v.keys[n.Index-1]}
	return a.target(*n, nil)
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
	return m.nodeHostKeyCued(ctx, spec, a, n, nil)
}

// nodeHostKeyCued is nodeHostKey for one of servers booted together, whose
// console reads follow cue (nil: on their own).
func (m *Manager) nodeHostKeyCued(ctx context.Context, spec Spec, a guestAccess, n *Node, cue *consoleCue) (string, error) {
	var fps []string
	if spec.SSH.HostKeyCheck == HostKeyConsole {
		var err error
		if fps, err = m.waitConsoleFingerprints(ctx, n, orDefault(spec.SSH.HostKeyTimeout, DefaultHostKeyTimeout), cue); err != nil {
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

// waitConsoleFingerprints reads the server's console until cloud-init has
// printed the host key fingerprints, for at most bound: at once (an image
// that prints them early, or an init-less host, is done), then on a backoff
// schedule, or, for one of servers booted together, when cue says another
// one's console showed them.
func (m *Manager) waitConsoleFingerprints(ctx context.Context, n *Node, bound time.Duration, cue *consoleCue) ([]string, error) {
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	defer m.reportWhile(ctx, PhaseHostKeys, n.Name, n.Name+": no host key fingerprints on the console yet")()
	read := func() ([]string, error) {
		out, err := m.cloud.ConsoleOutput(wctx, n.ServerID, 0)
		if err != nil {
			return nil, err
		}
		return consoleFingerprints(out)
	}
	fps, err := read()
	// The boot user data prints the block before sshd starts, so the
	// read at once finds it; an image that ignores it shows cloud-init's
	// block, from its final stage, seconds after sshd answers (Nova's
	// ACTIVE here): the prober looks first after a second,
	// then every consoleProbeEvery for the first consoleSteady, so it
	// finds the block at most half a second late (a doubling interval
	// found it up to four late); a slow image backs off after.
	delay, start := time.Second, time.Now()
	probe := false // this wait reads on the schedule, for those waiting on cue
	for err != nil {
		var shown <-chan struct{}
		if !probe {
			shown, probe = cue.await()
			if probe && time.Since(start) >= time.Second {
				// Taking over from a prober that found its block: this
				// wait is past its first second, so on the steady beat.
				delay = consoleProbeEvery
			}
		}
		if probe {
			select {
			case <-wctx.Done():
			case <-time.After(delay):
				fps, err = read()
			}
			if err == nil || wctx.Err() != nil {
				cue.release()
			}
			if time.Since(start) >= consoleSteady {
				delay = min(max(delay, time.Second)*2, 10*time.Second)
			} else {
				delay = consoleProbeEvery
			}
		} else {
			select {
			case <-wctx.Done():
			case <-shown:
				fps, err = read()
			}
		}
		if err != nil && wctx.Err() != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("read host key fingerprints from the console of server %s: %w (last: %v)", n.ServerID, ctx.Err(), err)
			}
			return nil, fmt.Errorf("no SSH host key fingerprints on the console of server %s after %s (ssh.host_key_timeout). "+
				"Check that the image runs cloud-init and that cloud-init prints the key fingerprints to the console "+
				"(`openstack console log show %s` shows a %s block), or set ssh.host_key_check = %q with ssh.known_hosts_file. Last: %v",
				n.ServerID, bound, n.ServerID, fingerprintsBegin, HostKeyKnownHosts, err)
		}
	}
	return fps, nil
}

// consoleCue lets the console waits of servers booted together read as
// one. cloud-init prints the fingerprints in its last stage, seconds after
// sshd starts, and servers of one image booted together get there within
// moments of each other: one wait reads its console on the backoff
// schedule while the others wait until it sees its fingerprints, then read
// theirs. N servers cost one schedule's reads plus about one each, not N
// schedules. A nil cue probes alone.
type consoleCue struct {
	mu      sync.Mutex
	probing bool
	shown   chan struct{} // closed when the prober's read ends
}

func newConsoleCue() *consoleCue { return &consoleCue{shown: make(chan struct{})} }

// await says whether this wait is to read on the schedule (probe) or wait
// for shown, closed when the one that does found its fingerprints or gave up.
func (c *consoleCue) await() (shown <-chan struct{}, probe bool) {
	if c == nil {
		return nil, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.probing {
		return c.shown, false
	}
	c.probing = true
	return nil, true
}

// release ends the prober's turn: the waiting ones read their consoles,
// and one of those that still miss their fingerprints takes over.
func (c *consoleCue) release() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probing = false
	close(c.shown)
	c.shown = make(chan struct{})
}

// consoleSteady is how long waitConsoleFingerprints looks every
// consoleProbeEvery, after a first look a second after the one at once
// (for an image that ignores the boot user data, cloud-init's config and
// final stages, which print the block, take seconds after sshd starts).
const (
	consoleSteady     = 10 * time.Second
	consoleProbeEvery = 500 * time.Millisecond
)

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
