package guest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHTarget says how to reach one machine over SSH.
type SSHTarget struct {
	// Addr is "host" or "host:port" (port 22 by default).
	Addr string
	// User defaults to root.
	User string
	// Signer or PrivateKey (PEM/OpenSSH, unencrypted) authenticates the user.
	Signer     ssh.Signer
	PrivateKey []byte
	// Host-key verification: HostKeys pins keys; otherwise KnownHostsFile
	// is used. InsecureIgnoreHostKey skips the check and logs a warning; it
	// must be chosen explicitly, there is no silent fallback.
	HostKeys []ssh.PublicKey
	// HostKeyFingerprints pins keys by SHA256 fingerprint ("SHA256:..."), as
	// cloud-init prints them on a new server's console.
	HostKeyFingerprints   []string
	KnownHostsFile        string
	InsecureIgnoreHostKey bool
	// OnHostKey, when set, is told the host key that passed verification,
	// so a caller can pin it for later connections.
	OnHostKey func(ssh.PublicKey)
	// Bastion, when set, is dialled first and this target is reached
	// through it (a jump host).
	Bastion *SSHTarget
	// KeepAlive is the keepalive interval (default 15s); a connection that
	// misses one is closed and the next command dials again.
	KeepAlive time.Duration
	// AttemptTimeout bounds one TCP connect + handshake (default 10s).
	AttemptTimeout time.Duration
}

func (t SSHTarget) addr() string {
	if _, _, err := net.SplitHostPort(t.Addr); err == nil {
		return t.Addr
	}
	return net.JoinHostPort(strings.Trim(t.Addr, "[]"), "22")
}

// hostKeyError marks a host-key mismatch: retrying cannot help.
type hostKeyError struct{ err error }

func (e *hostKeyError) Error() string { return "host key verification failed: " + e.err.Error() }
func (e *hostKeyError) Unwrap() error { return e.err }

func (t SSHTarget) clientConfig(observe Observer) (*ssh.ClientConfig, error) {
	signer := t.Signer
	if signer == nil {
		if len(t.PrivateKey) == 0 {
			return nil, fmt.Errorf("ssh %s: no private key", t.Addr)
		}
		s, err := ssh.ParsePrivateKey(t.PrivateKey)
		if err != nil {
			// The parser's message never contains key material.
			return nil, fmt.Errorf("ssh %s: parse private key: %w", t.Addr, err)
		}
		signer = s
	}
	user := t.User
	if user == "" {
		user = "root"
	}
	cfg := &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}}
	switch {
	case len(t.HostKeys) > 0:
		pinned := t.HostKeys
		cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
			for _, k := range pinned {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil
				}
			}
			return &hostKeyError{fmt.Errorf("%s presented %s key %s, which is not pinned", host, key.Type(), ssh.FingerprintSHA256(key))}
		}
		for _, k := range pinned {
			cfg.HostKeyAlgorithms = append(cfg.HostKeyAlgorithms, hostKeyAlgorithms(k.Type())...)
		}
	case len(t.HostKeyFingerprints) > 0:
		pinned := t.HostKeyFingerprints
		cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
			got := ssh.FingerprintSHA256(key)
			for _, fp := range pinned {
				if fp == got {
					return nil
				}
			}
			return &hostKeyError{fmt.Errorf("%s presented %s key %s, which is not among the pinned fingerprints %s", host, key.Type(), got, strings.Join(pinned, ", "))}
		}
	case t.KnownHostsFile != "":
		cb, err := knownhosts.New(t.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("ssh %s: read known_hosts: %w", t.Addr, err)
		}
		cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := cb(host, remote, key); err != nil {
				return &hostKeyError{err}
			}
			return nil
		}
	case t.InsecureIgnoreHostKey:
		observe.emit(Event{Level: LevelWarn, Phase: "ssh", Message: fmt.Sprintf("host key of %s is NOT verified (insecure opt-out); a man in the middle could read secrets", t.Addr)})
		cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	default:
		return nil, fmt.Errorf("ssh %s: no host key to verify against: set HostKeys, HostKeyFingerprints or KnownHostsFile (or, knowingly, InsecureIgnoreHostKey)", t.Addr)
	}
	if t.OnHostKey != nil {
		verify := cfg.HostKeyCallback
		cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := verify(host, remote, key); err != nil {
				return err
			}
			t.OnHostKey(key)
			return nil
		}
	}
	cfg.Timeout = t.attemptTimeout()
	return cfg, nil
}

func hostKeyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

func (t SSHTarget) attemptTimeout() time.Duration {
	if t.AttemptTimeout > 0 {
		return t.AttemptTimeout
	}
	return 10 * time.Second
}

// SSHClient is a reusable SSH connection to one machine. It redials when
// the connection breaks (the machine rebooted, a keepalive went
// unanswered). It implements Runner; one SSH session per command.
type SSHClient struct {
	target  SSHTarget
	cfg     *ssh.ClientConfig
	observe Observer

	mu      sync.Mutex
	client  *ssh.Client
	bastion *SSHClient
	closed  bool
}

// DialSSH connects to t, retrying until ctx ends while the machine is not
// yet reachable (sshd still coming up). A host-key mismatch fails at once.
func DialSSH(ctx context.Context, t SSHTarget, observe Observer) (*SSHClient, error) {
	cfg, err := t.clientConfig(observe)
	if err != nil {
		return nil, err
	}
	c := &SSHClient{target: t, cfg: cfg, observe: observe}
	if _, err := c.get(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// get returns the live connection, dialling (with retries) if needed.
func (c *SSHClient) get(ctx context.Context) (*ssh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("ssh client is closed")
	}
	if c.client != nil {
		return c.client, nil
	}
	var last error
	for attempt := 1; ; attempt++ {
		cl, err := c.dialOnce(ctx)
		if err == nil {
			c.client = cl
			go c.keepAlive(cl)
			return cl, nil
		}
		last = err
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return nil, fmt.Errorf("ssh %s: %w", c.target.Addr, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh %s: not reachable after %d attempts: %w", c.target.Addr, attempt, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *SSHClient) dialOnce(ctx context.Context) (*ssh.Client, error) {
	actx, cancel := context.WithTimeout(ctx, c.target.attemptTimeout())
	defer cancel()
	addr := c.target.addr()
	var conn net.Conn
	var err error
	if c.target.Bastion != nil {
		if c.bastion == nil {
			b, err := DialSSH(actx, *c.target.Bastion, c.observe)
			if err != nil {
				return nil, fmt.Errorf("bastion: %w", err)
			}
			c.bastion = b
		}
		conn, err = c.bastion.DialContext(actx, "tcp", addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(actx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	// NewClientConn has no context: bound the handshake with a deadline.
	if dl, ok := actx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, c.cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

func (c *SSHClient) keepAlive(cl *ssh.Client) {
	interval := c.target.KeepAlive
	if interval <= 0 {
		interval = 15 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- cl.Wait() }()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			c.drop(cl)
			return
		case <-t.C:
			reply := make(chan error, 1)
			go func() {
				_, _, err := cl.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			select {
			case err := <-reply:
				if err != nil {
					c.drop(cl)
					return
				}
			case <-time.After(interval):
				c.drop(cl)
				return
			}
		}
	}
}

// drop forgets a dead connection so the next call dials again.
func (c *SSHClient) drop(cl *ssh.Client) {
	c.mu.Lock()
	if c.client == cl {
		c.client = nil
	}
	c.mu.Unlock()
	cl.Close()
}

// session opens a session, redialling once if the connection was dead.
func (c *SSHClient) session(ctx context.Context) (*ssh.Session, error) {
	for try := 0; ; try++ {
		cl, err := c.get(ctx)
		if err != nil {
			return nil, err
		}
		s, err := cl.NewSession()
		if err == nil {
			return s, nil
		}
		c.drop(cl)
		if try > 0 {
			return nil, fmt.Errorf("ssh %s: open session: %w", c.target.Addr, err)
		}
	}
}

// Run implements Runner.
func (c *SSHClient) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	s, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		s.Close()
		return stdout.Bytes(), fmt.Errorf("run %q on %s: %w", shorten(cmd, 80), c.target.Addr, ctx.Err())
	case err = <-done:
	}
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case errors.As(err, &ee):
		return stdout.Bytes(), &CommandError{Command: cmd, ExitCode: ee.ExitStatus(), Stderr: tail(stderr.Bytes(), 2048)}
	case errors.As(err, &missing):
		return stdout.Bytes(), &CommandError{Command: cmd, ExitCode: -1, Stderr: tail(stderr.Bytes(), 2048)}
	default:
		return stdout.Bytes(), fmt.Errorf("run %q on %s: %w", shorten(cmd, 80), c.target.Addr, err)
	}
}

// Upload implements Runner: the content goes over stdin into a temporary
// file that is renamed into place, so readers never see half a file.
func (c *SSHClient) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	return uploadViaShell(ctx, c, path, content, mode)
}

func uploadViaShell(ctx context.Context, r Runner, path string, content []byte, mode fs.FileMode) error {
	q := shellQuote(path)
	tmp := shellQuote(path + ".guest-tmp")
	cmd := fmt.Sprintf("umask 077 && cat > %s && chmod %04o %s && mv -f %s %s", tmp, mode.Perm(), tmp, tmp, q)
	if _, err := r.Run(ctx, cmd, content); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	return nil
}

// DialContext implements Runner: a TCP connection opened by the remote
// sshd (direct-tcpip), e.g. to the node's own 127.0.0.1:3306.
func (c *SSHClient) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	for try := 0; ; try++ {
		cl, err := c.get(ctx)
		if err != nil {
			return nil, err
		}
		conn, err := cl.DialContext(ctx, network, addr)
		if err == nil {
			return conn, nil
		}
		var open *ssh.OpenChannelError
		if errors.As(err, &open) || try > 0 || ctx.Err() != nil {
			// The server refused the channel (nothing listens there): the
			// connection itself is fine.
			return nil, fmt.Errorf("ssh %s: tunnel to %s: %w", c.target.Addr, addr, err)
		}
		c.drop(cl)
	}
}

// Close closes the connection (and the bastion's).
func (c *SSHClient) Close() error {
	c.mu.Lock()
	c.closed = true
	cl, b := c.client, c.bastion
	c.client, c.bastion = nil, nil
	c.mu.Unlock()
	var err error
	if cl != nil {
		err = cl.Close()
	}
	if b != nil {
		b.Close()
	}
	return err
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
