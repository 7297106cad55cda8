package host

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
	"golang.org/x/crypto/ssh"
)

// galeraImage returns the cached debian-12-mariadb-galera image, building
// it on the first run on this machine (minutes; logged once). Without
// mmdebstrap or systemd-nspawn the test skips, except under CI where the
// tools are part of the setup (tools/install-deps.sh) and missing ones fail.
func galeraImage(t *testing.T) image.Image {
	t.Helper()
	needRoot(t)
	for _, tool := range []string{"mmdebstrap", "systemd-nspawn"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (tools/install-deps.sh installs it): %v", tool, err)
			}
			t.Skipf("%s is missing (tools/install-deps.sh installs it)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	img, err := image.Ensure(ctx, image.Debian12MariaDBGalera, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if !img.Built {
		t.Logf("image %s cached at %s (its cold build took %v)", img.Recipe.Name, img.Root, img.BuildTime)
	}
	return img
}

// startSystemdHost boots a host on the galera image (opts.Image is set
// here); the network's cleanup closes it.
func startSystemdHost(t *testing.T, n *Network, opts Options) *Host {
	t.Helper()
	opts.Image = galeraImage(t).Root
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := n.StartHost(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSystemdHostBootsImageRunsMariaDBAndLeavesNothing boots one host in
// systemd mode and checks what a real guest has: systemd as PID 1, a
// finished boot, the injected host key and root key, a hot-plugged volume
// as a block device, MariaDB started through its unit; then a hard power
// cut, a second boot and a clean shutdown, with nothing left behind.
func TestSystemdHostBootsImageRunsMariaDBAndLeavesNothing(t *testing.T) {
	n := newTestNetwork(t)
	key := newTestKey(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	t0 := time.Now()
	h := startSystemdHost(t, n, Options{Name: "sysd-a", AuthorizedKeys: []string{key.line}})
	t.Logf("boot to sshd: %v", time.Since(t0).Round(time.Millisecond))

	if got := strings.TrimSpace(mustSSH(t, h, key, "ps -p 1 -o comm=")); got != "systemd" {
		t.Fatalf("PID 1 is %q, want systemd", got)
	}
	if got := strings.TrimSpace(mustSSH(t, h, key, "hostname")); got != "sysd-a" {
		t.Errorf("hostname is %q, want sysd-a", got)
	}
	// --wait returns once the boot job queue is empty.
	state, _ := sshRun(t, h, key, "timeout 120 systemctl is-system-running --wait")
	state = strings.TrimSpace(state)
	t.Logf("boot to %s: %v", state, time.Since(t0).Round(time.Millisecond))
	if failed := strings.TrimSpace(mustSSH(t, h, key, "systemctl --failed --no-legend --plain")); failed != "" {
		t.Logf("failed units:\n%s", failed)
	}
	if state != "running" && state != "degraded" {
		t.Fatalf("systemctl is-system-running = %q, want running or degraded", state)
	}

	// A volume attached while the guest runs is a block device inside.
	d := newTestDisk(t, n)
	if err := h.AttachDisk(ctx, d, "vol-sysd"); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(mustSSH(t, h, key, "blockdev --getsize64 /dev/disk/by-id/virtio-vol-sysd")); got != "67108864" {
		t.Errorf("volume size inside = %q, want 67108864", got)
	}

	// The image leaves MariaDB to whoever configures it; its unit works.
	if out, err := sshRun(t, h, key, "systemctl is-enabled mariadb"); err == nil || strings.TrimSpace(out) != "disabled" {
		t.Errorf("mariadb in the image: is-enabled = %q (err %v), want disabled", strings.TrimSpace(out), err)
	}
	if out, _ := sshRun(t, h, key, "systemctl is-enabled mariadb.socket"); strings.TrimSpace(out) != "disabled" {
		t.Errorf("mariadb.socket in the image: is-enabled = %q, want disabled (it would start an unconfigured server)", strings.TrimSpace(out))
	}
	t1 := time.Now()
	mustSSH(t, h, key, "systemctl start mariadb")
	t.Logf("systemctl start mariadb: %v", time.Since(t1).Round(time.Millisecond))
	if got := strings.TrimSpace(mustSSH(t, h, key, "mariadb -N -e 'SELECT 6*7'")); got != "42" {
		t.Errorf("query answered %q, want 42", got)
	}
	mustSSH(t, h, key, "mariadb -e 'CREATE DATABASE kept'")
	// A filesystem on the volume, in fstab by UUID as the guest library
	// writes it: the next boot mounts it (the host links it by UUID).
	mustSSH(t, h, key, `mkfs.ext4 -q /dev/disk/by-id/virtio-vol-sysd && mkdir -p /mnt/vol &&
echo "UUID=$(blkid -o value -s UUID /dev/disk/by-id/virtio-vol-sysd) /mnt/vol ext4 noatime,nofail 0 2" >> /etc/fstab`)

	// Hard power-off: the guest gets no chance to stop; its disk (the
	// overlay) keeps what was written, and the volume stays attached.
	if err := h.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	if len(netnsPids(h.NetNS())) != 0 || h.Running() {
		t.Fatal("processes left in the host after a hard power-off")
	}
	t2 := time.Now()
	if err := h.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("second boot to sshd: %v", time.Since(t2).Round(time.Millisecond))
	if got := strings.TrimSpace(mustSSH(t, h, key, "test -b /dev/disk/by-id/virtio-vol-sysd && echo block")); got != "block" {
		t.Errorf("volume after reboot: %q, want a block device", got)
	}
	if got := strings.TrimSpace(mustSSH(t, h, key, "findmnt -n -o FSTYPE /mnt/vol || echo not mounted")); got != "ext4" {
		t.Errorf("the volume in fstab by UUID after reboot: %q, want mounted ext4", got)
	}
	if out, _ := sshRun(t, h, key, "systemctl is-active mariadb"); strings.TrimSpace(out) == "active" {
		t.Error("mariadb started on boot although its unit is disabled")
	}
	mustSSH(t, h, key, "systemctl start mariadb")
	if got := strings.TrimSpace(mustSSH(t, h, key, "mariadb -N -e \"SHOW DATABASES LIKE 'kept'\"")); got != "kept" {
		t.Errorf("database written before the power cut: %q, want kept", got)
	}
	dev := d.Device()
	if err := h.DetachDisk(ctx, "vol-sysd"); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(mustSSH(t, h, key, "if [ -e "+dev+" ] || [ -L /dev/disk/by-id/virtio-vol-sysd ]; then echo present; else echo gone; fi")); got != "gone" {
		t.Errorf("after detach, the guest still has the volume's link or device node %s (%q)", dev, got)
	}

	// Clean shutdown: systemd stops the units (MariaDB logs a normal
	// shutdown), halts (SIGRTMIN+3) and nspawn exits by itself.
	t3 := time.Now()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("clean shutdown: %v", time.Since(t3).Round(time.Millisecond))
	if h.Running() || len(netnsPids(h.NetNS())) != 0 {
		t.Fatal("host still running after Shutdown")
	}
	// The guest's persistent journal is in its overlay; the machine's
	// journalctl reads it.
	journal, err := exec.Command("journalctl", "-D", h.StateDir()+"/upper/var/log/journal", "--no-pager", "-o", "cat", "-u", "mariadb").CombinedOutput()
	if err != nil || strings.Count(string(journal), "mariadbd: Shutdown complete") != 1 {
		t.Errorf("want one clean MariaDB shutdown in the guest's journal (the power cut gave it none): journalctl: %v\n%s", err, tail(journal, 800))
	}
	if boot, _ := os.ReadFile(h.StateDir() + "/boot.log"); !strings.Contains(string(boot), "Halting system.") {
		t.Errorf("boot.log shows no halt by systemd: %s", tail(boot, 500))
	}

	dir := h.StateDir()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoProcessUses(t, dir)
}

// assertNoProcessUses checks that no process on the machine runs with dir
// in its command line or has a mount from it (the overlay lives in private
// mount namespaces, so every namespace is looked at).
func assertNoProcessUses(t *testing.T, dir string) {
	t.Helper()
	for _, pid := range allPids() {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), dir) {
			t.Errorf("process %d left: %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
		mounts, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
		if strings.Contains(string(mounts), dir) {
			t.Errorf("process %d still sees a mount under %s", pid, dir)
		}
	}
}

// TestSystemdHostRunsCloudInitFromNoCloudSeed: with a seed, cloud-init runs
// the user data and prints the host key fingerprints on the console (the
// host's boot.log), where a client can verify the host key from.
func TestSystemdHostRunsCloudInitFromNoCloudSeed(t *testing.T) {
	n := newTestNetwork(t)
	key := newTestKey(t)
	t0 := time.Now()
	h := startSystemdHost(t, n, Options{
		Name: "seeded", AuthorizedKeys: []string{key.line},
		NoCloud: &NoCloudSeed{
			InstanceID: "i-0000seeded",
			UserData:   "#cloud-config\nruncmd:\n  - [sh, -c, 'echo from-user-data > /root/ran']\n",
		},
	})
	state, _ := sshRun(t, h, key, "timeout 120 systemctl is-system-running --wait")
	status, _ := sshRun(t, h, key, "cloud-init status --wait")
	t.Logf("boot with cloud-init to %s, cloud-init %s: %v", strings.TrimSpace(state), strings.Join(strings.Fields(status), " "), time.Since(t0).Round(time.Millisecond))
	if failed := strings.TrimSpace(mustSSH(t, h, key, "systemctl --failed --no-legend --plain")); failed != "" {
		t.Errorf("failed units with cloud-init:\n%s", failed)
	}
	if got := strings.TrimSpace(mustSSH(t, h, key, "cat /root/ran")); got != "from-user-data" {
		t.Errorf("user data's runcmd: /root/ran = %q", got)
	}
	console, _ := os.ReadFile(h.StateDir() + "/boot.log")
	i := strings.Index(string(console), "-----BEGIN SSH HOST KEY FINGERPRINTS-----")
	j := strings.Index(string(console), "-----END SSH HOST KEY FINGERPRINTS-----")
	if i < 0 || j < i {
		t.Fatalf("no fingerprint block on the console:\n%s", tail(console, 1500))
	}
	block := string(console[i:j])
	if !strings.Contains(block, ssh.FingerprintSHA256(h.HostKey())) {
		t.Errorf("console fingerprints do not name the host key %s:\n%s", ssh.FingerprintSHA256(h.HostKey()), block)
	}
}
