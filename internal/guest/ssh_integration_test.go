package guest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// TestSSHTransport exercises the transport against real sshd hosts: exit
// codes and stderr, uploads with modes, host-key pinning and known_hosts,
// the insecure opt-out, a bastion, tunnels, waiting for a host that boots,
// and reconnecting after a reboot.
func TestSSHTransport(t *testing.T) {
	l := newLab(t, "jump", "t1")
	jump, t1 := l.hosts[0], l.hosts[1]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	target := func() guest.SSHTarget {
		return guest.SSHTarget{Addr: t1.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{t1.HostKey()}}
	}

	cl, err := guest.DialSSH(ctx, target(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	t.Run("command results", func(t *testing.T) {
		out, err := cl.Run(ctx, "hostname", nil)
		if err != nil || string(out) != "t1\n" {
			t.Fatalf("hostname: %q %v", out, err)
		}
		out, err = cl.Run(ctx, "echo partial; echo 'it broke' >&2; exit 3", nil)
		var ce *guest.CommandError
		if !errors.As(err, &ce) || ce.ExitCode != 3 || !strings.Contains(ce.Stderr, "it broke") || string(out) != "partial\n" {
			t.Fatalf("failing command: out=%q err=%v", out, err)
		}
		if !strings.Contains(err.Error(), "status 3") || !strings.Contains(err.Error(), "it broke") {
			t.Errorf("error text lacks exit code or stderr: %v", err)
		}
		out, err = cl.Run(ctx, "cat", []byte("from stdin"))
		if err != nil || string(out) != "from stdin" {
			t.Errorf("stdin: %q %v", out, err)
		}
		// A cancelled context ends a long command.
		cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer ccancel()
		t0 := time.Now()
		if _, err := cl.Run(cctx, "sleep 30", nil); err == nil || time.Since(t0) > 5*time.Second {
			t.Errorf("cancelled command: %v after %v", err, time.Since(t0))
		}
		// 20 commands reuse one connection.
		for i := 0; i < 20; i++ {
			if _, err := cl.Run(ctx, "true", nil); err != nil {
				t.Fatal(err)
			}
		}
		out, _ = cl.Run(ctx, "ss -tn state established '( sport = :22 )' | grep -c :22", nil)
		if strings.TrimSpace(string(out)) != "1" {
			t.Errorf("connections to sshd: %s, want 1 (reuse)", out)
		}
	})

	t.Run("upload", func(t *testing.T) {
		content := []byte("line 1\nquote ' \" \\ ü\n\x00binary")
		if err := cl.Upload(ctx, "/etc/mysql/guest-upload-test", content, 0o640); err != nil {
			t.Fatal(err)
		}
		out := console(t, t1, "stat -c %a /etc/mysql/guest-upload-test; od -An -c /etc/mysql/guest-upload-test | tr -d ' \\n'")
		if !strings.HasPrefix(out, "640\n") {
			t.Errorf("mode: %q", out)
		}
		got, err := cl.Run(ctx, "cat /etc/mysql/guest-upload-test", nil)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("content: %q %v", got, err)
		}
		if err := cl.Upload(ctx, "/nonexistent-dir/x", content, 0o600); err == nil {
			t.Errorf("upload into a missing directory succeeded")
		}
	})

	t.Run("host key verification", func(t *testing.T) {
		wrong := target()
		wrong.HostKeys = []ssh.PublicKey{jump.HostKey()}
		t0 := time.Now()
		_, err := guest.DialSSH(ctx, wrong, nil)
		if err == nil || !strings.Contains(err.Error(), "not pinned") || time.Since(t0) > 5*time.Second {
			t.Errorf("wrong pinned key: %v (after %v; must fail fast)", err, time.Since(t0))
		}
		none := target()
		none.HostKeys = nil
		if _, err := guest.DialSSH(ctx, none, nil); err == nil || !strings.Contains(err.Error(), "no host key to verify") {
			t.Errorf("no host key: %v", err)
		}
		dir := t.TempDir()
		good := filepath.Join(dir, "known_hosts")
		line := knownhosts.Line([]string{knownhosts.Normalize(t1.SSHAddr())}, t1.HostKey())
		if err := os.WriteFile(good, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		kh := target()
		kh.HostKeys, kh.KnownHostsFile = nil, good
		c2, err := guest.DialSSH(ctx, kh, nil)
		if err != nil {
			t.Fatalf("known_hosts: %v", err)
		}
		c2.Close()
		bad := filepath.Join(dir, "known_hosts_bad")
		line = knownhosts.Line([]string{knownhosts.Normalize(t1.SSHAddr())}, jump.HostKey())
		if err := os.WriteFile(bad, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		kh.KnownHostsFile = bad
		if _, err := guest.DialSSH(ctx, kh, nil); err == nil || !strings.Contains(err.Error(), "host key verification failed") {
			t.Errorf("known_hosts mismatch: %v", err)
		}
		var warnings []string
		var mu sync.Mutex
		insecure := target()
		insecure.HostKeys, insecure.InsecureIgnoreHostKey = nil, true
		c3, err := guest.DialSSH(ctx, insecure, func(e guest.Event) {
			if e.Level == guest.LevelWarn {
				mu.Lock()
				warnings = append(warnings, e.Message)
				mu.Unlock()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		c3.Close()
		if len(warnings) != 1 || !strings.Contains(warnings[0], "NOT verified") {
			t.Errorf("insecure opt-out warnings: %q", warnings)
		}
	})

	t.Run("bastion", func(t *testing.T) {
		// t1 refuses SSH from the machine; only the jump host may connect.
		rules := "table inet fw {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 22 ip saddr != " + jump.Addr().String() + " drop\n }\n}\n"
		if err := t1.ApplyFirewall(ctx, rules); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := t1.ApplyFirewall(ctx, "table inet fw {\n}\n"); err != nil {
				t.Errorf("reset firewall: %v", err)
			}
		}()
		direct := target()
		direct.AttemptTimeout = time.Second
		dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
		defer dcancel()
		if _, err := guest.DialSSH(dctx, direct, nil); err == nil || !strings.Contains(err.Error(), "not reachable") {
			t.Fatalf("direct dial through the firewall: %v", err)
		}
		via := target()
		via.Bastion = &guest.SSHTarget{Addr: jump.SSHAddr(), Signer: l.signer, HostKeys: []ssh.PublicKey{jump.HostKey()}}
		bc, err := guest.DialSSH(ctx, via, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer bc.Close()
		out, err := bc.Run(ctx, "hostname; echo $SSH_CLIENT | cut -d' ' -f1", nil)
		if err != nil || string(out) != "t1\n"+jump.Addr().String()+"\n" {
			t.Errorf("through the bastion: %q %v", out, err)
		}
		// A bastion with the wrong host key is refused.
		via.Bastion.HostKeys = []ssh.PublicKey{t1.HostKey()}
		if _, err := guest.DialSSH(ctx, via, nil); err == nil || !strings.Contains(err.Error(), "not pinned") {
			t.Errorf("bastion with a wrong key: %v", err)
		}
	})

	t.Run("tunnel", func(t *testing.T) {
		conn, err := cl.DialContext(ctx, "tcp", "127.0.0.1:22")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		banner := make([]byte, 8)
		if _, err := io.ReadFull(conn, banner); err != nil || string(banner) != "SSH-2.0-" {
			t.Errorf("banner through the tunnel: %q %v", banner, err)
		}
		if _, err := cl.DialContext(ctx, "tcp", "127.0.0.1:1"); err == nil {
			t.Errorf("tunnel to a closed port succeeded")
		}
	})

	t.Run("reboot: wait until reachable and reconnect", func(t *testing.T) {
		if err := t1.PowerOff(ctx); err != nil {
			t.Fatal(err)
		}
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		defer scancel()
		if _, err := guest.DialSSH(sctx, target(), nil); err == nil || !strings.Contains(err.Error(), "not reachable") {
			t.Errorf("dial to a powered-off host: %v", err)
		}
		go func() {
			time.Sleep(2 * time.Second)
			if err := t1.PowerOn(ctx); err != nil {
				t.Errorf("power on: %v", err)
			}
		}()
		t0 := time.Now()
		c4, err := guest.DialSSH(ctx, target(), nil)
		if err != nil {
			t.Fatalf("waiting for the host to boot: %v", err)
		}
		c4.Close()
		t.Logf("reachable after %v", time.Since(t0).Round(100*time.Millisecond))
		// The client dialled before the reboot works again.
		out, err := cl.Run(ctx, "hostname", nil)
		if err != nil || string(out) != "t1\n" {
			t.Errorf("old client after reboot: %q %v", out, err)
		}
	})
}
