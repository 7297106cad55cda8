package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nsID identifies a namespace by the inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func statNS(path string) (nsID, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nsID{}, false
	}
	return nsID{uint64(st.Dev), st.Ino}, true
}

// allPids lists the numeric entries of /proc.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	pids := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// netnsPids returns the live (non-zombie) processes whose network namespace
// is the named one, like `ip netns pids` without zombies.
func netnsPids(netns string) []int {
	want, ok := statNS(filepath.Join("/run/netns", netns))
	if !ok {
		return nil
	}
	var pids []int
	for _, pid := range allPids() {
		if id, ok := statNS(fmt.Sprintf("/proc/%d/ns/net", pid)); ok && id == want && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procState is the state letter from /proc/<pid>/stat ("" if gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// alive reports whether pid exists and is not a zombie: killed processes
// may wait a while for a lazy reaper, and they hold nothing any more.
func alive(pid int) bool {
	st := procState(pid)
	return st != "" && st != "Z" && st != "X"
}

// startTime is field 22 of /proc/<pid>/stat; with the PID it identifies a
// process even when PIDs are reused.
func startTime(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// nsPid reports the PID of a process as seen in its innermost PID namespace
// and how deep that namespace is (1 = the machine's).
func nsPid(pid int) (inner, depth int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, 0
			}
			inner, _ = strconv.Atoi(f[len(f)-1])
			return inner, len(f)
		}
	}
	return 0, 0
}

// killNetnsPids SIGKILLs every live process in the network namespace and waits
// until none is left.
func killNetnsPids(ctx context.Context, netns string) error {
	for {
		pids := netnsPids(netns)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kill processes in netns %s: %d left (%v): %w", netns, len(pids), pids, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
