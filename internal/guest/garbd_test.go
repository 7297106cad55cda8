package guest

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func arbitratorSpec(r Runner) ClusterSpec {
	s := testSpec(MariaDB, "10.11", SSTRsync)
	s.Nodes = s.Nodes[:2]
	s.SuspectTimeout = 2 * time.Second
	s.Arbitrators = []Node{{Name: "db3", Address: "10.210.0.13", Runner: r}}
	return s
}

// garbd's configuration names the group, lists the data members (not
// itself), asks for no state transfer and detects failures as fast as the
// data members do.
func TestRenderGarbdConfig(t *testing.T) {
	s := arbitratorSpec(&recorder{})
	got := renderGarbdConfig(s, s.Arbitrators[0])
	want := "# Galera arbitrator db3, written by the pxc guest library.\n" +
		"name = db3\n" +
		"group = prod-db\n" +
		"address = gcomm://10.210.0.11,10.210.0.12\n" +
		"options = gmcast.listen_addr=tcp://0.0.0.0:4567;evs.suspect_timeout=PT2S\n"
	if got != want {
		t.Errorf("garbd config:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "sst") {
		t.Error("garbd must request no state transfer")
	}
}

func TestValidateArbitrators(t *testing.T) {
	never := &recorder{}
	cases := map[string]struct {
		mutate func(*ClusterSpec)
		want   string
	}{
		"name of a node":    {func(s *ClusterSpec) { s.Arbitrators[0].Name = "db1" }, `arbitrator 1: name "db1" is used twice`},
		"address of a node": {func(s *ClusterSpec) { s.Arbitrators[0].Address = "10.210.0.11" }, "address 10.210.0.11 is used twice"},
		"bad address":       {func(s *ClusterSpec) { s.Arbitrators[0].Address = "x" }, `address "x" is not an IP address`},
		"data volume":       {func(s *ClusterSpec) { s.Arbitrators[0].DataVolume.Device = "/dev/vdb" }, "takes no data volume"},
		"no transport":      {func(s *ClusterSpec) { s.Arbitrators[0].Runner = nil }, "neither SSH nor Runner"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := arbitratorSpec(never)
			tc.mutate(&s)
			err := Validate(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
	if err := Validate(arbitratorSpec(never)); err != nil {
		t.Errorf("two data nodes and an arbitrator: %v", err)
	}
}

// arbitratorCluster is a cluster of two fake data nodes that count the
// arbitrator in their cluster size once garbd was started on r.
func arbitratorCluster(t *testing.T, r *recorder) *Cluster {
	t.Helper()
	spec := arbitratorSpec(r)
	c, _ := fakeCluster(t, spec, "none")
	c.opts.startTimeout = 2 * time.Second
	started := func() bool {
		for _, cmd := range r.commands() {
			if strings.Contains(cmd, "setsid setpriv") && strings.Contains(cmd, "garbd --cfg") || strings.Contains(cmd, "systemctl restart "+garbdService) {
				return true
			}
		}
		return false
	}
	c.opts.status = func(ctx context.Context, n *node) (NodeStatus, error) {
		size := 2
		if started() {
			size = 3
		}
		return NodeStatus{Node: n.Name, NodeName: n.Name, ClusterSize: size, ClusterStatus: "Primary",
			LocalState: "Synced", Ready: true, Connected: true, StateUUID: "u", ConfID: 3}, nil
	}
	return c
}

// Without systemd, garbd starts detached as nobody with its configuration
// written first, and the start waits until the data members count it.
func TestStartArbitratorWithoutSystemd(t *testing.T) {
	r := (&recorder{}).on("/run/systemd/system", "none\n").on("echo present", "present\n")
	c := arbitratorCluster(t, r)
	if err := c.StartArbitrator(context.Background(), "db3"); err != nil {
		t.Fatal(err)
	}
	cmds := r.commands()
	joined := strings.Join(cmds, "\n")
	upload := commandIndex(cmds, "UPLOAD "+garbdConfig+" 0644")
	start := commandIndex(cmds, "setsid setpriv --reuid=nobody")
	if upload < 0 || start < 0 || upload > start {
		t.Fatalf("want the configuration uploaded before garbd starts:\n%s", joined)
	}
	if !strings.Contains(cmds[start], garbdBinary+" --cfg "+garbdConfig+" </dev/null >>"+garbdLog+" 2>&1 &") {
		t.Errorf("start command: %s", cmds[start])
	}
	if !strings.Contains(cmds[start], "pkill -INT") {
		t.Errorf("a new configuration must restart a running garbd: %s", cmds[start])
	}
	if strings.Contains(joined, "systemctl") || strings.Contains(joined, "apt-get") || strings.Contains(joined, "mysqld") {
		t.Errorf("no systemd, no install, no mysqld on an arbitrator:\n%s", joined)
	}
	if got := r.uploads[garbdConfig]; !strings.Contains(got, "address = gcomm://10.210.0.11,10.210.0.12") {
		t.Errorf("uploaded config: %s", got)
	}
	st, err := c.Status(context.Background())
	if err != nil || !st.OK() || st.Expected != 3 {
		t.Errorf("status with the arbitrator counted: %+v, %v", st, err)
	}
}

// The same configuration again starts nothing new.
func TestStartArbitratorUnchangedConfig(t *testing.T) {
	s := arbitratorSpec(nil)
	r := (&recorder{}).on("/run/systemd/system", "none\n").on("echo present", "present\n").
		on("cat "+garbdConfig, renderGarbdConfig(s, s.Arbitrators[0]))
	c := arbitratorCluster(t, r)
	if err := c.StartArbitrator(context.Background(), "db3"); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(r.commands(), "\n")
	if strings.Contains(joined, "UPLOAD "+garbdConfig) || strings.Contains(joined, "pkill") {
		t.Errorf("unchanged configuration rewritten or garbd restarted:\n%s", joined)
	}
}

// Under systemd, garbd is a unit of its own, restarted on a new
// configuration and stopped with disable --now.
func TestArbitratorUnderSystemd(t *testing.T) {
	r := (&recorder{}).on("/run/systemd/system", "systemd\n").on("echo present", "present\n")
	c := arbitratorCluster(t, r)
	if err := c.StartArbitrator(context.Background(), "db3"); err != nil {
		t.Fatal(err)
	}
	cmds := r.commands()
	unit := commandIndex(cmds, "UPLOAD "+garbdUnit+" 0644")
	start := commandIndex(cmds, "systemctl restart "+garbdService)
	if unit < 0 || start < 0 || unit > start {
		t.Fatalf("want the unit written before it starts:\n%s", strings.Join(cmds, "\n"))
	}
	if u := r.uploads[garbdUnit]; !strings.Contains(u, "User=nobody") || !strings.Contains(u, "ExecStart=/usr/bin/garbd --cfg "+garbdConfig) {
		t.Errorf("unit:\n%s", u)
	}
	if err := c.StopArbitrator(context.Background(), "db3"); err != nil {
		t.Fatal(err)
	}
	if commandIndex(r.commands(), "systemctl disable --now "+garbdService) < 0 {
		t.Errorf("stop did not disable the unit:\n%s", strings.Join(r.commands(), "\n"))
	}
	if st := c.Spec(); len(st.Arbitrators) != 0 {
		t.Errorf("stopped arbitrator still in the spec: %+v", st.Arbitrators)
	}
}

// A missing garbd is installed only when installation is allowed.
func TestArbitratorPackages(t *testing.T) {
	r := (&recorder{}).on("/run/systemd/system", "none\n").on("echo present", "missing\n")
	c := arbitratorCluster(t, r)
	err := c.StartArbitrator(context.Background(), "db3")
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Phase != PhaseArbitrator || ne.Node != "db3" || !strings.Contains(err.Error(), "galera-arbitrator-4") {
		t.Fatalf("want a NodeError naming the package, got %v", err)
	}
	r = (&recorder{}).on("/run/systemd/system", "none\n").on("echo present", "missing\n")
	c = arbitratorCluster(t, r)
	c.spec.InstallPackages = true
	if err := c.StartArbitrator(context.Background(), "db3"); err != nil {
		t.Fatal(err)
	}
	if commandIndex(r.commands(), "apt-get install -y -q --no-install-recommends galera-arbitrator-4\n") < 0 {
		t.Errorf("garbd not installed:\n%s", strings.Join(r.commands(), "\n"))
	}
}

// A garbd that never shows in the data members' cluster size fails the
// start with the arbitrator's name and its log.
func TestStartArbitratorNotCounted(t *testing.T) {
	r := (&recorder{}).on("/run/systemd/system", "none\n").on("echo present", "present\n").on("tail -n 10", "connection refused")
	c := arbitratorCluster(t, r)
	c.opts.status = func(ctx context.Context, n *node) (NodeStatus, error) {
		return NodeStatus{Node: n.Name, NodeName: n.Name, ClusterSize: 2, ClusterStatus: "Primary",
			LocalState: "Synced", Ready: true, Connected: true, StateUUID: "u", ConfID: 3}, nil
	}
	c.opts.startTimeout = 50 * time.Millisecond
	err := c.StartArbitrator(context.Background(), "db3")
	if err == nil || !strings.Contains(err.Error(), "sees cluster size 2, want 3") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v", err)
	}
}

func commandIndex(cmds []string, sub string) int {
	for i, c := range cmds {
		if strings.Contains(c, sub) {
			return i
		}
	}
	return -1
}

// The running check matches garbd's own command line, never the shell
// that runs the start command (whose script names garbd): otherwise the
// start would find "garbd running" and never start it.
func TestGarbdRunningMatchesOnlyGarbd(t *testing.T) {
	pattern := garbdRunning[strings.Index(garbdRunning, "'")+1 : strings.LastIndex(garbdRunning, "'")]
	re := regexp.MustCompile(pattern)
	if !re.MatchString(garbdBinary + " --cfg " + garbdConfig) {
		t.Errorf("%q does not match garbd's command line", pattern)
	}
	for _, init := range []InitSystem{InitNone, InitSystemd} {
		for _, changed := range []bool{false, true} {
			for _, shell := range []string{"sh -c ", "bash -c "} {
				if cmd := shell + garbdStartCommand(init, changed); re.MatchString(cmd) {
					t.Errorf("%q matches the start command's own shell: %s", pattern, cmd)
				}
			}
		}
	}
}
