package guest

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// runningFakeCluster is a fake cluster whose three servers all run.
func runningFakeCluster(t *testing.T) (*Cluster, *sharedLog, map[string]*fakeServer) {
	t.Helper()
	c, log := fakeCluster(t, testSpec(MariaDB, "10.11", ""), "none")
	servers := map[string]*fakeServer{}
	for _, n := range c.Spec().Nodes {
		f := n.Runner.(*fakeServer)
		f.running = true
		servers[n.Name] = f
	}
	return c, log, servers
}

func TestHealthReportsStoppedServer(t *testing.T) {
	c, _, servers := runningFakeCluster(t)
	servers["db2"].running = false
	hs, err := c.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		want := h.Node != "db2"
		if h.Healthy() != want || h.MysqldRunning != want {
			t.Errorf("%s: healthy %v running %v, want %v (%+v)", h.Node, h.Healthy(), h.MysqldRunning, want, h)
		}
	}
}

// The probe asks for the flavour's own backup tool: a node it finds
// running is BackingUp, and only outside an SST script is it desynced by
// a backup rather than in a state transfer.
func TestHealthSeesBackupTool(t *testing.T) {
	for _, tc := range []struct {
		flavour    Flavour
		version    string
		tool       string
		sst        bool
		backingUp  bool
		byBackup   bool
		inTransfer bool
	}{
		{MariaDB, "10.11", "mariabackup", false, true, true, true},
		{MariaDB, "10.11", "mariabackup", true, true, false, true},
		{MariaDB, "10.11", "xtrabackup", false, false, false, true},
		{Percona, "8.0", "xtrabackup", false, true, true, true},
	} {
		c, _ := fakeCluster(t, testSpec(tc.flavour, tc.version, ""), "none")
		f := c.Spec().Nodes[1].Runner.(*fakeServer)
		f.running, f.backupTool, f.sst = true, tc.tool, tc.sst
		hs, err := c.Health(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		h := hs[1]
		h.Status.LocalState = "Donor/Desynced" // what the fake's SQL does not play
		if h.BackingUp != tc.backingUp || h.DesyncedByBackup() != tc.byBackup || h.InTransfer() != tc.inTransfer {
			t.Errorf("%s with %s running (sst %v): backing up %v, desynced by backup %v, in transfer %v; want %v %v %v",
				tc.flavour, tc.tool, tc.sst, h.BackingUp, h.DesyncedByBackup(), h.InTransfer(), tc.backingUp, tc.byBackup, tc.inTransfer)
		}
	}
}

// A node whose server died is cleaned of SST leftovers before it starts,
// and only after the others were seen Synced.
func TestRepairNodeCleansThenStarts(t *testing.T) {
	c, log, servers := runningFakeCluster(t)
	servers["db2"].running = false
	if err := c.RepairNode(context.Background(), "db2"); err != nil {
		t.Fatal(err)
	}
	if !servers["db2"].running {
		t.Fatal("db2 was not started")
	}
	clean := log.first("db2", "rm -rf -- /var/lib/mysql/sst_in_progress /var/lib/mysql/wsrep_sst.pid")
	start := log.first("db2", "setsid /usr/bin/mysqld_safe")
	for _, l := range log.lines {
		if strings.Contains(l, "--wsrep-new-cluster") {
			t.Errorf("a repair bootstrapped: %s", l)
		}
	}
	if clean < 0 || start < 0 || clean > start {
		t.Fatalf("want the SST leftovers removed before the start (clean %d, start %d):\n%s", clean, start, strings.Join(log.lines, "\n"))
	}
}

// A node in a state transfer is never stopped or started by a repair.
func TestRepairNodeNeverRestartsTransferringNode(t *testing.T) {
	c, log, servers := runningFakeCluster(t)
	servers["db3"].sst = true
	if err := c.RepairNode(context.Background(), "db3"); err != nil {
		t.Fatal(err)
	}
	for _, l := range log.lines {
		if strings.HasPrefix(l, "db3: ") && (strings.Contains(l, " shutdown ") || strings.Contains(l, "setsid") || strings.Contains(l, "rm -rf --")) {
			t.Errorf("a donating/joining node was touched: %s", l)
		}
	}
	if !servers["db3"].running {
		t.Error("db3 stopped")
	}
}

// A server that started moments ago (its unit at boot, after a resize) and
// answers before it has joined is waited for, not stopped: stopping it as
// it is about to receive its state transfer hung its shutdown for the
// unit's stop timeout. One that has run for long in that state is stuck
// and restarted.
func TestRepairNodeWaitsForStartingServer(t *testing.T) {
	for _, tc := range []struct {
		uptime     string
		pcRecovery int
		restarted  bool
	}{
		{"2", 3, false},
		{"600", 0, true},
	} {
		c, log, servers := runningFakeCluster(t)
		f := servers["db2"]
		f.outsidePrimary, f.pcRecovery, f.uptime = true, tc.pcRecovery, tc.uptime
		if err := c.RepairNode(context.Background(), "db2"); err != nil {
			t.Fatalf("uptime %ss: %v", tc.uptime, err)
		}
		stopped := log.first("db2", " shutdown ") >= 0 || log.first("db2", "systemctl stop") >= 0
		if stopped != tc.restarted {
			t.Errorf("uptime %ss: stopped %v, want %v:\n%s", tc.uptime, stopped, tc.restarted, strings.Join(log.lines, "\n"))
		}
	}
}

// On a systemd guest a repair first lets the boot finish: the enabled unit
// starts the server by itself after a reboot or resize, and a repair that
// probed before it did started a second one or stopped it mid-join.
func TestRepairNodeWaitsForTheBoot(t *testing.T) {
	for _, initSys := range []string{"systemd", "none"} {
		c, log := fakeCluster(t, testSpec(MariaDB, "10.11", ""), initSys)
		for _, n := range c.Spec().Nodes {
			n.Runner.(*fakeServer).running = true
		}
		if err := c.RepairNode(context.Background(), "db2"); err != nil {
			t.Fatal(err)
		}
		wait, probe := log.first("db2", "systemctl is-system-running --wait"), log.first("db2", "echo mysqld")
		if want := initSys == "systemd"; (wait >= 0) != want || (want && wait > probe) {
			t.Errorf("%s: boot wait at %d, health probe at %d:\n%s", initSys, wait, probe, strings.Join(log.lines, "\n"))
		}
	}
}

// A healthy node is left alone.
func TestRepairNodeLeavesHealthyNode(t *testing.T) {
	c, log, _ := runningFakeCluster(t)
	if err := c.RepairNode(context.Background(), "db1"); err != nil {
		t.Fatal(err)
	}
	for _, l := range log.lines {
		if strings.Contains(l, " shutdown ") || strings.Contains(l, "setsid") {
			t.Errorf("a healthy node was restarted: %s", l)
		}
	}
}

// A full outage: the node with the highest seqno is cleaned and bootstraps,
// the others are cleaned and rejoin one by one, and the source is then
// restarted as a normal member (no --wsrep-new-cluster left running).
func TestRecoverSequenceAfterPowerCut(t *testing.T) {
	c, log := fakeCluster(t, testSpec(MariaDB, "10.11", ""), "none")
	for i, n := range c.Spec().Nodes {
		f := n.Runner.(*fakeServer)
		f.grastate = fmt.Sprintf("# GALERA saved state\nversion: 2.1\nuuid: u1\nseqno: %d\nsafe_to_bootstrap: 0\n", []int{40, 42, 41}[i])
	}
	d, err := c.Recover(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != "db2" {
		t.Fatalf("source %s, want db2 (highest seqno): %s", d.Source, d)
	}
	var seq []string
	for _, l := range log.lines {
		switch {
		case strings.Contains(l, "rm -rf -- /var/lib/mysql/sst_in_progress"):
			seq = append(seq, strings.SplitN(l, ":", 2)[0]+" clean")
		case strings.Contains(l, "--wsrep-new-cluster"):
			seq = append(seq, strings.SplitN(l, ":", 2)[0]+" bootstrap")
		case strings.Contains(l, "setsid /usr/bin/mysqld_safe"):
			seq = append(seq, strings.SplitN(l, ":", 2)[0]+" start")
		case strings.Contains(l, " shutdown "):
			seq = append(seq, strings.SplitN(l, ":", 2)[0]+" stop")
		}
	}
	want := []string{"db2 clean", "db2 bootstrap", "db1 clean", "db1 start", "db3 clean", "db3 start", "db2 stop", "db2 start"}
	if strings.Join(seq, ", ") != strings.Join(want, ", ") {
		t.Fatalf("sequence\n got %v\nwant %v", seq, want)
	}
}
