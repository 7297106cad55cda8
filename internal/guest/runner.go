package guest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"sync"
)

// Runner is what the operations need from a node: run a shell command,
// upload a file, and open a TCP connection from the node (for SQL). The SSH
// client implements it; tests use a recording runner.
type Runner interface {
	// Run runs a shell command. stdin may be nil. A non-zero exit is a
	// *CommandError carrying the exit code and the end of stderr.
	Run(ctx context.Context, cmd string, stdin []byte) (stdout []byte, err error)
	// Upload writes content to path atomically with the given mode.
	Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error
	// DialContext connects from the node, e.g. to 127.0.0.1:3306.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// CommandError is a command that ran and failed.
type CommandError struct {
	Command  string
	ExitCode int    // -1 when the command died without an exit status
	Stderr   string // at most the last 2 KiB, secrets masked by the caller
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("command %q exited with status %d", shorten(e.Command, 120), e.ExitCode)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// masker replaces known secrets with *** in text that may reach an error
// or a log: server error messages quote the SQL they refused. Secrets can
// be added while operations run.
type masker struct {
	mu      sync.RWMutex
	secrets []string
}

func newMasker(secrets ...string) *masker {
	m := &masker{}
	m.add(secrets...)
	return m
}

func (m *masker) add(secrets ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 3 {
			m.secrets = append(m.secrets, s)
		}
	}
}

func (m *masker) mask(s string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, secret := range m.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// maskedError keeps the error chain (errors.As still finds a CommandError)
// but prints the masked text.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

func (m *masker) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := m.mask(msg)
	if masked == msg {
		return err
	}
	var ce *CommandError
	if errors.As(err, &ce) {
		ce.Stderr = m.mask(ce.Stderr)
		ce.Command = m.mask(ce.Command)
	}
	return &maskedError{msg: masked, err: err}
}

// maskingRunner wraps a node's runner so that no error it returns contains
// a secret.
type maskingRunner struct {
	r Runner
	m *masker
}

func (mr maskingRunner) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	out, err := mr.r.Run(ctx, cmd, stdin)
	return out, mr.m.err(err)
}

func (mr maskingRunner) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	return mr.m.err(mr.r.Upload(ctx, path, content, mode))
}

func (mr maskingRunner) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := mr.r.DialContext(ctx, network, addr)
	return c, mr.m.err(err)
}
