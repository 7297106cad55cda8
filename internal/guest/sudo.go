package guest

import (
	"context"
	"io/fs"
	"net"
)

// sudoRunner runs every command through sudo, for images whose login user
// is not root (debian, ubuntu, cloud-user...). The user needs password-less
// sudo, as cloud images grant their default user; -n makes a missing grant
// fail at once instead of waiting for a password prompt.
type sudoRunner struct{ r Runner }

func (s sudoRunner) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	return s.r.Run(ctx, "sudo -n -- sh -c "+shellQuote(cmd), stdin)
}

func (s sudoRunner) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	return uploadViaShell(ctx, s, path, content, mode)
}

func (s sudoRunner) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return s.r.DialContext(ctx, network, addr)
}

// needsSudo says whether commands over this SSH target must go through sudo.
func needsSudo(t *SSHTarget) bool { return t != nil && t.User != "" && t.User != "root" }
