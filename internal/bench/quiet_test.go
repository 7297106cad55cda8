package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quietTimeout bounds waitQuiet: a machine busy for longer than this is
// measured as it is, and the report says so.
const quietTimeout = 90 * time.Second

// waitQuiet waits, before a timed step, until the local cloud runs no host
// and the machine has settled: the dirty pages of the last step written
// back (a destroyed cluster's datadirs are still being flushed seconds after
// its servers are gone) and the CPUs idle for a whole second. Without it a
// raw bound measured right after a destroy ran up to half again as long as
// one measured before the apply. It returns how long it waited, and false
// if the machine did not settle within quietTimeout.
func waitQuiet(t *testing.T) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < quietTimeout {
		if cloudHosts(t) > 0 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		syscall.Sync()
		before, err := cpuTimes()
		must(t, err)
		time.Sleep(time.Second)
		after, err := cpuTimes()
		must(t, err)
		if busy := after.busyShare(before); busy < 0.15 {
			return time.Since(start), true
		}
	}
	return time.Since(start), false
}

// quietNote is the report's note on a waitQuiet.
func quietNote(waited time.Duration, quiet bool) string {
	if !quiet {
		return fmt.Sprintf("the machine was still busy after %s", waited.Round(time.Second))
	}
	return fmt.Sprintf("measured once the machine was quiet, after %s", waited.Round(100*time.Millisecond))
}

// cloudHosts is how many hosts the local cloud runs (its admin inventory).
func cloudHosts(t *testing.T) int {
	t.Helper()
	base := os.Getenv("LOCALCLOUD_ADMIN_URL")
	if base == "" {
		t.Fatal("LOCALCLOUD_ADMIN_URL is not set: tools/bench.sh sources the local cloud's env")
	}
	resp, err := http.Get(base + "/inventory")
	must(t, err)
	defer resp.Body.Close()
	var inv struct{ Hosts int }
	must(t, json.NewDecoder(resp.Body).Decode(&inv))
	return inv.Hosts
}

// cpuSample is the machine's CPU time so far, from /proc/stat.
type cpuSample struct{ busy, total uint64 }

func cpuTimes() (cpuSample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuSample{}, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	var s cpuSample
	for i, f := range fields[1:min(len(fields), 9)] { // guest time is in user already
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuSample{}, fmt.Errorf("parse /proc/stat %q: %w", line, err)
		}
		s.total += v
		if i != 3 && i != 4 { // idle, iowait
			s.busy += v
		}
	}
	return s, nil
}

// busyShare is the share of CPU time spent busy since an earlier sample.
func (s cpuSample) busyShare(earlier cpuSample) float64 {
	if s.total <= earlier.total {
		return 0
	}
	return float64(s.busy-earlier.busy) / float64(s.total-earlier.total)
}
