package host

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("PXC_HOST_HELPER") == "1" {
		helperOwner()
		return
	}
	os.Exit(m.Run())
}

// helperOwner plays an owner process that dies without Close:
// TestOwnerDeathKillsHostsAndSweepCleansUp runs the test binary with
// PXC_HOST_HELPER=1 and SIGKILLs it.
func helperOwner() {
	ctx := context.Background()
	n, err := NewNetwork(ctx, NetworkOptions{Prefix: "pxt"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	// PXC_HOST_HELPER_IMAGE: boot the orphan in systemd mode.
	h, err := n.StartHost(ctx, Options{Name: "orphan", Image: os.Getenv("PXC_HOST_HELPER_IMAGE")})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	d, err := NewDisk(ctx, n.StateDir()+"/disks", 8<<20)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("READY", n.ID(), n.StateDir(), h.NetNS(), d.Device(), d.File())
	time.Sleep(time.Minute)
}

func TestOwnerDeathKillsHostsAndSweepCleansUp(t *testing.T) {
	needRoot(t)
	checkOwnerDeath(t, "")
}

// TestOwnerDeathKillsSystemdHosts: a booted systemd guest dies with its
// owner too (nspawn has Pdeathsig, the guest's processes are in the host's
// network namespace), its overlay goes with its mount namespace, and Sweep
// removes the rest.
func TestOwnerDeathKillsSystemdHosts(t *testing.T) {
	checkOwnerDeath(t, galeraImage(t).Root)
}

// checkOwnerDeath runs an owner process with one host (on image, if set),
// SIGKILLs it and checks that the host died and Sweep removes what is left.
func checkOwnerDeath(t *testing.T, image string) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PXC_HOST_HELPER=1", "PXC_HOST_HELPER_IMAGE="+image)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 6 || f[0] != "READY" {
		t.Fatalf("helper: %q %v", line, err)
	}
	id, stateDir, netns, dev, file := f[1], f[2], f[3], f[4], f[5]
	if len(netnsPids(netns)) == 0 {
		t.Fatal("helper's host has no processes")
	}

	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for len(netnsPids(netns)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pids := netnsPids(netns); len(pids) > 0 {
		t.Errorf("host processes outlived their owner: %v", pids)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/netns/" + netns); !os.IsNotExist(err) {
		t.Errorf("netns %s left after Sweep", netns)
	}
	if links, _ := linkNames(ctx); strings.Contains(strings.Join(links, " "), id) {
		t.Errorf("links of %s left after Sweep: %v", id, links)
	}
	if backingFile(dev) == file {
		t.Errorf("loop device %s still attached to %s after Sweep", dev, file)
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state dir %s left after Sweep", stateDir)
	}
	if _, err := os.Stat(netsDir + "/" + id + ".json"); !os.IsNotExist(err) {
		t.Errorf("registry entry for %s left after Sweep", id)
	}
	if image != "" {
		p, err := readCgroupPlacement()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.all {
			if _, err := os.Stat(filepath.Join(m, p.rel(netns))); err == nil {
				t.Errorf("cgroup %s left after Sweep", filepath.Join(m, p.rel(netns)))
			}
		}
	}
	assertNoProcessUses(t, stateDir)
}
