package guest

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// powerLossWithUnits is the cluster after every server lost power and was
// started again on a systemd image: each unit started MariaDB at boot, and
// each server waits outside a primary component. grastate.dat holds the
// position each server writes when it is stopped.
func powerLossWithUnits(t *testing.T, gvwstate bool, pcRecovery int) (*Cluster, *sharedLog) {
	t.Helper()
	c, log := fakeCluster(t, testSpec(MariaDB, "10.11", ""), "systemd")
	for i, n := range c.Spec().Nodes {
		f := n.Runner.(*fakeServer)
		f.running, f.outsidePrimary, f.gvwstate, f.pcRecovery = true, true, gvwstate, pcRecovery
		f.grastate = fmt.Sprintf("# GALERA saved state\nversion: 2.1\nuuid: u1\nseqno: %d\nsafe_to_bootstrap: 0\n", []int{40, 42, 41}[i])
	}
	return c, log
}

// recoverySteps is what the log shows Recover doing to the servers.
func recoverySteps(log *sharedLog) []string {
	var seq []string
	for _, l := range log.lines {
		node := strings.SplitN(l, ":", 2)[0]
		switch {
		case strings.Contains(l, ": systemctl stop mariadb"):
			seq = append(seq, node+" stop")
		case strings.Contains(l, ": galera_new_cluster"):
			seq = append(seq, node+" bootstrap")
		case strings.Contains(l, ": systemctl start mariadb"):
			seq = append(seq, node+" start")
		}
	}
	return seq
}

// The units started MariaDB at boot and no gvwstate.dat lets pc.recovery
// restore the primary component: every unit is stopped before the seqnos
// are read, the source's unit is stopped (and reset) once more right
// before the bootstrap, only the most advanced node bootstraps
// (galera_new_cluster), and the others start through their unit.
func TestRecoverStopsUnitsRunningOutsidePrimary(t *testing.T) {
	c, log := powerLossWithUnits(t, false, 0)
	survey, err := c.Survey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	planned, err := Decide(survey, "")
	if err != nil || planned.Source != "" || len(planned.Outside) != 3 {
		t.Fatalf("plan-time decision %s (outside %v), err %v: want no source yet, all three outside", planned, planned.Outside, err)
	}
	d, err := c.Recover(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != "db2" {
		t.Fatalf("source %s, want db2 (highest seqno once stopped): %s", d.Source, d)
	}
	want := []string{"db1 stop", "db2 stop", "db3 stop", "db2 stop", "db2 bootstrap", "db1 start", "db3 start"}
	got := recoverySteps(log)
	// The three stops run in any order, before anything starts.
	if len(got) != len(want) || strings.Join(sortedPrefix(got, 3), ", ") != strings.Join(want[:3], ", ") || strings.Join(got[3:], ", ") != strings.Join(want[3:], ", ") {
		t.Fatalf("sequence\n got %v\nwant %v", got, want)
	}
	bootstraps := 0
	for _, s := range got {
		if strings.HasSuffix(s, " bootstrap") {
			bootstraps++
		}
	}
	if bootstraps != 1 {
		t.Fatalf("%d bootstraps: %v", bootstraps, got)
	}
}

// With gvwstate.dat on the nodes pc.recovery restores the last primary
// component by itself: Recover waits for it and neither stops nor
// bootstraps anything.
func TestRecoverWaitsForPCRecovery(t *testing.T) {
	c, log := powerLossWithUnits(t, true, 2)
	d, err := c.Recover(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != "" || !strings.Contains(d.Reason, "still runs in a primary component") {
		t.Fatalf("decision %s, want the restored primary component kept", d)
	}
	if got := recoverySteps(log); len(got) != 0 {
		t.Fatalf("a node was stopped, started or bootstrapped: %v", got)
	}
}

func sortedPrefix(s []string, n int) []string {
	p := append([]string(nil), s[:min(n, len(s))]...)
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			if p[j] < p[i] {
				p[i], p[j] = p[j], p[i]
			}
		}
	}
	return p
}

// unitState plays a systemd node's server unit in front of a fakeServer:
// the ActiveState it reports, and what a stop does to it. A unit that is
// "activating" with no server process is one at boot in its ExecStartPre,
// or waiting for its RestartSec: a start comes by itself unless it is
// stopped (then it is "inactive"); "failed" is left by reset-failed.
type unitState struct {
	*fakeServer
	mu    sync.Mutex
	state string
}

func (u *unitState) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	u.mu.Lock()
	switch {
	case strings.HasPrefix(cmd, "systemctl show -p ActiveState --value mariadb"):
		st := u.state
		u.mu.Unlock()
		u.fakeServer.shared.add(u.fakeServer.name, cmd, "")
		return []byte(st + "\n"), nil
	case strings.HasPrefix(cmd, "systemctl stop mariadb"):
		u.state = "inactive"
		if strings.Contains(cmd, "reset-failed") {
			u.state = "inactive"
		}
	case strings.HasPrefix(cmd, "systemctl reset-failed mariadb") && u.state == "failed":
		u.state = "inactive"
	case cmd == "systemctl start mariadb", cmd == "galera_new_cluster":
		u.state = "active"
	}
	u.mu.Unlock()
	return u.fakeServer.Run(ctx, cmd, stdin)
}

func (u *unitState) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	return u.fakeServer.Upload(ctx, path, content, mode)
}

func (u *unitState) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return u.fakeServer.DialContext(ctx, network, addr)
}

// After a clean stop of every server the units start MariaDB at boot and
// give up without a primary component: db1's unit failed, db2's is still
// activating with no server process yet (its ExecStartPre), db3's failed.
// The survey counts db2 as running outside a primary component, so
// Recover stops its unit before it reads db2's position and never races
// the unit for the datadir; the failed units are reset before they start.
func TestRecoverStopsUnitStillActivating(t *testing.T) {
	c, log := fakeCluster(t, testSpec(MariaDB, "10.11", ""), "systemd")
	units := map[string]*unitState{}
	for i, n := range c.Spec().Nodes {
		f := n.Runner.(*fakeServer)
		f.grastate = fmt.Sprintf("# GALERA saved state\nversion: 2.1\nuuid: u1\nseqno: %d\nsafe_to_bootstrap: 0\n", []int{40, 42, 41}[i])
		u := &unitState{fakeServer: f, state: []string{"failed", "activating", "failed"}[i]}
		units[n.Name] = u
		c.nodes()[i].Runner = u
	}
	survey, err := c.Survey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	planned, err := Decide(survey, "")
	if err != nil || planned.Source != "" || strings.Join(planned.Outside, ",") != "db2" {
		t.Fatalf("plan-time decision %s (outside %v), err %v: want no source yet, db2 outside", planned, planned.Outside, err)
	}
	d, err := c.Recover(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != "db2" {
		t.Fatalf("source %s, want db2 (highest seqno once its unit is stopped): %s", d.Source, d)
	}
	var seq []string
	for _, l := range log.lines {
		node, cmd, _ := strings.Cut(l, ": ")
		switch {
		case strings.HasPrefix(cmd, "systemctl stop mariadb"):
			seq = append(seq, node+" stop")
		case strings.HasPrefix(cmd, "cat /var/lib/mysql/grastate.dat"):
			seq = append(seq, node+" read")
		case strings.HasPrefix(cmd, "sed -i 's/^safe_to_bootstrap"):
			seq = append(seq, node+" mark")
		case strings.HasPrefix(cmd, "systemctl reset-failed mariadb"):
			seq = append(seq, node+" reset")
		case cmd == "galera_new_cluster":
			seq = append(seq, node+" bootstrap")
		case cmd == "systemctl start mariadb":
			seq = append(seq, node+" start")
		}
	}
	// db1 and db3 are read in the first survey (either order), then db2
	// is stopped and all three read again.
	got := strings.Join(seq, ", ")
	for _, want := range []string{
		"db2 stop, ", // settle stops the activating unit
		"db2 stop, db2 mark, db2 bootstrap, db1 reset, db1 start, db3 reset, db3 start",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("sequence %s\nwant it to contain %q", got, want)
		}
	}
	first := strings.Index(got, "db2 stop")
	if strings.Contains(got[:first], "db2 read") {
		t.Fatalf("db2's position was read while its unit was still starting the server: %s", got)
	}
	for name, u := range units {
		if u.state != "active" {
			t.Errorf("%s: unit %s after the recovery, want active", name, u.state)
		}
	}
}

// The recovery cleans SST leftovers only when no state transfer runs, and
// the health probe reports one by the same pattern: it matches the SST
// scripts as the servers start them, and none of the health responder's
// client runs, which a load balancer starts every second on every node
// (their query names @@wsrep_sst_donor_rejects_queries).
func TestSSTScriptPatternIgnoresResponder(t *testing.T) {
	pattern := regexp.MustCompile(strings.Trim(sstScriptPattern, "'"))
	for _, line := range []string{
		"sh -c wsrep_sst_rsync --role 'joiner' --address '10.0.0.3:4444' --datadir '/var/lib/mysql/' --parent 123 --progress 0",
		"/bin/bash -ue /usr//bin/wsrep_sst_mariabackup --role 'donor' --address '10.0.0.2:4444/xtrabackup_sst//1'",
		"bash -ue /usr/bin/wsrep_sst_xtrabackup-v2 --role 'donor' --address '10.0.0.2:4444'",
		"bash /usr/bin/wsrep_sst_rsync_wan --role 'joiner'",
	} {
		if !pattern.MatchString(line) {
			t.Errorf("%s does not match the SST script %q", sstScriptPattern, line)
		}
	}
	for _, flavour := range []Flavour{MariaDB, Percona} {
		spec := testSpec(flavour, "10.11", "")
		if flavour == Percona {
			spec = testSpec(flavour, "8.0", "")
		}
		members := []Node{{Name: "db1", Address: "10.0.0.1"}, {Name: "db2", Address: "10.0.0.2"}}
		script := renderClustercheck(spec, members, members[0], Clustercheck{Password: "x"})
		if !strings.Contains(script, "wsrep_sst_") {
			t.Fatalf("%s: the responder no longer names wsrep_sst_: the test proves nothing", flavour)
		}
		for _, line := range strings.Split(script, "\n") {
			if pattern.MatchString(line) {
				t.Errorf("%s: %s matches the responder's %q", flavour, sstScriptPattern, line)
			}
		}
	}
}
