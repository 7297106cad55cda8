package host

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real hosts: not with -short (make unit)")
	}
	if os.Geteuid() != 0 {
		t.Skip("host tests need root (network namespaces, bind mounts, loop devices)")
	}
}

// newTestNetwork creates a network that t.Cleanup removes, and checks that
// nothing of it is left afterwards.
func newTestNetwork(t *testing.T) *Network {
	t.Helper()
	return newTestNetworkOpts(t, NetworkOptions{Prefix: "pxt"})
}

func newTestNetworkOpts(t *testing.T, opts NetworkOptions) *Network {
	t.Helper()
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Sweep(ctx); err != nil {
		t.Logf("sweep: %v", err)
	}
	n, err := NewNetwork(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("second close of network: %v", err)
		}
		assertGone(t, n)
	})
	return n
}

// assertGone checks that no namespace, link, loop device or state dir of the
// network is left on the machine.
func assertGone(t *testing.T, n *Network) {
	t.Helper()
	id := n.ID()
	out, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	if strings.Contains(string(out), id) {
		t.Errorf("netns left after Close:\n%s", out)
	}
	out, _ = exec.Command("ip", "-o", "link").CombinedOutput()
	if strings.Contains(string(out), id) {
		t.Errorf("links left after Close:\n%s", out)
	}
	out, _ = exec.Command("losetup", "-a").CombinedOutput()
	if strings.Contains(string(out), n.StateDir()) {
		t.Errorf("loop devices left after Close:\n%s", out)
	}
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), id) {
		t.Errorf("mounts of %s left in the machine's mount namespace", id)
	}
	if _, err := os.Stat(n.StateDir()); !os.IsNotExist(err) {
		t.Errorf("state dir %s left after Close (stat: %v)", n.StateDir(), err)
	}
	if _, err := os.Stat(netsDir + "/" + id + ".json"); !os.IsNotExist(err) {
		t.Errorf("registry entry for %s left after Close", id)
	}
}

// testKey is a client key for the tests' SSH sessions.
type testKey struct {
	signer ssh.Signer
	line   string
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))}
}

func startHost(t *testing.T, n *Network, name string, key testKey) *Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	h, err := n.StartHost(ctx, Options{Name: name, AuthorizedKeys: []string{key.line}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host %s (%s) up in %v", name, h.Addr(), time.Since(t0).Round(time.Millisecond))
	return h
}

// sshRun runs cmd on h over SSH, checking h's host key.
func sshRun(t *testing.T, h *Host, key testKey, cmd string) (string, error) {
	t.Helper()
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key.signer)},
		HostKeyCallback: ssh.FixedHostKey(h.HostKey()),
		Timeout:         3 * time.Second,
	}
	c, err := ssh.Dial("tcp", h.SSHAddr(), cfg)
	if err != nil {
		return "", fmt.Errorf("ssh %s: %w", h.Name(), err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	// One buffer for both streams needs a lock: x/crypto copies stdout and
	// stderr in separate goroutines (bytes.Buffer.ReadFrom races and loses data).
	var out lockedBuffer
	s.Stdout, s.Stderr = &out, &out
	err = s.Run(cmd)
	return out.String(), err
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func mustSSH(t *testing.T, h *Host, key testKey, cmd string) string {
	t.Helper()
	out, err := sshRun(t, h, key, cmd)
	if err != nil {
		t.Fatalf("ssh %s %q: %v\n%s", h.Name(), cmd, err, out)
	}
	return out
}

func mustConsole(t *testing.T, h *Host, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := h.Console(ctx, script)
	if err != nil {
		t.Fatalf("console %s %q: %v", h.Name(), script, err)
	}
	return string(out)
}

// tcpReachable reports whether src can open a TCP connection to addr.
func tcpReachable(t *testing.T, src *Host, addr string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	host, port, _ := net.SplitHostPort(addr)
	_, err := src.Console(ctx, fmt.Sprintf("timeout 2 socat -u OPEN:/dev/null TCP:%s:%s,connect-timeout=1", host, port))
	return err == nil
}

func TestHostsBootIsolatedAndReachable(t *testing.T) {
	n := newTestNetwork(t)
	key := newTestKey(t)
	// Boot both at once: StartHost is safe for concurrent use.
	hosts := make([]*Host, 2)
	errs := make(chan error, 2)
	for i, name := range []string{"node-a", "node-b"} {
		go func() {
			var err error
			hosts[i], err = n.StartHost(t.Context(), Options{Name: name, AuthorizedKeys: []string{key.line}})
			errs <- err
		}()
	}
	for range hosts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	a, b := hosts[0], hosts[1]
	if _, err := n.StartHost(t.Context(), Options{Name: "node-a"}); err == nil {
		t.Error("a second host named node-a was started")
	}
	if _, err := n.StartHost(t.Context(), Options{Name: "other", Addr: a.Addr()}); err == nil {
		t.Error("a host with node-a's address was started")
	}

	for _, h := range []*Host{a, b} {
		out := mustSSH(t, h, key, "hostname; cat /etc/hostname; ls -A /var/lib/mysql; stat -c '%U %a' /var/lib/mysql /root /tmp")
		want := fmt.Sprintf("%s\n%s\nmysql 755\nroot 700\nroot 1777\n", h.Name(), h.Name())
		if out != want {
			t.Errorf("%s: got %q, want %q", h.Name(), out, want)
		}
	}

	// Own host key in its own /etc/ssh; none of the machine's keys.
	if got, want := mustSSH(t, a, key, "cat /etc/ssh/ssh_host_ed25519_key.pub; ls /etc/ssh | grep -c -e rsa -e ecdsa || true"),
		string(ssh.MarshalAuthorizedKey(a.HostKey()))+"0\n"; got != want {
		t.Errorf("node-a /etc/ssh: got %q, want %q", got, want)
	}

	mustSSH(t, a, key, "echo secret-a > /var/lib/mysql/marker")
	if out, err := sshRun(t, b, key, "cat /var/lib/mysql/marker"); err == nil {
		t.Errorf("node-b sees node-a's datadir file: %q", out)
	}
	if _, err := os.Stat("/var/lib/mysql/marker"); err == nil {
		t.Error("the machine sees node-a's datadir file")
	}

	// Only the host's own processes, sshd as PID 1.
	ps := mustSSH(t, a, key, "ps -e -o pid=,comm=")
	var pid1 string
	for _, line := range strings.Split(strings.TrimSpace(ps), "\n") {
		f := strings.Fields(line)
		if f[0] == "1" {
			pid1 = f[1]
		}
		if f[1] != "sshd" && f[1] != "bash" && f[1] != "sh" && f[1] != "ps" {
			t.Errorf("unexpected process in node-a: %q", line)
		}
	}
	if pid1 != "sshd" {
		t.Errorf("PID 1 is %q, want sshd; ps:\n%s", pid1, ps)
	}
	if len(strings.Split(strings.TrimSpace(ps), "\n")) > 6 {
		t.Errorf("too many processes in node-a:\n%s", ps)
	}

	if !tcpReachable(t, a, b.SSHAddr()) {
		t.Error("node-a cannot reach node-b:22")
	}
	// No route anywhere else.
	if out := mustConsole(t, a, "ip route"); strings.Contains(out, "default") {
		t.Errorf("host has a default route:\n%s", out)
	}
}

// TestStartHostAfterAFailedCloseOfItsName: a host whose Close failed keeps
// its name (its namespace may still be there); starting a host of that name
// closes the old one again instead of failing with "already used", as a
// server built again after a failed spawn needs.
func TestStartHostAfterAFailedCloseOfItsName(t *testing.T) {
	n := newTestNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h, err := n.StartHost(ctx, Options{Name: "again"})
	if err != nil {
		t.Fatal(err)
	}
	stuck := filepath.Join(h.StateDir(), "tmp", "stuck")
	if err := os.WriteFile(stuck, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chattr", "+i", stuck).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v %s", err, out)
	}
	if err := h.Close(); err == nil {
		t.Fatal("Close removed an immutable file")
	}
	if _, err := n.StartHost(ctx, Options{Name: "again"}); err == nil {
		t.Fatal("a host started on a name whose old host is not closed")
	}
	if out, err := exec.Command("chattr", "-i", stuck).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v %s", err, out)
	}
	if _, err := n.StartHost(ctx, Options{Name: "again"}); err != nil {
		t.Fatalf("start a host on the name of one whose close failed once: %v", err)
	}
}

// TestAddressOfARunningHostIsNotHandedOutAgain: an address given back while
// its host still runs (a port deleted under a server still being torn
// down) is not the next one allocated, or probes of the new host would
// reach the old one; asked for by name, it is granted and the old host's
// link goes down.
func TestAddressOfARunningHostIsNotHandedOutAgain(t *testing.T) {
	n := newTestNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	old, err := n.StartHost(ctx, Options{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	n.ReleaseAddr(old.Addr())
	got, err := n.AllocateAddr()
	if err != nil {
		t.Fatal(err)
	}
	if got == old.Addr() {
		t.Fatalf("allocated %s, the address of a host that still runs", got)
	}
	n.ReleaseAddr(got)
	if err := probeSSH(ctx, old.SSHAddr()); err != nil {
		t.Fatalf("the old host should still answer before its address is taken: %v", err)
	}
	if err := n.ReserveAddr(old.Addr()); err != nil {
		t.Fatalf("reserve the address by name: %v", err)
	}
	if err := probeSSH(ctx, old.SSHAddr()); err == nil {
		t.Fatal("the old host still answers on an address reserved for another")
	}
}
