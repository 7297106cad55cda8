package guest

import (
	"context"
	"fmt"
	"strings"
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
// are read, only the most advanced node bootstraps (galera_new_cluster),
// and the others start through their unit.
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
	want := []string{"db1 stop", "db2 stop", "db3 stop", "db2 bootstrap", "db1 start", "db3 start"}
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
