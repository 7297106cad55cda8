package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// A host in systemd mode (Options.Image set) boots a real root filesystem
// with systemd as PID 1 instead of running sshd over the machine's own
// filesystem:
//
//	unshare --mount --pid --fork --kill-child --propagation private /bin/sh boot.sh
//	  move itself into a cgroup of the host's own (cgroup.go)
//	  mount -t overlay (image read-only, upper/ and work/ in the state dir)
//	  exec systemd-nspawn -D merged --boot --register=no --keep-unit
//	       --network-namespace-path=/run/netns/<ns> ...
//
// The overlay is mounted in a mount namespace of its own and nspawn is PID 1
// of a PID namespace of its own, so the guest and its overlay disappear with
// unshare, even if this process is killed: nothing is mounted in the
// machine's namespace. nspawn gives the guest its own PID, UTS, IPC and
// mount namespaces. The hostname, hosts and resolv.conf are written into
// the upper layer before the first boot. Without a NoCloud seed the host's
// SSH host key and root's authorized_keys are written there too; with one,
// cloud-init makes them at first boot as on a cloud (ed25519 host key,
// root's keys from the seed's public-keys; cloud-init runs before
// sshd.service), prints the fingerprints on the console, and the host reads
// the public key from the upper layer once sshd answers. Attached disks are bound into the guest's
// /dev at boot (and created there when attached while it runs), with
// /dev/disk/by-id/virtio-<serial> symlinks as today, and at boot
// /dev/disk/by-uuid/<uuid> links for those holding a filesystem (udev's
// job on a VM), so the guest's fstab mounts its volumes by UUID. A reboot or poweroff
// from inside the guest ends nspawn (it does not restart itself): the host
// is then off until PowerOn, unlike a VM, which a guest reboot keeps on.

// fstabUnit mounts the guest's fstab block devices at boot (see createSystemd).
const fstabUnit = "localcloud-fstab.service"

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
	for _, sub := range []string{"work", "merged", "dev-disk/by-id", "upper/etc/ssh/sshd_config.d", "upper/root/.ssh", "upper/etc/systemd/system/local-fs.target.wants"} {
		if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o755); err != nil {
			return err
		}
	}
	for _, p := range []string{"upper/root", "upper/root/.ssh"} {
		if err := os.Chmod(filepath.Join(h.dir, p), 0o700); err != nil {
			return err
		}
	}
	if h.seed == nil {
		if err := h.writeHostKey(filepath.Join(up, "etc", "ssh")); err != nil {
			return err
		}
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
	// systemd's fstab generator ignores block devices in a container, where
	// a VM's boot mounts them: this unit mounts them instead, before
	// local-fs.target as the generator's units would be.
	files = append(files, struct {
		path    string
		content string
		mode    os.FileMode
	}{"etc/systemd/system/" + fstabUnit, `# written by the local cloud
[Unit]
Description=Mount the block devices of /etc/fstab (the fstab generator skips them in a container)
DefaultDependencies=no
After=local-fs-pre.target
Before=local-fs.target
ConditionVirtualization=container

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount -a -O no_netdev
`, 0o644})
	if h.seed == nil {
		files = append(files, struct {
			path    string
			content string
			mode    os.FileMode
		}{"root/.ssh/authorized_keys", strings.Join(authorizedKeys, "\n") + "\n", 0o600})
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(up, f.path), []byte(f.content), f.mode); err != nil {
			return err
		}
	}
	if err := os.Symlink("../"+fstabUnit, filepath.Join(up, "etc", "systemd", "system", "local-fs.target.wants", fstabUnit)); err != nil {
		return err
	}
	if h.seed != nil {
		if err := h.writeNoCloudSeed(up, authorizedKeys); err != nil {
			return fmt.Errorf("write cloud-init seed: %w", err)
		}
	}
	return h.writeSystemdBootScript()
}

// writeSystemdBootScript writes boot.sh for systemd mode; the disks attached
// at power-on are bound into the guest's /dev.
func (h *Host) writeSystemdBootScript() error {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# boot of host %s (systemd mode): cgroups of its own, private mount namespace, overlay root, systemd-nspawn\nset -e\n", h.name)
	cg, err := readCgroupPlacement()
	if err != nil {
		return err
	}
	b.WriteString(cg.enterScript(h.ns))
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
	if err := h.linkDisksByUUID(); err != nil {
		return err
	}
	b.WriteString(strings.Join(args, " ") + "\n")
	return os.WriteFile(filepath.Join(h.dir, "boot.sh"), []byte(b.String()), 0o755)
}

// linkDisksByUUID makes /dev/disk/by-uuid/<uuid> links for the attached
// disks that hold a filesystem, as udev would at boot: a guest's fstab names
// its volumes by UUID (the guest library's does), and mount(8) finds them
// through these links; the guest has no udev. Links of detached disks go.
func (h *Host) linkDisksByUUID() error {
	dir := filepath.Join(h.dir, "dev-disk", "by-uuid")
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range h.disks {
		out, err := exec.Command("blkid", "-p", "-o", "value", "-s", "UUID", d.Device()).Output()
		uuid := strings.TrimSpace(string(out))
		if err != nil || uuid == "" || strings.ContainsAny(uuid, "/ ") {
			continue // no filesystem (yet)
		}
		if err := os.Symlink(d.Device(), filepath.Join(dir, uuid)); err != nil {
			return fmt.Errorf("link disk %s by uuid: %w", d.Device(), err)
		}
	}
	return nil
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
// cloud's metadata service would serve it. The hostname is the host's
// name, the public keys are Options.AuthorizedKeys.
type NoCloudSeed struct {
	// InstanceID is the server's ID; cloud-init runs its per-instance
	// modules (host keys, authorized keys, user data) again when it changes.
	InstanceID string
	// UserData is the server's user data (#cloud-config, a script, ...);
	// empty: none.
	UserData string
	// HideHostKeys keeps the host key fingerprints off the console
	// (cloud-init's ssh.emit_keys_to_console: false).
	HideHostKeys bool
}

// writeNoCloudSeed writes the seed into the upper layer, with the cloud's
// settings for cloud-init: root logs in with the seed's keys (the cloud's
// images let root in, disable_root: false) and the host key cloud-init
// makes is one ed25519 key (what the host reads back, and quick to make).
func (h *Host) writeNoCloudSeed(upper string, publicKeys []string) error {
	dir := filepath.Join(upper, "var", "lib", "cloud", "seed", "nocloud")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(upper, "etc", "cloud", "cloud.cfg.d"), 0o755); err != nil {
		return err
	}
	var meta strings.Builder
	fmt.Fprintf(&meta, "instance-id: %s\nlocal-hostname: %s\n", strconv.Quote(h.seed.InstanceID), h.name)
	if len(publicKeys) > 0 {
		meta.WriteString("public-keys:\n")
		for _, k := range publicKeys {
			fmt.Fprintf(&meta, "  - %s\n", strconv.Quote(strings.TrimSpace(k)))
		}
	}
	cfg := "# written by the local cloud\ndisable_root: false\nssh_genkeytypes: [ed25519]\n"
	if h.seed.HideHostKeys {
		cfg += "ssh:\n  emit_keys_to_console: false\n"
	}
	files := map[string]string{
		filepath.Join(dir, "meta-data"):                                        meta.String(),
		filepath.Join(dir, "user-data"):                                        h.seed.UserData,
		filepath.Join(upper, "etc", "cloud", "cloud.cfg.d", "95-pxc-host.cfg"): cfg,
	}
	if vd := h.net.VendorData(); vd != "" {
		files[filepath.Join(dir, "vendor-data")] = vd
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// readHostKey reads the ed25519 host key cloud-init made in the guest (its
// public part, from the upper layer) and remembers it.
func (h *Host) readHostKey() error {
	b, err := os.ReadFile(filepath.Join(h.dir, "upper", "etc", "ssh", "ssh_host_ed25519_key.pub"))
	if err != nil {
		return fmt.Errorf("read the host key cloud-init made: %w", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return fmt.Errorf("parse the host key cloud-init made: %w", err)
	}
	h.hostKey = pub
	return nil
}

// SerialLog is the host's console output so far (boot.log): in systemd mode
// systemd's and cloud-init's boot messages, as a VM's serial console.
func (h *Host) SerialLog() ([]byte, error) {
	return os.ReadFile(filepath.Join(h.dir, "boot.log"))
}

// Systemd reports whether the host boots an image with systemd as PID 1.
func (h *Host) Systemd() bool { return h.image != "" }

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
