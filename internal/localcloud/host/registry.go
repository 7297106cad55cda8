package host

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The registry records, per network and per disk, which process owns it, so
// that concurrent test binaries never pick the same names or subnets and
// Sweep can clean up after owners that died. Every change happens under an
// flock on lockFile.
var (
	runDir   = "/run/pxc-hosts"
	lockFile = filepath.Join(runDir, "alloc.lock")
	netsDir  = filepath.Join(runDir, "nets")
	disksDir = filepath.Join(runDir, "disks")
)

// DefaultStateRoot holds the state directories NewNetwork creates. It is not
// under /tmp: the hosts bind-mount their own /tmp, and sshd's StrictModes
// wants root-owned, non-world-writable parents.
const DefaultStateRoot = "/var/lib/pxc-hosts"

type owner struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

func self() owner { pid := os.Getpid(); return owner{pid, startTime(pid)} }

// alive reports whether the owning process still runs (same PID, same start).
func (o owner) alive() bool {
	return alive(o.PID) && startTime(o.PID) == o.Start
}

type netRecord struct {
	ID           string `json:"id"` // bridge name and prefix of every kernel object
	Subnet       string `json:"subnet"`
	StateDir     string `json:"state_dir"`
	OwnsStateDir bool   `json:"owns_state_dir"`
	Owner        owner  `json:"owner"`
}

type diskRecord struct {
	Device string `json:"device"`
	File   string `json:"file"`
	Owner  owner  `json:"owner"`
}

// withLock runs fn while holding the machine-wide allocation lock.
func withLock(fn func() error) error {
	for _, d := range []string{runDir, netsDir, disksDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", lockFile, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", lockFile, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readNetRecords() []netRecord {
	var recs []netRecord
	ents, _ := os.ReadDir(netsDir)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		var r netRecord
		if b, err := os.ReadFile(filepath.Join(netsDir, e.Name())); err == nil && json.Unmarshal(b, &r) == nil {
			recs = append(recs, r)
		}
	}
	return recs
}

func readDiskRecords() map[string]diskRecord {
	recs := map[string]diskRecord{}
	ents, _ := os.ReadDir(disksDir)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		var r diskRecord
		p := filepath.Join(disksDir, e.Name())
		if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &r) == nil {
			recs[p] = r
		}
	}
	return recs
}

const idChars = "abcdefghijklmnopqrstuwxyz0123456789" // no 'v': it separates veth names

func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(idChars))))
		b[i] = idChars[k.Int64()]
	}
	return string(b)
}

// usedPrefixes lists IPv4 prefixes already on this machine (addresses and
// routes), so a new subnet never overlaps something someone else set up.
func usedPrefixes(ctx context.Context) ([]netip.Prefix, error) {
	var used []netip.Prefix
	out, err := run(ctx, "", "ip", "-o", "-4", "addr", "show")
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == "inet" {
			if p, err := netip.ParsePrefix(f[3]); err == nil {
				used = append(used, p.Masked())
			}
		}
	}
	out, err = run(ctx, "", "ip", "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" || dst == "unreachable" || dst == "blackhole" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil && p.Bits() > 0 {
			used = append(used, p.Masked())
		}
	}
	return used, nil
}

// allocateNetwork picks a unique ID and /24 and records them, all under the lock.
func allocateNetwork(ctx context.Context, prefix, stateDir string) (netRecord, error) {
	var rec netRecord
	err := withLock(func() error {
		used, err := usedPrefixes(ctx)
		if err != nil {
			return err
		}
		recs := readNetRecords()
		for _, r := range recs {
			if p, err := netip.ParsePrefix(r.Subnet); err == nil {
				used = append(used, p)
			}
		}
		links, err := linkNames(ctx)
		if err != nil {
			return err
		}
		id := ""
		for try := 0; try < 100 && id == ""; try++ {
			cand := prefix + randomString(4)
			if clashes(cand, recs, links) {
				continue
			}
			id = cand
		}
		if id == "" {
			return errors.New("no free network name")
		}
		subnet, err := pickSubnet(used)
		if err != nil {
			return err
		}
		if stateDir == "" {
			stateDir = DefaultStateRoot
		}
		rec = netRecord{ID: id, Subnet: subnet.String(), Owner: self(),
			StateDir: filepath.Join(stateDir, id), OwnsStateDir: true}
		return writeJSON(filepath.Join(netsDir, id+".json"), rec)
	})
	return rec, err
}

// pickSubnet picks a random 10.2xx.y.0/24 overlapping none of used.
func pickSubnet(used []netip.Prefix) (netip.Prefix, error) {
	for try := 0; try < 1000; try++ {
		b, _ := rand.Int(rand.Reader, big.NewInt(56*256))
		n := int(b.Int64())
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(200 + n/256), byte(n % 256), 0}), 24)
		free := true
		for _, u := range used {
			if u.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return cand, nil
		}
	}
	return netip.Prefix{}, errors.New("no free /24 in 10.200.0.0-10.255.255.0")
}

// clashes reports whether cand could be confused with an existing network:
// one name a prefix of the other, or any link starting with it.
func clashes(cand string, recs []netRecord, links []string) bool {
	for _, r := range recs {
		if strings.HasPrefix(r.ID, cand) || strings.HasPrefix(cand, r.ID) {
			return true
		}
	}
	for _, l := range links {
		if strings.HasPrefix(l, cand) {
			return true
		}
	}
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), cand) {
			return true
		}
	}
	return false
}

// linkNames lists the machine's network interfaces.
func linkNames(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "", "ip", "-o", "link", "show")
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			name := strings.TrimSuffix(f[1], ":")
			if i := strings.IndexByte(name, '@'); i >= 0 {
				name = name[:i]
			}
			names = append(names, name)
		}
	}
	return names, nil
}

func removeNetRecord(id string) {
	_ = withLock(func() error { return os.Remove(filepath.Join(netsDir, id+".json")) })
}
