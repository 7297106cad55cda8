package host

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newTestDisk is a 64 MiB disk in the network's state dir that t.Cleanup
// closes.
func newTestDisk(t *testing.T, n *Network) *Disk {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := NewDisk(ctx, n.StateDir()+"/disks", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close disk: %v", err)
		}
	})
	return d
}

func TestPowerOffAndOnKeepsDisksAndData(t *testing.T) {
	n := newTestNetwork(t)
	key := newTestKey(t)
	h := startHost(t, n, "db1", key)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	d := newTestDisk(t, n)
	if err := h.AttachDisk(ctx, d, "vol-0123456789abcdefghijklmn"); err != nil {
		t.Fatal(err)
	}
	dev := "/dev/disk/by-id/virtio-vol-0123456789abcdef" // serial cut to 20 characters
	mustSSH(t, h, key, "mkfs.ext4 -q "+dev+" && mkdir -p /mnt/data && mount "+dev+" /mnt/data && echo on-disk > /mnt/data/f && umount /mnt/data")
	if got := strings.TrimSpace(mustSSH(t, h, key, "blockdev --getsize64 "+dev)); got != strconv.Itoa(64<<20) {
		t.Errorf("disk size inside: %s, want %d", got, 64<<20)
	}
	if err := d.Resize(ctx, 96<<20); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(mustSSH(t, h, key, "blockdev --getsize64 "+dev)); got != strconv.Itoa(96<<20) {
		t.Errorf("disk size inside after resize: %s, want %d", got, 96<<20)
	}
	if d.Size() != 96<<20 {
		t.Errorf("Size() = %d after resize", d.Size())
	}
	if err := d.Resize(ctx, 1<<20); err == nil {
		t.Error("shrinking a disk succeeded")
	}

	// The guest library puts the volume in fstab; a boot mounts it.
	mustSSH(t, h, key, "echo kept > /var/lib/mysql/kept; echo '"+dev+" /mnt/data ext4 defaults,nofail 0 2' >> /etc/fstab; mount /mnt/data; setsid sleep 1000 </dev/null >/dev/null 2>&1 &")
	if b, _ := os.ReadFile("/etc/fstab"); strings.Contains(string(b), "virtio") {
		t.Error("the host's fstab entry reached the machine's /etc/fstab")
	}
	if err := h.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	if h.Running() {
		t.Error("Running() after PowerOff")
	}
	if pids := netnsPids(h.NetNS()); len(pids) != 0 {
		t.Errorf("processes left in %s after PowerOff: %v", h.NetNS(), pids)
	}
	if c, err := net.DialTimeout("tcp", h.SSHAddr(), time.Second); err == nil {
		c.Close()
		t.Error("sshd still reachable after PowerOff")
	}
	if _, err := h.Console(ctx, "true"); err == nil {
		t.Error("Console works on a powered-off host")
	}

	t0 := time.Now()
	if err := h.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("power on took %v", time.Since(t0).Round(time.Millisecond))
	out := mustSSH(t, h, key, "cat /var/lib/mysql/kept; mountpoint -q /mnt/data && cat /mnt/data/f; pgrep -x sleep || echo no-sleep")
	if out != "kept\non-disk\nno-sleep\n" {
		t.Errorf("after power on: %q", out)
	}

	// Shutdown: processes get SIGTERM and the grace period ends as soon as they are gone.
	mustSSH(t, h, key, "umount /mnt/data; setsid sleep 1000 </dev/null >/dev/null 2>&1 &")
	t0 = time.Now()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("Shutdown took %v although everything exits on SIGTERM", took)
	}
	if h.Running() {
		t.Error("Running() after Shutdown")
	}
	if err := h.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.DetachDisk(ctx, "vol-0123456789abcdefghijklmn"); err != nil {
		t.Fatal(err)
	}
	if out, err := sshRun(t, h, key, "ls /dev/disk/by-id/"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("after detach: %q %v", out, err)
	}
}

func TestNetworkFaultsAndFirewall(t *testing.T) {
	// State under the machine's /tmp works too (hosts mount their /tmp last).
	n := newTestNetworkOpts(t, NetworkOptions{Prefix: "pxt", StateDir: t.TempDir()})
	key := newTestKey(t)
	a := startHost(t, n, "fa", key)
	b := startHost(t, n, "fb", key)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	check := func(step string, want bool) {
		t.Helper()
		if got := tcpReachable(t, a, b.SSHAddr()); got != want {
			t.Errorf("%s: a->b:22 reachable=%v, want %v", step, got, want)
		}
	}
	check("start", true)

	if err := a.CutNetwork(ctx); err != nil {
		t.Fatal(err)
	}
	check("cut", false)
	if out := mustConsole(t, a, "hostname"); out != "fa\n" {
		t.Errorf("console while cut: %q", out)
	}
	if err := a.HealNetwork(ctx); err != nil {
		t.Fatal(err)
	}
	check("healed", true)

	if err := a.Blackhole(ctx, b.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := a.Blackhole(ctx, b.Addr()); err != nil { // idempotent
		t.Fatal(err)
	}
	check("blackholed", false)
	if _, err := sshRun(t, a, key, "true"); err != nil {
		t.Errorf("management path from the machine broken by blackhole: %v", err)
	}
	if err := a.Unblackhole(ctx, b.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := a.Unblackhole(ctx, b.Addr()); err != nil {
		t.Fatal(err)
	}
	check("unblackholed", true)

	drop22 := "table inet fw {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 22 ip saddr " + a.Addr().String() + " drop\n }\n}\n"
	if err := b.ApplyFirewall(ctx, drop22); err != nil {
		t.Fatal(err)
	}
	check("firewalled", false)
	if _, err := sshRun(t, b, key, "true"); err != nil {
		t.Errorf("firewall rule for a's address blocked the machine: %v", err)
	}
	if err := b.ApplyFirewall(ctx, drop22); err != nil { // replaces, does not duplicate
		t.Fatal(err)
	}
	if err := b.ApplyFirewall(ctx, "this is not nft"); err == nil {
		t.Error("a bad ruleset was accepted")
	}
	check("bad ruleset keeps the old one", false)
	if err := b.ApplyFirewall(ctx, ""); err != nil {
		t.Fatal(err)
	}
	check("firewall removed", true)
}

func TestNamespaceRunsProcessReachableAtItsAddress(t *testing.T) {
	n := newTestNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := n.NewNamespace(ctx, "lb", n.Subnet().Addr().Next().Next().Next()) // .3
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.NewNamespace(ctx, "lb", netip.Addr{}); err == nil {
		t.Error("a second namespace with the same name was created")
	}
	cmd := s.Command(ctx, "socat", "TCP-LISTEN:8080,reuseaddr,fork", "SYSTEM:echo hello-from-ns")
	if err := s.Start(cmd); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	addr := net.JoinHostPort(s.Addr().String(), "8080")
	var got string
	for i := 0; i < 100 && got == ""; i++ {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			buf := make([]byte, 64)
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			k, _ := c.Read(buf)
			got = string(buf[:k])
			c.Close()
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got != "hello-from-ns\n" {
		t.Fatalf("read %q from %s", got, addr)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("socat still running after namespace Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConcurrentNetworksAreDistinct(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const k = 4
	nets := make([]*Network, k)
	errs := make(chan error, k)
	for i := range nets {
		go func() {
			var err error
			nets[i], err = NewNetwork(ctx, NetworkOptions{Prefix: "pxt"})
			errs <- err
		}()
	}
	for range nets {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n, err := NewNetwork(ctx, NetworkOptions{Prefix: "pxt", StateDir: "relative"}); err == nil {
		n.Close()
		t.Error("a relative state dir was accepted")
	}
	if n, err := NewNetwork(ctx, NetworkOptions{Prefix: "toolong"}); err == nil {
		n.Close()
		t.Error("a 7-character prefix was accepted")
	}
	seenSubnet, seenBridge := map[string]bool{}, map[string]bool{}
	for _, n := range nets {
		if n == nil {
			continue
		}
		t.Cleanup(func() {
			if err := n.Close(); err != nil {
				t.Error(err)
			}
			assertGone(t, n)
		})
		if seenSubnet[n.Subnet().String()] || seenBridge[n.Bridge()] {
			t.Errorf("duplicate subnet %s or bridge %s", n.Subnet(), n.Bridge())
		}
		seenSubnet[n.Subnet().String()], seenBridge[n.Bridge()] = true, true
		if len(n.Bridge()) > 15 {
			t.Errorf("bridge name %q longer than IFNAMSIZ", n.Bridge())
		}
		if b := n.Subnet().Addr().As4(); b[0] != 10 || b[1] < 200 || n.Subnet().Bits() != 24 {
			t.Errorf("subnet %s outside 10.200.0.0-10.255.255.0/24", n.Subnet())
		}
	}
}
