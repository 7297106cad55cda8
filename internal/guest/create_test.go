package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Create names the phase and the node that failed in a typed error, so
// callers need not search the text.
func TestCreateFailureIsANodeError(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	r := &recorder{}
	r.on("echo present", "present\n").on("echo running", "stopped\n").on("grastate.dat", "uuid: 8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa\nseqno: -1\nsafe_to_bootstrap: 0\n")
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = r
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background())
	var ne *NodeError
	if !errors.As(err, &ne) {
		t.Fatalf("Create = %v, want a *NodeError", err)
	}
	if ne.Phase != PhaseBootstrap || ne.Node != spec.Nodes[0].Name || !strings.Contains(err.Error(), "use Recover") {
		t.Fatalf("NodeError = phase %q node %q: %v", ne.Phase, ne.Node, err)
	}
	// The step's wrapper adds nothing the node's own error says.
	if strings.Count(err.Error(), "bootstrap "+spec.Nodes[0].Name) != 1 {
		t.Errorf("error repeats itself: %v", err)
	}
}

func TestValidatorsNeedNoCluster(t *testing.T) {
	if err := ValidateDatastore(MariaDB, "10.11"); err != nil {
		t.Error(err)
	}
	if err := ValidateDatastore(Percona, "10.11"); err == nil {
		t.Error("percona 10.11 accepted")
	}
	if err := ValidateSST(MariaDB, "10.11", SSTXtrabackupV2); err == nil {
		t.Error("xtrabackup-v2 accepted for mariadb")
	}
	if err := ValidateSST(Percona, "8.0", ""); err != nil {
		t.Errorf("percona 8.0 default SST refused: %v", err)
	}
	if err := ValidateParameters(MariaDB, "10.11", map[string]string{"wsrep_provider": "x"}); err == nil {
		t.Error("managed parameter accepted")
	}
	if DefaultSST(Percona) != SSTXtrabackupV2 || DefaultSST(MariaDB) != SSTMariabackup {
		t.Error("default SST methods changed")
	}
}

// Create's last step leaves out the responder's install where Prepare put
// the same one in (on systemd a manager reload per node): the nodes
// remember what this Cluster installed, a responder of other settings does
// not match, and a closed Cluster remembers nothing.
func TestCreateKeepsThePreparedResponder(t *testing.T) {
	for _, initSys := range []string{"systemd", "none"} {
		spec := testSpec(MariaDB, "10.11", SSTRsync)
		spec.Clustercheck = &Clustercheck{Password: "cc-secret", Port: 9201}
		c, log := fakeCluster(t, spec, initSys)
		ctx := context.Background()
		if err := c.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		members := c.Spec().Nodes
		for _, n := range c.nodes() {
			if got, want := n.installed(), responderKey(c.spec, members, n.Node, *spec.Clustercheck); got != want {
				t.Errorf("%s %s: after Prepare the node remembers responder %q, want %q", initSys, n.Name, got, want)
			}
			other := Clustercheck{Password: "cc-secret", Port: 9202}
			if n.installed() == responderKey(c.spec, members, n.Node, other) {
				t.Errorf("%s %s: a responder on another port counts as installed", initSys, n.Name)
			}
		}
		// A later start consumes Prepare's install, not the memory of it.
		log.lines = nil
		n := c.nodes()[1]
		if err := c.start(ctx, n, false); err != nil {
			t.Fatal(err)
		}
		if n.installed() == "" {
			t.Errorf("%s: the node forgot its responder after a start", initSys)
		}
		c.Close()
		for _, n := range c.nodes() {
			if n.installed() != "" {
				t.Errorf("%s %s: a closed Cluster still remembers a responder", initSys, n.Name)
			}
		}
	}
}

// holdUntilBootstrap makes a node's datadir initialisation wait until the
// first node was started as a new cluster, then answer with err: a create
// that bootstraps only once every node is prepared never gets there, and
// gives up after a few seconds.
func holdUntilBootstrap(log *sharedLog, first string, err error) func(ctx context.Context, cmd string) error {
	return func(ctx context.Context, cmd string) error {
		if !strings.Contains(cmd, "mariadb-install-db") {
			return nil
		}
		if werr := log.waitSeen(ctx, first, "galera_new_cluster"); werr != nil {
			return fmt.Errorf("the first node was not bootstrapped while this one prepared: %w", werr)
		}
		return err
	}
}

// waitSeen waits a few seconds at most until node ran a command that
// contains part.
func (l *sharedLog) waitSeen(ctx context.Context, node, part string) error {
	deadline := time.Now().Add(5 * time.Second)
	for !l.seen(node, part) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s ran no %q", node, part)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// Create bootstraps the first node as soon as it is prepared, while a slow
// node still prepares, and starts that node only once it is prepared.
func TestCreateBootstrapsWhileAnotherNodePrepares(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	first, slow := spec.Nodes[0].Name, spec.Nodes[2].Name
	c.nodes()[2].Runner.(*fakeServer).hold = holdUntilBootstrap(log, first, nil)
	if _, err := c.Create(context.Background()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	initialised, started := log.first(slow, "mariadb-install-db"), log.first(slow, "systemctl start mariadb")
	if initialised < 0 || started < initialised {
		t.Errorf("%s: datadir initialised at command %d, server started at %d", slow, initialised, started)
	}
}

// A node whose prepare fails while the first one bootstraps fails the
// create in phase prepare, named, and is never started.
func TestCreateReportsALatePrepareFailure(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	first, slow := spec.Nodes[0].Name, spec.Nodes[2].Name
	c.nodes()[2].Runner.(*fakeServer).hold = holdUntilBootstrap(log, first,
		&CommandError{Command: "mariadb-install-db", ExitCode: 1, Stderr: "disk full"})
	_, err := c.Create(context.Background())
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Phase != PhasePrepare || ne.Node != slow || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Create = %v, want the prepare failure of %s", err, slow)
	}
	if log.seen(slow, "systemctl start mariadb") {
		t.Errorf("%s was started although its prepare failed", slow)
	}
}

// A node whose server is still being built (Node.Await) holds nothing up:
// the first node bootstraps and the second joins while the third's server
// boots, and the checks that no other node runs a server count it as
// running none. Only once it is up is it prepared and joined.
func TestCreateJoinsANodeOnceItsServerIsUp(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	second, late := spec.Nodes[1].Name, spec.Nodes[2].Name
	c.nodes()[2].Await = func(ctx context.Context) (*SSHTarget, error) {
		if err := log.waitSeen(ctx, second, "systemctl start mariadb"); err != nil {
			return nil, fmt.Errorf("the second node was not started while this server was built: %w", err)
		}
		return nil, nil
	}
	if _, err := c.Create(context.Background()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	started := log.first(second, "systemctl start mariadb")
	if first := log.first(late, ""); first < started {
		t.Errorf("%s got its first command at %d, before its server was up (%s started at %d)", late, first, second, started)
	}
	if !log.seen(late, "systemctl start mariadb") {
		t.Errorf("%s was never started", late)
	}
}

// The first node whose server is up bootstraps, and the others join in
// the order their servers came: node 3's server is up first, node 1's
// only once node 3 bootstrapped, node 2's once node 1 started.
func TestCreateBootstrapsTheFirstServerUp(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	db1, db2, db3 := thirdUpFirst(c, log)
	var events []string
	var mu sync.Mutex
	c.opts.observe = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Phase == PhaseBootstrap || e.Phase == PhaseJoin {
			events = append(events, e.Node+": "+e.Message)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Create(ctx); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if log.seen(db1, "galera_new_cluster") || log.seen(db2, "galera_new_cluster") {
		t.Errorf("a node other than %s started a new cluster", db3)
	}
	if log.seen(db3, "systemctl start mariadb") {
		t.Errorf("%s, the bootstrapped node, was started again as a joiner", db3)
	}
	mu.Lock()
	got := strings.Join(events, "\n")
	mu.Unlock()
	for _, want := range []string{db3 + ": node 1/3 bootstrapped", db1 + ": node 2/3 joined", db2 + ": node 3/3 joined"} {
		if !strings.Contains(got, want) {
			t.Errorf("events lack %q:\n%s", want, got)
		}
	}
}

// Of the servers up, the one prepared first bootstraps: node 1's server
// is up before node 2's, but its datadir initialises only once node 2
// bootstrapped; node 3's server comes once node 1 joined.
func TestCreateBootstrapsTheFirstNodePrepared(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	db1, db2, db3 := spec.Nodes[0].Name, spec.Nodes[1].Name, spec.Nodes[2].Name
	c.nodes()[0].Await = upAtOnce
	c.nodes()[1].Await = upAfter(log, db1, "/run/systemd/system")
	c.nodes()[2].Await = upAfter(log, db1, "systemctl start mariadb")
	c.nodes()[0].Runner.(*fakeServer).hold = func(ctx context.Context, cmd string) error {
		if strings.Contains(cmd, "mariadb-install-db") {
			return log.waitSeen(ctx, db2, "galera_new_cluster")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Create(ctx); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if log.seen(db1, "galera_new_cluster") || log.seen(db3, "galera_new_cluster") {
		t.Errorf("a node other than %s started a new cluster", db2)
	}
	for _, n := range []string{db1, db3} {
		if !log.seen(n, "systemctl start mariadb") {
			t.Errorf("%s never joined", n)
		}
	}
}

// Create run again after a failure carries on from the node the first run
// bootstrapped, though another one comes first this time: node 3's server
// was up first and bootstrapped, node 1's join failed; the second run
// takes node 1 first (every server is up) and must not refuse beside
// node 3 nor start a second cluster.
func TestCreateAgainCarriesOnFromTheNodeBootstrappedBefore(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	db1, db2, _ := thirdUpFirst(c, log)
	failed := false
	c.nodes()[0].Runner.(*fakeServer).hold = func(_ context.Context, cmd string) error {
		if cmd == "systemctl start mariadb" && !failed {
			failed = true
			return &CommandError{Command: cmd, ExitCode: 1, Stderr: "Job for mariadb.service failed"}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ne *NodeError
	if _, err := c.Create(ctx); !errors.As(err, &ne) || ne.Phase != PhaseJoin || ne.Node != db1 {
		t.Fatalf("first Create = %v, want %s's join to fail", err, db1)
	}
	if _, err := c.Create(ctx); err != nil {
		t.Fatalf("second Create: %v\n%s", err, strings.Join(log.lines, "\n"))
	}
	for _, n := range []string{db1, db2} {
		if log.seen(n, "galera_new_cluster") {
			t.Errorf("%s started a second cluster", n)
		}
		if !log.seen(n, "systemctl start mariadb") {
			t.Errorf("%s never joined", n)
		}
	}
}

// A node reached before Create (SeedFromBackup restores into the first
// node's datadir) is ready before the servers still being built: it
// bootstraps, although node 2's server is up and prepared first (node 1's
// datadir initialises only once node 2's prepare ended).
func TestCreateBootstrapsANodeReachedBefore(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	db1, db2 := spec.Nodes[0].Name, spec.Nodes[1].Name
	c.nodes()[0].Await = upAtOnce
	c.nodes()[1].Await = upAtOnce
	c.nodes()[2].Await = upAfter(log, db2, "/run/systemd/system")
	if _, err := c.nodes()[0].run(context.Background(), "true", nil); err != nil {
		t.Fatal(err)
	}
	c.nodes()[0].Runner.(*fakeServer).hold = func(ctx context.Context, cmd string) error {
		if strings.Contains(cmd, "mariadb-install-db") {
			return log.waitSeen(ctx, db2, "systemctl enable --quiet --no-reload mariadb")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Create(ctx); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !log.seen(db1, "galera_new_cluster") {
		t.Errorf("%s, reached before the create, did not bootstrap", db1)
	}
}

// A server that fails while the others are prepared fails the create in
// phase prepare, naming its node, and the node is never touched.
func TestCreateReportsAServerThatNeverCameUp(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "systemd")
	late := spec.Nodes[2].Name
	c.nodes()[2].Await = func(context.Context) (*SSHTarget, error) {
		return nil, errors.New("server went to status ERROR")
	}
	_, err := c.Create(context.Background())
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Phase != PhasePrepare || ne.Node != late || !strings.Contains(err.Error(), "server went to status ERROR") {
		t.Fatalf("Create = %v, want the failure of %s's server", err, late)
	}
	if log.seen(late, "") {
		t.Errorf("%s got a command although its server never came up", late)
	}
}

// A bootstrapped server that answers ping before Galera takes statements
// (ERROR 1047) gets root's password once it does; any other failure of the
// statements ends the bootstrap at once.
func TestBootstrapWaitsForGaleraToTakeStatements(t *testing.T) {
	for _, tc := range []struct {
		name, stderr string
		wantErr      bool
	}{
		{"not yet prepared", "ERROR 1047 (08S01) at line 2: WSREP has not yet prepared node for application use", false},
		{"access denied", "ERROR 1045 (28000): Access denied for user 'root'@'localhost'", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec(MariaDB, "10.11", SSTRsync)
			c, log := fakeCluster(t, spec, "none")
			first := spec.Nodes[0].Name
			refusals := 0
			c.nodes()[0].Runner.(*fakeServer).hold = func(_ context.Context, cmd string) error {
				if !strings.HasPrefix(cmd, "mariadb --batch") || !log.seen(first, "--wsrep-new-cluster") || refusals >= 2 {
					return nil
				}
				refusals++
				return &CommandError{Command: cmd, ExitCode: 1, Stderr: tc.stderr}
			}
			err := c.Bootstrap(context.Background())
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "ERROR 1045") || refusals != 1 {
					t.Fatalf("Bootstrap = %v after %d refusals, want the access error at once", err, refusals)
				}
				return
			}
			if err != nil || refusals != 2 {
				t.Fatalf("Bootstrap = %v after %d refusals, want success after 2", err, refusals)
			}
		})
	}
}

// Bootstrap refuses to start a second cluster beside a node that already
// runs a server, and names it.
func TestBootstrapRefusesBesideARunningServer(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	c, log := fakeCluster(t, spec, "none")
	c.nodes()[1].Runner.(*fakeServer).running = true
	err := c.Bootstrap(context.Background())
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Phase != PhaseBootstrap || ne.Node != spec.Nodes[0].Name ||
		!strings.Contains(err.Error(), "node "+spec.Nodes[1].Name+" already runs a server") {
		t.Fatalf("Bootstrap = %v, want the refusal naming %s", err, spec.Nodes[1].Name)
	}
	if log.seen(spec.Nodes[0].Name, "--wsrep-new-cluster") {
		t.Errorf("%s was started as a new cluster", spec.Nodes[0].Name)
	}
}

// The first two datadirs initialise side by side, the later ones in join
// order: each starts only once the prepare of the node before it ended,
// so the nodes needed first are not slowed by those needed later.
func TestPrepareInitialisesDatadirsInJoinOrder(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.Nodes = append(spec.Nodes, Node{Name: "db4", Address: "10.210.0.14"}, Node{Name: "db5", Address: "10.210.0.15"})
	c, log := fakeCluster(t, spec, "systemd")
	names := make([]string, len(spec.Nodes))
	for i, n := range spec.Nodes {
		names[i] = n.Name
	}
	// Every initialisation takes a moment, so one started out of turn is
	// logged before the node before it was enabled; the first node's
	// lasts until the second's has begun, which it never does when the
	// two do not go together.
	for i, n := range c.nodes() {
		n.Runner.(*fakeServer).hold = func(ctx context.Context, cmd string) error {
			if !strings.Contains(cmd, "mariadb-install-db") {
				return nil
			}
			if i > 0 {
				time.Sleep(50 * time.Millisecond)
				return nil
			}
			deadline := time.Now().Add(5 * time.Second)
			for !log.seen(names[1], "mariadb-install-db") {
				if time.Now().After(deadline) {
					return errors.New("the second node did not initialise beside the first")
				}
				time.Sleep(5 * time.Millisecond)
			}
			return nil
		}
	}
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	for i := 2; i < len(names); i++ {
		initialised := log.first(names[i], "mariadb-install-db")
		before := log.first(names[i-1], "systemctl enable")
		if initialised < 0 || before < 0 || initialised < before {
			t.Errorf("%s initialised its datadir at command %d, before %s's prepare ended (enable at %d)", names[i], initialised, names[i-1], before)
		}
	}
}

// thirdUpFirst brings the servers of a three-node cluster up out of order:
// node 3's at once, node 1's once node 3 bootstrapped, node 2's once node
// 1 started. It returns the nodes' names.
func thirdUpFirst(c *Cluster, log *sharedLog) (db1, db2, db3 string) {
	n := c.nodes()
	db1, db2, db3 = n[0].Name, n[1].Name, n[2].Name
	n[0].Await = upAfter(log, db3, "galera_new_cluster")
	n[1].Await = upAfter(log, db1, "systemctl start mariadb")
	n[2].Await = upAtOnce
	return db1, db2, db3
}

// upAtOnce is a Node.Await whose server is up at once.
func upAtOnce(context.Context) (*SSHTarget, error) { return nil, nil }

// upAfter is a Node.Await whose server is up once node ran a command
// containing part.
func upAfter(log *sharedLog, node, part string) func(context.Context) (*SSHTarget, error) {
	return func(ctx context.Context) (*SSHTarget, error) {
		return nil, log.waitSeen(ctx, node, part)
	}
}

// The responders' account and the writer record go with the bootstrap's
// admin statements, before any node joins: a load balancer built beside
// the servers judges the members while they join. The record names the
// first member.
func TestCreateRecordsTheWriterBeforeTheJoins(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	spec.Clustercheck = &Clustercheck{Password: "cc-secret", Port: 9200}
	c, log := fakeCluster(t, spec, "systemd")
	recorded := ""
	c.nodes()[1].Runner.(*fakeServer).hold = func(_ context.Context, cmd string) error {
		if cmd != "systemctl start mariadb" {
			return nil
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		for _, in := range log.stdin {
			if strings.Contains(in, "CREATE USER IF NOT EXISTS 'clustercheck'@'localhost'") && strings.Contains(in, "INSERT IGNORE INTO pxc_guest.writer") {
				recorded = in
			}
		}
		return nil
	}
	// The fake has no network for SQL: the create's last step, which runs
	// the statements again over SQL, fails; the joins are done by then.
	if _, err := c.Create(context.Background()); err == nil || !strings.Contains(err.Error(), "clustercheck account") {
		t.Fatalf("Create = %v, want the last step's SQL to fail on the fake", err)
	}
	if !log.seen(spec.Nodes[1].Name, "systemctl start mariadb") {
		t.Fatalf("%s never joined:\n%s", spec.Nodes[1].Name, strings.Join(log.lines, "\n"))
	}
	if recorded == "" {
		t.Fatal("the responders' account and the writer record were not sent before the first join")
	}
	if !strings.Contains(recorded, "VALUES (1, '"+spec.Nodes[0].Address+"')") {
		t.Errorf("the writer record does not name the first member:\n%s", recorded)
	}
}
