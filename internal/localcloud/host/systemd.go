package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A host in systemd mode (Options.Image set) boots a real root filesystem
// with systemd as PID 1 instead of running sshd over the machine's own
// filesystem:
//
//	unshare --mount --pid --fork --kill-child --propagation private /bin/sh boot.sh
//	  mount -t overlay (image read-only, upper/ and work/ in the state dir)
//	  exec systemd-nspawn -D merged --boot --register=no --keep-unit
//	       --network-namespace-path=/run/netns/<ns> ...
//
// The overlay is mounted in a mount namespace of its own and nspawn is PID 1
// of a PID namespace of its own, so the guest and its overlay disappear with
// unshare, even if this process is killed: nothing is mounted in the
// machine's namespace. nspawn gives the guest its own PID, UTS, IPC and
// mount namespaces. The host's SSH host key, root's
// authorized_keys, hostname, hosts and resolv.conf are written into the
// upper layer before the first boot, so a guest is reachable and verifiable
// the moment sshd.service starts. Attached disks are bound into the guest's
// /dev at boot (and created there when attached while it runs), with
// /dev/disk/by-id/virtio-<serial> symlinks as today. A reboot or poweroff
// from inside the guest ends nspawn (it does not restart itself): the host
// is then off until PowerOn, unlike a VM, which a guest reboot keeps on.

// systemdBootTimeout bounds a boot that has no deadline from its caller.
const systemdBootTimeout = 3 * time.Minute

// systemdShutdownGrace is how long a clean shutdown may take before the
// host is powered off hard.
const systemdShutdownGrace = 90 * time.Second

// createSystemd prepares the state dir of a systemd host: the overlay's
// upper layer with the host's identity, and the boot script (Rebuild makes
// them again).
func (h *Host) createSystemd(ctx context.Context, authorizedKeys []string) error {
	if err := os.RemoveAll(h.dir); err != nil {
		return fmt.Errorf("clear state dir: %w", err)
	}
	if fi, err := os.Stat(filepath.Join(h.image, "sbin", "init")); err != nil || fi.IsDir() {
		return fmt.Errorf("image %s has no /sbin/init (build it with package image): %v", h.image, err)
	}
	up := filepath.Join(h.dir, "upper")
	for _, sub := range []string{"work", "merged", "dev-disk/by-id", "upper/etc/ssh/sshd_config.d", "upper/root/.ssh"} {
		if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o755); err != nil {
			return err
		}
	}
	for _, p := range []string{"upper/root", "upper/root/.ssh"} {
		if err := os.Chmod(filepath.Join(h.dir, p), 0o700); err != nil {
			return err
		}
	}
	if err := h.writeHostKey(filepath.Join(up, "etc", "ssh")); err != nil {
		return err
	}
	// A machine ID of its own that survives reboots, as a VM commits at its
	// first boot (nspawn would make up a new one per boot, and the journal
	// would start over in a new directory every time).
	machineID := make([]byte, 16)
	if _, err := rand.Read(machineID); err != nil {
		return fmt.Errorf("generate machine ID: %w", err)
	}
	files := []struct {
		path    string
		content string
		mode    os.FileMode
	}{
		{"etc/hostname", h.name + "\n", 0o644},
		{"etc/machine-id", hex.EncodeToString(machineID) + "\n", 0o444},
		{"etc/hosts", fmt.Sprintf("127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n", h.addr, h.name), 0o644},
		{"etc/resolv.conf", "# no nameserver: hosts reach only their own subnet\noptions timeout:1 attempts:1\n", 0o644},
		{"root/.ssh/authorized_keys", strings.Join(authorizedKeys, "\n") + "\n", 0o600},
		// The image's sshd_config includes sshd_config.d/*.conf first-match.
		{"etc/ssh/sshd_config.d/10-pxc.conf", `# written by the local cloud
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 50:30:100
MaxSessions 50
`, 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(up, f.path), []byte(f.content), f.mode); err != nil {
			return err
		}
	}
	if h.seed != nil {
		if err := h.writeNoCloudSeed(up); err != nil {
			return fmt.Errorf("write cloud-init seed: %w", err)
		}
	}
	return h.writeSystemdBootScript()
}

// writeSystemdBootScript writes boot.sh for systemd mode; the disks attached
// at power-on are bound into the guest's /dev.
func (h *Host) writeSystemdBootScript() error {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# boot of host %s (systemd mode): private mount namespace, overlay root, systemd-nspawn\nset -e\n", h.name)
	fmt.Fprintf(&b, "mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s\n",
		shellQuote(h.image), shellQuote(filepath.Join(h.dir, "upper")), shellQuote(filepath.Join(h.dir, "work")), shellQuote(filepath.Join(h.dir, "merged")))
	args := []string{
		"exec", "systemd-nspawn", "--quiet",
		"-D", shellQuote(filepath.Join(h.dir, "merged")),
		"--boot", "--register=no", "--keep-unit",
		// The machine name keys nspawn's state under /run/systemd/nspawn:
		// the netns name is unique on the machine, the hostname is not.
		"--machine=" + shellQuote(h.ns), "--hostname=" + shellQuote(h.name),
		"--network-namespace-path=" + shellQuote(filepath.Join("/run/netns", h.ns)),
		"--resolv-conf=off", "--timezone=off", "--link-journal=no",
		"--console=read-only",
		"--bind=" + shellQuote(filepath.Join(h.dir, "dev-disk")) + ":/dev/disk",
	}
	for _, d := range h.disks {
		args = append(args, "--bind="+shellQuote(d.Device()))
	}
	b.WriteString(strings.Join(args, " ") + "\n")
	return os.WriteFile(filepath.Join(h.dir, "boot.sh"), []byte(b.String()), 0o755)
}

// shutdownSystemd asks the guest's systemd to power off (nspawn turns
// SIGTERM into SIGRTMIN+3 for it), waits for nspawn to exit, then powers
// off whatever is left.
func (h *Host) shutdownSystemd(ctx context.Context) error {
	if !h.runningLocked() {
		return h.powerOffLocked(ctx)
	}
	if pid := childOf(h.boot.Process.Pid); pid != 0 {
		_ = syscall.Kill(pid, syscall.SIGTERM) // nspawn, below unshare --fork
	}
	grace, cancel := context.WithTimeout(ctx, systemdShutdownGrace)
	defer cancel()
	select {
	case <-h.done:
	case <-grace.Done():
	}
	offCtx, cancelOff := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancelOff()
	return h.powerOffLocked(offCtx)
}

// hotplugSystemd creates a disk's device node in a running systemd guest's
// /dev (nspawn's /dev is its own tmpfs; disks attached before boot are bound
// by boot.sh).
func (h *Host) hotplugSystemd(ctx context.Context, d *Disk) error {
	var st syscall.Stat_t
	if err := syscall.Stat(d.Device(), &st); err != nil {
		return fmt.Errorf("stat %s: %w", d.Device(), err)
	}
	major, minor := (st.Rdev>>8)&0xfff, (st.Rdev&0xff)|((st.Rdev>>12)&0xfff00)
	script := fmt.Sprintf("[ -b %[1]s ] || mknod -m 660 %[1]s b %[2]d %[3]d", shellQuote(d.Device()), major, minor)
	if _, err := h.Console(ctx, script); err != nil {
		return fmt.Errorf("create %s in the guest: %w", d.Device(), err)
	}
	return nil
}

// NoCloudSeed is what cloud-init's NoCloud datasource reads at boot, as a
// cloud's metadata service would serve it.
type NoCloudSeed struct {
	// InstanceID is the server's ID; cloud-init runs its per-instance
	// modules again when it changes.
	InstanceID string
	// UserData is the server's user data (#cloud-config, a script, ...);
	// empty: none.
	UserData string
}

// writeNoCloudSeed writes the seed into the upper layer, with the host's
// settings for cloud-init: keep the host key the cloud generated (so
// HostKey and the fingerprints cloud-init prints on the console agree) and
// make no others.
func (h *Host) writeNoCloudSeed(upper string) error {
	dir := filepath.Join(upper, "var", "lib", "cloud", "seed", "nocloud")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(upper, "etc", "cloud", "cloud.cfg.d"), 0o755); err != nil {
		return err
	}
	meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\n", strconv.Quote(h.seed.InstanceID), h.name)
	files := map[string]string{
		filepath.Join(dir, "meta-data"):                                        meta,
		filepath.Join(dir, "user-data"):                                        h.seed.UserData,
		filepath.Join(upper, "etc", "cloud", "cloud.cfg.d", "95-pxc-host.cfg"): "# written by the local cloud: the host key is generated by the cloud\nssh_deletekeys: false\nssh_genkeytypes: []\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// childOf is the first child of pid (0 if none).
func childOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	child, _ := strconv.Atoi(f[0])
	return child
}
