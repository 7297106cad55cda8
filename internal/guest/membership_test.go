package guest

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// configCapture keeps every option file a fake node is given, in order.
type configCapture struct {
	*fakeServer
	mu      sync.Mutex
	configs []string
}

func (c *configCapture) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	if strings.HasSuffix(path, ".cnf") && strings.Contains(string(content), "wsrep_cluster_address") {
		c.mu.Lock()
		c.configs = append(c.configs, string(content))
		c.mu.Unlock()
	}
	return c.fakeServer.Upload(ctx, path, content, mode)
}

// growCluster is db1..db3 running (db1 the recorded writer) and db4, a new
// server, in the spec.
func growCluster(t *testing.T, flavour Flavour, version string) (*Cluster, map[string]*configCapture, *sharedLog) {
	t.Helper()
	spec := testSpec(flavour, version, "")
	spec.Nodes = append(spec.Nodes, Node{Name: "db4", Address: "10.210.0.14"})
	log := &sharedLog{}
	nodes := map[string]*configCapture{}
	for i := range spec.Nodes {
		f := &configCapture{fakeServer: &fakeServer{name: spec.Nodes[i].Name, initSys: "none", shared: log, running: i < 3}}
		nodes[f.name] = f
		spec.Nodes[i].Runner = f
	}
	c, err := New(spec, WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	c.opts.status = func(ctx context.Context, n *node) (NodeStatus, error) {
		f := nodes[n.Name].fakeServer
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.running {
			return NodeStatus{Node: n.Name}, errors.New("connection refused")
		}
		return NodeStatus{Node: n.Name, NodeName: n.Name, ClusterSize: 4, ClusterStatus: "Primary",
			LocalState: "Synced", Ready: true, Connected: true, StateUUID: "u", ConfID: 4, RecordedWriter: "10.210.0.11"}, nil
	}
	return c, nodes, log
}

func TestJoinMemberTakesTheStateFromANonWriter(t *testing.T) {
	c, nodes, log := growCluster(t, MariaDB, "10.11")
	if err := c.JoinMember(context.Background(), "db4"); err != nil {
		t.Fatal(err)
	}
	joiner := nodes["db4"].configs
	if len(joiner) < 2 {
		t.Fatalf("db4 got %d option files, want the joiner's and the final one", len(joiner))
	}
	var donorFile string
	for _, cnf := range joiner {
		if strings.Contains(cnf, "wsrep_sst_donor") {
			donorFile = cnf
		}
	}
	if !strings.Contains(donorFile, "wsrep_sst_donor                 = db2,db3\n") {
		t.Errorf("joiner's donors are not db2,db3 (the writer db1 excluded):\n%s", donorFile)
	}
	if strings.Contains(joiner[len(joiner)-1], "wsrep_sst_donor") {
		t.Errorf("db4 keeps the donor list after joining")
	}
	for _, name := range []string{"db1", "db2", "db3", "db4"} {
		cfgs := nodes[name].configs
		if len(cfgs) == 0 || !strings.Contains(cfgs[len(cfgs)-1], "gcomm://10.210.0.11,10.210.0.12,10.210.0.13,10.210.0.14\n") {
			t.Errorf("%s's option file does not list the four members", name)
		}
	}
	// db4 starts only once its donors are named, and the running members
	// are never restarted.
	started := indexFrom(log.lines, 0, "db4: install -d -o mysql -g root -m 755 /run/mysqld || exit 1; ")
	if started < 0 {
		t.Fatalf("db4 was not started:\n%s", strings.Join(log.lines, "\n"))
	}
	for _, l := range log.lines {
		for _, other := range []string{"db1: ", "db2: ", "db3: "} {
			if strings.HasPrefix(l, other) && (strings.Contains(l, "setsid") || strings.Contains(l, " shutdown ")) {
				t.Errorf("a running member was restarted: %s", l)
			}
		}
	}
}

// The donors are looked for while the joiner prepares: the first look at
// each member costs a connection.
func TestJoinMemberFindsTheDonorsWhileTheJoinerPrepares(t *testing.T) {
	c, nodes, _ := growCluster(t, MariaDB, "10.11")
	read := make(chan struct{})
	var once sync.Once
	status := c.opts.status
	c.opts.status = func(ctx context.Context, n *node) (NodeStatus, error) {
		if n.Name != "db4" {
			once.Do(func() { close(read) })
		}
		return status(ctx, n)
	}
	var preparedFirst atomic.Bool
	nodes["db4"].hold = func(ctx context.Context, cmd string) error {
		if strings.Contains(cmd, "mariadb-install-db") {
			select {
			case <-read:
			case <-time.After(2 * time.Second):
				preparedFirst.Store(true)
			}
		}
		return nil
	}
	if err := c.JoinMember(context.Background(), "db4"); err != nil {
		t.Fatal(err)
	}
	if preparedFirst.Load() {
		t.Error("the members' status was read only after the joiner's prepare")
	}
}

func TestJoinMemberFallsBackToTheWriterAlone(t *testing.T) {
	c, nodes, _ := growCluster(t, MariaDB, "10.11")
	nodes["db2"].running, nodes["db3"].running = false, false
	var warned []string
	c.opts.observe = func(e Event) {
		if e.Level == LevelWarn {
			warned = append(warned, e.Message)
		}
	}
	if err := c.JoinMember(context.Background(), "db4"); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cnf := range nodes["db4"].configs {
		found = found || strings.Contains(cnf, "wsrep_sst_donor                 = db1\n")
	}
	if !found || len(warned) != 1 {
		t.Errorf("donor db1 named %v, warnings %v", found, warned)
	}
}

func TestJoinMemberRefusesWithoutASyncedMember(t *testing.T) {
	c, nodes, _ := growCluster(t, MariaDB, "10.11")
	for _, n := range []string{"db1", "db2", "db3"} {
		nodes[n].running = false
	}
	err := c.JoinMember(context.Background(), "db4")
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Node != "db4" || !strings.Contains(err.Error(), "no Synced member") {
		t.Fatalf("err = %v", err)
	}
}

func TestMoveWriterSwapsTheRecordOnTheNewWriter(t *testing.T) {
	c, nodes, log := growCluster(t, MariaDB, "10.11")
	nodes["db4"].running = true
	// Not the writer: nothing happens.
	to, err := c.MoveWriter(context.Background(), "db3")
	if err != nil || to != "" {
		t.Fatalf("MoveWriter(db3) = %q, %v", to, err)
	}
	if strings.Contains(strings.Join(log.stdin, ""), "pxc_guest.writer SET") {
		t.Fatalf("the record changed although db3 is not the writer")
	}
	_, err = c.MoveWriter(context.Background(), "db1")
	if err == nil || !strings.Contains(err.Error(), "changed while moving") {
		t.Fatalf("a CAS that matched no row was taken as done: %v", err)
	}
	stdin := strings.Join(log.stdin, "\n")
	if !strings.Contains(stdin, "UPDATE pxc_guest.writer SET address = '10.210.0.12' WHERE id = 1 AND address = '10.210.0.11'") {
		t.Errorf("no compare-and-swap from db1 to db2 in:\n%s", stdin)
	}
	if !slices.ContainsFunc(log.lines, func(l string) bool { return strings.HasPrefix(l, "db2: ") && strings.HasSuffix(l, " --batch -N") }) {
		t.Errorf("the swap did not run on the new writer db2")
	}
}

func TestWithDonors(t *testing.T) {
	cnf := "[mysqld]\nwsrep_sst_method                = rsync\nwsrep_on = ON\n"
	got := withDonors(cnf, []string{"a", "b"})
	want := "[mysqld]\nwsrep_sst_method                = rsync\nwsrep_sst_donor                 = a,b\nwsrep_on = ON\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDrainClientsClosesSessionsUntilNoneLands(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", "")
	r := &recorder{rules: []rule{
		{match: "PROCESSLIST", out: "17\n21\n", n: 1},
		{match: "PROCESSLIST", out: "", n: 0},
	}}
	spec.Nodes[0].Runner = r
	c, err := New(spec, WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DrainClients(context.Background(), "db1", 0, time.Second); err != nil {
		t.Fatal(err)
	}
	var kills int
	for _, cmd := range r.commands() {
		if strings.Contains(cmd, "--force") {
			kills++
		}
	}
	if kills != 1 {
		t.Errorf("%d kill runs, want one:\n%s", kills, strings.Join(r.commands(), "\n"))
	}
	// Sessions keep landing: it gives up, naming the load balancer.
	r2 := &recorder{rules: []rule{{match: "PROCESSLIST", out: "30\n"}}}
	spec.Nodes[0].Runner = r2
	c2, err := New(spec, WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	err = c2.DrainClients(context.Background(), "db1", 0, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "load balancer still sends them") {
		t.Fatalf("err = %v", err)
	}
}
