package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSystemdGuestsHaveCgroupsOfTheirOwn boots two systemd guests side by
// side: each unit of each guest is a cgroup holding that guest's processes
// only (sshd of one guest is not in the other's ssh.service, as on two
// VMs), and a guest's cgroups go when it is powered off and closed.
func TestSystemdGuestsHaveCgroupsOfTheirOwn(t *testing.T) {
	n := newTestNetwork(t)
	guests := []*Host{startSystemdHost(t, n, Options{Name: "cga"}), startSystemdHost(t, n, Options{Name: "cgb"})}
	p, err := readCgroupPlacement()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range guests {
		want, _ := statNS(filepath.Join("/run/netns", h.NetNS()))
		for _, pid := range waitUnitProcs(t, p, h, "ssh.service") {
			// A process that exited since (sshd -t) is nobody's.
			if id, ok := statNS(fmt.Sprintf("/proc/%d/ns/net", pid)); ok && id != want {
				t.Errorf("%s: process %d in its ssh.service cgroup belongs to another host", h.Name(), pid)
			}
		}
	}
	h := guests[0]
	rel := p.rel(h.NetNS())
	if err := h.PowerOff(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, m := range p.all {
		if _, err := os.Stat(filepath.Join(m, rel)); err == nil {
			t.Errorf("cgroup %s is left after power-off", filepath.Join(m, rel))
		}
	}
	rel = p.rel(guests[1].NetNS())
	if err := guests[1].Close(); err != nil {
		t.Fatal(err)
	}
	for _, m := range p.all {
		if _, err := os.Stat(filepath.Join(m, rel)); err == nil {
			t.Errorf("cgroup %s is left after close", filepath.Join(m, rel))
		}
	}
}

// waitUnitProcs returns the machine PIDs in the cgroup of a guest's unit,
// once it has some (the unit may still be starting).
func waitUnitProcs(t *testing.T, p cgroupPlacement, h *Host, unit string) []int {
	t.Helper()
	path := filepath.Join(p.mounts[0], p.rel(h.NetNS()), "payload", "system.slice", unit, "cgroup.procs")
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := os.ReadFile(path)
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		if err == nil && len(pids) > 0 {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no process in %s (%v)", h.Name(), path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
