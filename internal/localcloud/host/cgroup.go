package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A systemd guest gets a cgroup subtree of its own, as a VM has a kernel of
// its own. systemd-nspawn --keep-unit places the guest in "payload" below
// the cgroup nspawn runs in; every guest booted from the cloud's process
// would share that one subtree, and each guest's systemd would track its
// units by cgroups that also hold the other guests' processes (a unit then
// never looks stopped, and starting one finds "left-over" processes of
// other guests). boot.sh moves itself into <own cgroup>/pxc-localcloud/<netns>
// before it execs nspawn, and the host removes that subtree when it is off.

// cgroupParent groups the guests' cgroups below the cloud process's own. It
// is never removed: clouds create their guests' cgroups in it concurrently.
const cgroupParent = "pxc-localcloud"

// cgroupPlacement says where nspawn puts a guest: the mount points of the
// hierarchies systemd tracks processes in (name=systemd of a legacy or
// hybrid setup, and the cgroup2 hierarchy) and the cgroup path the guests'
// subtrees go below, taken from this process's place in them.
type cgroupPlacement struct {
	mounts []string // hierarchies to move boot.sh into
	all    []string // every cgroup hierarchy (nspawn creates the payload in each)
	base   string   // this process's cgroup (name=systemd's if there is one)
}

// readCgroupPlacement reads /proc/self/mountinfo and /proc/self/cgroup.
func readCgroupPlacement() (cgroupPlacement, error) {
	var p cgroupPlacement
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return p, fmt.Errorf("read mountinfo: %w", err)
	}
	var named, unified string
	for _, line := range strings.Split(string(info), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		switch g[0] {
		case "cgroup2":
			unified = f[4]
			p.all = append(p.all, f[4])
		case "cgroup":
			if strings.Contains(","+g[2]+",", ",name=systemd,") {
				named = f[4]
			}
			p.all = append(p.all, f[4])
		}
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return p, fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	var namedPath, unifiedPath string
	for _, line := range strings.Split(string(own), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			unifiedPath = f[2]
		case f[1] == "name=systemd":
			namedPath = f[2]
		}
	}
	switch {
	case named != "" && namedPath != "":
		p.base = namedPath
		p.mounts = append(p.mounts, named)
		if unified != "" {
			p.mounts = append(p.mounts, unified) // hybrid: systemd tracks by both
		}
	case unified != "" && unifiedPath != "":
		p.base = unifiedPath
		p.mounts = append(p.mounts, unified)
	default:
		return p, errors.New("no name=systemd or cgroup2 hierarchy is mounted (systemd guests need one)")
	}
	return p, nil
}

// rel is the cgroup path of the guest in netns ns.
func (p cgroupPlacement) rel(ns string) string {
	return filepath.Join("/", p.base, cgroupParent, ns)
}

// enterScript is the shell that moves boot.sh into the guest's cgroups
// ("0" is the writing process itself).
func (p cgroupPlacement) enterScript(ns string) string {
	var b strings.Builder
	for _, m := range p.mounts {
		dir := shellQuote(filepath.Join(m, p.rel(ns)))
		fmt.Fprintf(&b, "mkdir -p %s\necho 0 > %s/cgroup.procs\n", dir, dir)
	}
	return b.String()
}

// removeGuestCgroups removes the cgroup subtree of the guest in netns ns in
// every hierarchy, deepest first. Its processes must be gone; an exiting
// one may hold a cgroup for a moment, so removal is retried briefly.
func removeGuestCgroups(ns string) error {
	p, err := readCgroupPlacement()
	if err != nil {
		return nil // no hierarchy: no systemd guest was ever booted here
	}
	var errs []error
	for _, m := range p.all {
		if err := removeCgroupTree(filepath.Join(m, p.rel(ns))); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func removeCgroupTree(top string) error {
	var dirs []string
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list cgroup %s: %w", top, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for i := len(dirs) - 1; i >= 0; i-- {
		for {
			err := syscall.Rmdir(dirs[i])
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
				return fmt.Errorf("remove cgroup %s: %w", dirs[i], err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// removeNetworkCgroups removes the cgroups of every guest of network id
// (the netns names start with "<id>-"), for Sweep: a killed cloud's guests
// are gone but their cgroups are not.
func removeNetworkCgroups(id string) error {
	p, err := readCgroupPlacement()
	if err != nil {
		return nil
	}
	var errs []error
	for _, m := range p.all {
		parent := filepath.Join(m, p.base, cgroupParent)
		ents, _ := os.ReadDir(parent)
		for _, e := range ents {
			if e.IsDir() && strings.HasPrefix(e.Name(), id+"-") {
				if err := removeCgroupTree(filepath.Join(parent, e.Name())); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
