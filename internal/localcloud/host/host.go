package host

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configures a host.
type Options struct {
	// Name is the hostname (a DNS label) and part of the namespace name.
	Name string
	// Addr is the host's address on the network; zero means allocate one.
	Addr netip.Addr
	// AddrHeld says the caller already holds Addr in the network's pool
	// (AllocateAddr or ReserveAddr) and keeps holding it: the host neither
	// reserves nor releases it. A cloud whose ports own addresses needs this,
	// or the address would be free for a moment between port and host.
	AddrHeld bool
	// AuthorizedKeys are authorized_keys lines for root.
	AuthorizedKeys []string
	// Image, when set, is the root filesystem of a guest image (package
	// image) and the host boots it with systemd as PID 1 (see systemd.go).
	// Empty: today's init-less host, sshd as PID 1 over the machine's own
	// filesystem, which boots in a fraction of a second.
	Image string
	// NoCloud, in systemd mode, seeds cloud-init (nil: cloud-init stays off
	// and the host writes the host key and authorized_keys itself).
	NoCloud *NoCloudSeed
}

// Host is one VM-like host.
type Host struct {
	net      *Network
	name     string
	addr     netip.Addr
	addrHeld bool
	ns       string
	dir      string
	image    string // systemd mode: the image's root; "" for init-less
	seed     *NoCloudSeed
	hostKey  ssh.PublicKey

	mu     sync.Mutex
	boot   *exec.Cmd     // the outer unshare while powered on
	done   chan struct{} // closed when boot has exited and was reaped
	disks  map[string]*Disk
	closed bool
	// closeErr is the last Close's failure (the host keeps its name).
	closeErr error
}

// privateDirs are bind-mounted from the host's state dir over the machine's
// paths; everything else is the shared "image".
var privateDirs = []struct{ src, dst string }{
	{"etc-mysql", "/etc/mysql"},
	{"var-lib-mysql", "/var/lib/mysql"},
	{"run-mysqld", "/run/mysqld"},
	{"var-log-mysql", "/var/log/mysql"},
	{"root", "/root"},
	{"hostname", "/etc/hostname"},
	{"hosts", "/etc/hosts"},
	{"resolv.conf", "/etc/resolv.conf"},
	{"fstab", "/etc/fstab"},
	{"dev-disk", "/dev/disk"},
	{"mnt", "/mnt"},
	{"etc-ssh", "/etc/ssh"},
	// Last: a state dir under the machine's /tmp stays reachable until here.
	{"tmp", "/tmp"},
}

// StartHost creates and boots a host. It returns once sshd accepts TCP
// connections on Addr():22 (about 0.1-0.5 s on an idle machine). The host's
// state lives in StateDir()/<name>.
func (n *Network) StartHost(ctx context.Context, opts Options) (*Host, error) {
	n.retryFailedClose(opts.Name)
	if err := n.claimName(opts.Name); err != nil {
		return nil, fmt.Errorf("start host: %w", err)
	}
	addr := opts.Addr
	if opts.AddrHeld {
		if !addr.IsValid() || !n.isUsed(addr) {
			n.releaseName(opts.Name)
			return nil, fmt.Errorf("start host %s: address %s is not held in the network's pool", opts.Name, addr)
		}
	} else if addr.IsValid() {
		if err := n.reserveAddr(addr); err != nil {
			n.releaseName(opts.Name)
			return nil, fmt.Errorf("start host %s: %w", opts.Name, err)
		}
	} else {
		var err error
		if addr, err = n.AllocateAddr(); err != nil {
			n.releaseName(opts.Name)
			return nil, fmt.Errorf("start host %s: %w", opts.Name, err)
		}
	}
	h := &Host{
		net:      n,
		name:     opts.Name,
		addr:     addr,
		addrHeld: opts.AddrHeld,
		ns:       n.netnsName(opts.Name),
		dir:      filepath.Join(n.rec.StateDir, opts.Name),
		image:    opts.Image,
		seed:     opts.NoCloud,
		disks:    map[string]*Disk{},
	}
	n.mu.Lock()
	n.hosts[h] = true
	n.mu.Unlock()
	create := h.create
	if h.image != "" {
		create = h.createSystemd
	}
	if err := create(ctx, opts.AuthorizedKeys); err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("start host %s: %w", opts.Name, err)
	}
	if err := h.net.plug(ctx, h.ns, h.addr); err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("start host %s: %w", opts.Name, err)
	}
	if err := h.PowerOn(ctx); err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("start host %s: %w", opts.Name, err)
	}
	return h, nil
}

// retryFailedClose closes again a host of that name whose Close failed
// (it keeps its name while its namespace may still be there): a server
// whose spawn failed and is built again under its name must not fail for
// a cleanup that failed once.
func (n *Network) retryFailedClose(name string) {
	n.mu.Lock()
	var old *Host
	for h := range n.hosts {
		if h.name == name {
			old = h
		}
	}
	n.mu.Unlock()
	if old != nil && old.closeFailed() {
		_ = old.Close()
	}
}

// closeFailed reports whether Close was called and failed.
func (h *Host) closeFailed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closeErr != nil && !h.closed
}

// create prepares the state dir: the host's root state (Rebuild makes it
// again); StartHost plugs the network namespace.
func (h *Host) create(ctx context.Context, authorizedKeys []string) error {
	if err := os.RemoveAll(h.dir); err != nil {
		return fmt.Errorf("clear state dir: %w", err)
	}
	d := h.dir
	for _, sub := range []string{"", "var-lib-mysql", "run-mysqld", "var-log-mysql", "root/.ssh", "tmp", "dev-disk/by-id", "mnt", "etc-ssh"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			return err
		}
	}
	// A fresh image's /etc/mysql: the package's pristine config.
	if _, err := run(ctx, "", "cp", "-a", "/etc/mysql/.", filepath.Join(d, "etc-mysql")+"/"); err != nil {
		return fmt.Errorf("copy /etc/mysql: %w", err)
	}
	// The image's /etc/ssh without the machine's host keys and sshd config:
	// the host gets its own (writeSSHD).
	if ents, err := os.ReadDir("/etc/ssh"); err == nil {
		args := []string{"-a"}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "ssh_host_") && !strings.HasPrefix(e.Name(), "sshd_config") {
				args = append(args, filepath.Join("/etc/ssh", e.Name()))
			}
		}
		if len(args) > 1 {
			if _, err := run(ctx, "", "cp", append(args, filepath.Join(d, "etc-ssh")+"/")...); err != nil {
				return fmt.Errorf("copy /etc/ssh: %w", err)
			}
		}
	}
	fstab, _ := os.ReadFile("/etc/fstab")
	files := map[string]string{
		"hostname":                  h.name + "\n",
		"hosts":                     fmt.Sprintf("127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", h.addr, h.name),
		"resolv.conf":               "# no nameserver: hosts reach only their own subnet\noptions timeout:1 attempts:1\n",
		"fstab":                     string(fstab),
		"root/.ssh/authorized_keys": strings.Join(authorizedKeys, "\n") + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	mysqlUID, mysqlGID, err := lookupIDs("mysql", "mysql")
	if err != nil {
		return err
	}
	_, admGID, err := lookupIDs("", "adm")
	if err != nil {
		return err
	}
	perms := []struct {
		path     string
		mode     os.FileMode
		uid, gid int
	}{
		{"var-lib-mysql", 0o755, mysqlUID, mysqlGID},
		{"run-mysqld", 0o755, mysqlUID, 0},
		{"var-log-mysql", 0o750 | os.ModeSetgid, mysqlUID, admGID},
		{"root", 0o700, 0, 0},
		{"root/.ssh", 0o700, 0, 0},
		{"root/.ssh/authorized_keys", 0o600, 0, 0},
		{"tmp", 0o777 | os.ModeSticky, 0, 0},
	}
	for _, p := range perms {
		path := filepath.Join(d, p.path)
		if err := os.Chown(path, p.uid, p.gid); err != nil {
			return err
		}
		if err := os.Chmod(path, p.mode); err != nil {
			return err
		}
	}
	if err := h.writeSSHD(); err != nil {
		return err
	}
	return h.writeBootScript()
}

func lookupIDs(userName, groupName string) (uid, gid int, err error) {
	if userName != "" {
		u, err := user.Lookup(userName)
		if err != nil {
			return 0, 0, fmt.Errorf("look up user %s: %w", userName, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	g, err := user.LookupGroup(groupName)
	if err != nil {
		return 0, 0, fmt.Errorf("look up group %s: %w", groupName, err)
	}
	gid, _ = strconv.Atoi(g.Gid)
	return uid, gid, nil
}

// writeSSHD generates the host key and the sshd config (keys only, no PAM).
func (h *Host) writeSSHD() error {
	if err := h.writeHostKey(filepath.Join(h.dir, "etc-ssh")); err != nil {
		return err
	}
	// Paths are as the host sees them: its private /etc/ssh.
	cfg := fmt.Sprintf(`# sshd of host %s (generated)
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# no PAM: no logind here and pam_loginuid fails in namespaces
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
PrintMotd no
UseDNS no
AcceptEnv LANG LC_*
MaxStartups 50:30:100
MaxSessions 50
`, h.name)
	return os.WriteFile(filepath.Join(h.dir, "etc-ssh", "sshd_config"), []byte(cfg), 0o644)
}

// writeHostKey generates the host's ed25519 host key into sshDir (the
// machine's path of the host's /etc/ssh) and remembers its public part.
func (h *Host) writeHostKey(sshDir string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "root@"+h.name)
	if err != nil {
		return fmt.Errorf("encode host key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode host key: %w", err)
	}
	h.hostKey = sshPub
	keyFile := filepath.Join(sshDir, "ssh_host_ed25519_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644)
}

// writeBootScript writes the script that runs as the host's PID 1.
func (h *Host) writeBootScript() error {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# PID 1 of host %s: netns %s + private mount, UTS and PID namespaces\nset -e\nhostname %s\n", h.name, h.ns, h.name)
	for _, p := range privateDirs {
		fmt.Fprintf(&b, "mount --bind %s %s\n", shellQuote(filepath.Join(h.dir, p.src)), p.dst)
	}
	// Like a real boot: mount what the (private) fstab lists, e.g. a volume
	// the guest library configured. A missing device must not stop the boot.
	b.WriteString("mount -a || echo 'boot: mount -a failed' >&2\n")
	// sshd logs to stderr, which is boot.log (there is no syslog).
	b.WriteString("exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config\n")
	return os.WriteFile(filepath.Join(h.dir, "boot.sh"), []byte(b.String()), 0o755)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Name is the hostname.
func (h *Host) Name() string { return h.name }

// Addr is the host's IP address on its network.
func (h *Host) Addr() netip.Addr { return h.addr }

// SSHAddr is "ip:22".
func (h *Host) SSHAddr() string { return netip.AddrPortFrom(h.addr, 22).String() }

// NetNS is the name of the host's network namespace (for `ip netns exec`).
func (h *Host) NetNS() string { return h.ns }

// StateDir is the host's state directory on the machine: the private dirs
// (var-lib-mysql, etc-mysql, etc-ssh, ...) and boot.log, which has the boot
// script's and sshd's messages (the host's "serial console" log).
func (h *Host) StateDir() string { return h.dir }

// HostKey is the host's own ed25519 host key (public part).
func (h *Host) HostKey() ssh.PublicKey { return h.hostKey }

// Running reports whether the host is powered on.
func (h *Host) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runningLocked()
}

func (h *Host) runningLocked() bool {
	if h.boot == nil {
		return false
	}
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// PowerOn boots a powered-off host again (same keys, same private directories,
// same disks) and waits for sshd. As on a real boot, /run/mysqld starts empty
// and the host's /etc/fstab is mounted (mount -a). A running host is left
// alone.
func (h *Host) PowerOn(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("power on %s: host is closed", h.name)
	}
	if h.runningLocked() {
		return nil
	}
	if h.boot != nil { // crashed by itself: clear what is left
		if err := h.powerOffLocked(ctx); err != nil {
			return err
		}
	}
	prog, args := "ip", []string{"netns", "exec", h.ns,
		"unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private",
		"/bin/sh", filepath.Join(h.dir, "boot.sh")}
	bootTimeout := 90 * time.Second // a loaded machine (CI: 2 cores, clusters built side by side) can take long to start sshd
	if h.image != "" {
		// nspawn joins the network namespace itself. It runs as PID 1 of a
		// PID namespace of its own (killed with unshare, --kill-child), so
		// the guest dies with it even when this process is killed; the
		// overlay is mounted in a mount namespace that dies with them.
		if err := h.writeSystemdBootScript(); err != nil {
			return fmt.Errorf("power on %s: %w", h.name, err)
		}
		prog, args = "unshare", []string{"--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "/bin/sh", filepath.Join(h.dir, "boot.sh")}
		bootTimeout = systemdBootTimeout
	} else if err := emptyDir(filepath.Join(h.dir, "run-mysqld")); err != nil {
		return fmt.Errorf("power on %s: %w", h.name, err)
	}
	logf, err := os.OpenFile(filepath.Join(h.dir, "boot.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("power on %s: %w", h.name, err)
	}
	defer logf.Close()
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.Env = guestEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := startOwned(cmd); err != nil {
		return fmt.Errorf("power on %s: %w", h.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.boot, h.done = cmd, done
	if err := h.waitSSH(ctx, bootTimeout); err != nil {
		_ = h.powerOffLocked(context.WithoutCancel(ctx))
		return fmt.Errorf("power on %s: %w", h.name, err)
	}
	if h.image != "" && h.seed != nil {
		if err := h.readHostKey(); err != nil {
			_ = h.powerOffLocked(context.WithoutCancel(ctx))
			return fmt.Errorf("power on %s: %w", h.name, err)
		}
	}
	return nil
}

var guestEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
	"TERM=dumb",
}

func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// waitSSH waits until sshd answers with an SSH banner on Addr():22.
func (h *Host) waitSSH(ctx context.Context, timeout time.Duration) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var lastErr error
	for {
		select {
		case <-h.done:
			return fmt.Errorf("boot failed: %s", h.logTail("boot.log"))
		default:
		}
		if lastErr = probeSSH(ctx, h.SSHAddr()); lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for sshd on %s: %w (last: %v); boot log: %s",
				h.SSHAddr(), ctx.Err(), lastErr, h.logTail("boot.log"))
		case <-h.done:
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func probeSSH(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read ssh banner: %w", err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("unexpected banner %q", strings.TrimSpace(line))
	}
	return nil
}

func (h *Host) logTail(rel string) string {
	b, _ := os.ReadFile(filepath.Join(h.dir, rel))
	return strconv.Quote(tail(b, 300))
}

// PowerOff kills everything in the host at once (a hard power-off or crash).
// Private directories and attached disks keep their contents. It returns
// once no live process is left in the host's network namespace.
func (h *Host) PowerOff(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.powerOffLocked(ctx)
}

func (h *Host) powerOffLocked(ctx context.Context) error {
	if h.boot == nil {
		return nil
	}
	// SIGKILL on the outer unshare: --kill-child kills PID 1, and the kernel
	// kills the rest of the PID namespace.
	_ = h.boot.Process.Kill()
	select {
	case <-h.done:
	case <-ctx.Done():
		return fmt.Errorf("power off %s: %w", h.name, ctx.Err())
	}
	h.boot, h.done = nil, nil
	if err := killNetnsPids(ctx, h.ns); err != nil {
		return fmt.Errorf("power off %s: %w", h.name, err)
	}
	if h.image != "" {
		if err := removeGuestCgroups(h.ns); err != nil {
			return fmt.Errorf("power off %s: %w", h.name, err)
		}
	}
	return nil
}

// pid1 is the machine PID of the host's PID 1 (0 if powered off): the
// outermost PID 1 in its network namespace (depth 2 for init-less hosts;
// depth 3 for systemd guests, whose nspawn is PID 1 of the namespace between).
func (h *Host) pid1() int {
	best, bestDepth := 0, 0
	for _, pid := range netnsPids(h.ns) {
		if inner, depth := nsPid(pid); inner == 1 && depth >= 2 && (best == 0 || depth < bestDepth) {
			best, bestDepth = pid, depth
		}
	}
	return best
}

// Shutdown stops the host cleanly: SIGTERM to every process in it but PID 1
// (sshd, whose exit would end the host at once), up to 20 s (bounded by ctx)
// for them to exit, then power off. A host in systemd mode is shut down by
// its own systemd (SIGRTMIN+3, as `poweroff` would), up to 90 s.
func (h *Host) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.image != "" {
		return h.shutdownSystemd(ctx)
	}
	if !h.runningLocked() {
		return h.powerOffLocked(ctx)
	}
	if pid1 := h.pid1(); pid1 != 0 {
		if pidns, ok := statNS(fmt.Sprintf("/proc/%d/ns/pid", pid1)); ok {
			grace, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			signalled := map[int]bool{}
			for {
				left := 0
				for _, pid := range netnsPids(h.ns) {
					if pid == pid1 {
						continue
					}
					if id, ok := statNS(fmt.Sprintf("/proc/%d/ns/pid", pid)); !ok || id != pidns {
						continue
					}
					left++
					if !signalled[pid] {
						signalled[pid] = true
						_ = syscall.Kill(pid, syscall.SIGTERM)
					}
				}
				if left == 0 {
					break
				}
				select {
				case <-grace.Done():
				case <-time.After(50 * time.Millisecond):
					continue
				}
				break
			}
		}
	}
	offCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return h.powerOffLocked(offCtx)
}

// CutNetwork sets the host's link down; HealNetwork sets it up again.
func (h *Host) CutNetwork(ctx context.Context) error {
	if _, err := run(ctx, "", "ip", "-n", h.ns, "link", "set", "eth0", "down"); err != nil {
		return fmt.Errorf("cut network of %s: %w", h.name, err)
	}
	return nil
}

func (h *Host) HealNetwork(ctx context.Context) error {
	if _, err := run(ctx, "", "ip", "-n", h.ns, "link", "set", "eth0", "up"); err != nil {
		return fmt.Errorf("heal network of %s: %w", h.name, err)
	}
	return nil
}

// Blackhole drops traffic from the host to the given peers (a partition that
// keeps the management path from the machine working); Unblackhole undoes it.
// Both are idempotent.
func (h *Host) Blackhole(ctx context.Context, peers ...netip.Addr) error {
	for _, p := range peers {
		if _, err := run(ctx, "", "ip", "-n", h.ns, "route", "replace", "blackhole", netip.PrefixFrom(p, 32).String()); err != nil {
			return fmt.Errorf("blackhole %s on %s: %w", p, h.name, err)
		}
	}
	return nil
}

func (h *Host) Unblackhole(ctx context.Context, peers ...netip.Addr) error {
	for _, p := range peers {
		dst := netip.PrefixFrom(p, 32).String()
		out, _ := run(ctx, "", "ip", "-n", h.ns, "route", "show", "type", "blackhole", dst)
		if strings.TrimSpace(string(out)) == "" {
			continue
		}
		if _, err := run(ctx, "", "ip", "-n", h.ns, "route", "del", "blackhole", dst); err != nil {
			return fmt.Errorf("unblackhole %s on %s: %w", p, h.name, err)
		}
	}
	return nil
}

// Console runs a shell command inside all of the host's namespaces, like a
// serial console: it works while the network is cut. It returns combined
// stdout and stderr; on failure the error has the exit status and the
// output's tail (never the script, which may hold secrets).
func (h *Host) Console(ctx context.Context, script string) ([]byte, error) {
	pid1 := h.pid1()
	if pid1 == 0 {
		return nil, fmt.Errorf("console on %s: host is powered off", h.name)
	}
	cmd := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(pid1), "--all", "/bin/sh", "-c", script)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = guestEnv
	cmd.Dir = "/"
	if err := startOwned(cmd); err != nil {
		return nil, fmt.Errorf("console on %s: %w", h.name, err)
	}
	err := cmd.Wait()
	b := []byte(out.String())
	if err != nil {
		return b, fmt.Errorf("console on %s: %w: %s", h.name, err, tail(b, 500))
	}
	return b, nil
}

// ApplyFirewall loads an nftables ruleset (nft -f syntax) in the host's
// network namespace, replacing the previous one: "flush ruleset" is put in
// front of it and nft applies the whole text as one transaction, so a bad
// ruleset leaves the previous one in force. An empty ruleset removes all
// rules. It works while the host is powered off (the namespace stays).
// NAT tables of the host's aliases (Network.AddAlias) are kept.
func (h *Host) ApplyFirewall(ctx context.Context, ruleset string) error {
	// The NAT tables of the host's aliases (floating IPs) survive the flush.
	if _, err := run(ctx, "flush ruleset\n"+ruleset+"\n"+h.net.aliasRules(h.addr), "ip", "netns", "exec", h.ns, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("apply firewall on %s: %w", h.name, err)
	}
	return nil
}

var serialRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// AttachDisk makes the disk visible inside the host as
// /dev/disk/by-id/virtio-<serial, at most 20 characters> (a symlink to the
// loop device). DetachDisk removes it. Both work while the host is off.
func (h *Host) AttachDisk(ctx context.Context, d *Disk, serial string) error {
	if !serialRE.MatchString(serial) {
		return fmt.Errorf("attach disk to %s: serial %q must be letters, digits, '_', '.' or '-'", h.name, serial)
	}
	if len(serial) > 20 {
		serial = serial[:20]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("attach disk %s to %s: host is closed", serial, h.name)
	}
	if _, ok := h.disks[serial]; ok {
		return fmt.Errorf("attach disk %s to %s: serial already attached", serial, h.name)
	}
	if h.image != "" && h.runningLocked() {
		if err := h.hotplugSystemd(ctx, d); err != nil {
			return fmt.Errorf("attach disk %s to %s: %w", serial, h.name, err)
		}
	}
	link := filepath.Join(h.dir, "dev-disk", "by-id", "virtio-"+serial)
	if err := os.Symlink(d.Device(), link); err != nil {
		return fmt.Errorf("attach disk %s to %s: %w", serial, h.name, err)
	}
	h.disks[serial] = d
	return nil
}

func (h *Host) DetachDisk(ctx context.Context, serial string) error {
	if len(serial) > 20 {
		serial = serial[:20]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	link := filepath.Join(h.dir, "dev-disk", "by-id", "virtio-"+serial)
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("detach disk %s from %s: %w", serial, h.name, err)
	}
	if d, ok := h.disks[serial]; ok && h.image != "" && h.runningLocked() {
		// Bound at boot (a mount) or created when hot-plugged (a node).
		dev := shellQuote(d.Device())
		if _, err := h.Console(ctx, "if mountpoint -q "+dev+"; then umount "+dev+"; fi; rm -f "+dev); err != nil {
			return fmt.Errorf("detach disk %s from %s: remove %s in the guest: %w", serial, h.name, d.Device(), err)
		}
	}
	delete(h.disks, serial)
	return nil
}

// Close powers the host off and removes its namespaces and state. Attached
// disks are detached, not deleted. Safe to call twice.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	if err := h.powerOffLocked(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := unplug(ctx, h.ns); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(h.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove state dir: %w", err))
	}
	if len(errs) > 0 {
		h.closeErr = fmt.Errorf("close host %s: %w", h.name, errors.Join(errs...))
		return h.closeErr
	}
	h.closed = true
	h.disks = nil
	n := h.net
	if !h.addrHeld {
		n.ReleaseAddr(h.addr)
	}
	n.releaseName(h.name)
	n.mu.Lock()
	delete(n.hosts, h)
	delete(n.aliases, h.addr) // they went with the namespace
	n.mu.Unlock()
	return nil
}
