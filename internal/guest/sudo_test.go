package guest

import (
	"context"
	"io/fs"
	"net"
	"strings"
	"testing"
)

type lastCommand struct {
	cmd   string
	stdin []byte
}

func (l *lastCommand) Run(_ context.Context, cmd string, stdin []byte) ([]byte, error) {
	l.cmd, l.stdin = cmd, stdin
	return nil, nil
}
func (l *lastCommand) Upload(context.Context, string, []byte, fs.FileMode) error { return nil }
func (l *lastCommand) DialContext(context.Context, string, string) (net.Conn, error) {
	return nil, nil
}

func TestSudoRunnerWrapsCommandsAndUploads(t *testing.T) {
	inner := &lastCommand{}
	s := sudoRunner{r: inner}
	if _, err := s.Run(context.Background(), "echo 'it''s' > /etc/mysql/x.cnf", nil); err != nil {
		t.Fatal(err)
	}
	want := `sudo -n -- sh -c 'echo '\''it'\'''\''s'\'' > /etc/mysql/x.cnf'`
	if inner.cmd != want {
		t.Fatalf("sudo command\n got %s\nwant %s", inner.cmd, want)
	}
	if err := s.Upload(context.Background(), "/etc/mysql/conf.d/60-galera.cnf", []byte("[mysqld]\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(inner.cmd, "sudo -n -- sh -c ") || !strings.Contains(inner.cmd, "60-galera.cnf") || string(inner.stdin) != "[mysqld]\n" {
		t.Fatalf("upload not run through sudo with the content on stdin: %q", inner.cmd)
	}
	for user, want := range map[string]bool{"": false, "root": false, "debian": true} {
		if got := needsSudo(&SSHTarget{User: user}); got != want {
			t.Errorf("needsSudo(%q) = %v", user, got)
		}
	}
}
