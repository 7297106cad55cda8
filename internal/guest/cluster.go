package guest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Cluster runs the operations on the nodes of one spec. Connections are
// opened on first use and reused; Close releases them. Every operation is
// idempotent: it looks at the node first and skips what is already done,
// so it can be re-run after a failure.
type Cluster struct {
	spec   ClusterSpec // validated, with defaults
	layout layout
	opts   options
	mask   *masker

	mu          sync.Mutex
	members     []*node // current members in spec order
	arbitrators []*node // garbd hosts (garbd.go)
}

type node struct {
	Node
	c *Cluster

	mu     sync.Mutex
	runner Runner // masking wrapper around Node.Runner or ssh
	ssh    *SSHClient
	// awaited is the target Node.Await returned; arrived says it did.
	awaited *SSHTarget
	arrived atomic.Bool
	init    InitSystem
	db      *sql.DB
	// preparedResponder is the clustercheck responder Prepare installed
	// (responderKey), which the node's next start then need not install
	// again; empty when there is none.
	preparedResponder string
	// installedResponder is the responder this Cluster last installed on
	// the node (responderKey), which Create's last step need not install
	// again; empty when there is none.
	installedResponder string
}

type options struct {
	observe        Observer
	connectTimeout time.Duration
	startTimeout   time.Duration
	joinTimeout    time.Duration
	stopTimeout    time.Duration
	poll           time.Duration
	statusTimeout  time.Duration
	// status replaces the SQL status query (tests with a recording runner).
	status func(ctx context.Context, n *node) (NodeStatus, error)
}

// defaultPoll is how often a wait looks at a node: a status read over the
// node's open SSH connection costs a few milliseconds, and every wait of a
// create (bootstrap, each join, the gate) ends on average half an interval
// after the node got there.
const defaultPoll = 100 * time.Millisecond

// Option tunes a Cluster.
type Option func(*options)

// WithObserver receives progress events and warnings.
func WithObserver(o Observer) Option { return func(op *options) { op.observe = o } }

// WithConnectTimeout bounds waiting for a node's sshd (default 5m).
func WithConnectTimeout(d time.Duration) Option { return func(op *options) { op.connectTimeout = d } }

// WithStartTimeout bounds a node's start without state transfer: bootstrap,
// restart, IST rejoin (default 5m).
func WithStartTimeout(d time.Duration) Option { return func(op *options) { op.startTimeout = d } }

// WithJoinTimeout is the base time a joiner may take to reach Synced; the
// library adds time for the data on the donor (default 10m + 1s per 20 MiB).
func WithJoinTimeout(d time.Duration) Option { return func(op *options) { op.joinTimeout = d } }

// WithPollInterval sets how often status is polled while waiting (default
// defaultPoll).
func WithPollInterval(d time.Duration) Option { return func(op *options) { op.poll = d } }

// WithStatusTimeout bounds reading one node's status (default 10s); an
// unreachable node costs this much in Status and Gate.
func WithStatusTimeout(d time.Duration) Option { return func(op *options) { op.statusTimeout = d } }

// New validates the spec and returns a Cluster. Nothing is contacted yet.
func New(spec ClusterSpec, opts ...Option) (*Cluster, error) {
	if err := Validate(spec); err != nil {
		return nil, err
	}
	s := spec.withDefaults()
	s.Nodes = append([]Node(nil), spec.Nodes...)
	s.Arbitrators = append([]Node(nil), spec.Arbitrators...)
	c := &Cluster{
		spec:   s,
		layout: layoutFor(s),
		opts: options{
			connectTimeout: 5 * time.Minute,
			startTimeout:   5 * time.Minute,
			joinTimeout:    10 * time.Minute,
			stopTimeout:    10 * time.Minute,
			poll:           defaultPoll,
			statusTimeout:  10 * time.Second,
		},
		mask: newMasker(s.RootPassword, s.SSTPassword),
	}
	if s.Clustercheck != nil {
		c.mask.add(s.Clustercheck.Password)
	}
	for _, o := range opts {
		o(&c.opts)
	}
	for _, n := range s.Nodes {
		c.members = append(c.members, &node{Node: n, c: c, init: s.InitSystem})
	}
	for _, a := range s.Arbitrators {
		c.arbitrators = append(c.arbitrators, &node{Node: a, c: c, init: s.InitSystem})
	}
	return c, nil
}

// Close closes SSH connections and SQL pools.
func (c *Cluster) Close() error {
	for _, n := range append(c.nodes(), c.arbitratorNodes()...) {
		n.close()
	}
	return nil
}

// Spec returns the validated spec with defaults filled in (members as of now).
func (c *Cluster) Spec() ClusterSpec {
	s := c.spec
	s.Nodes = nil
	for _, n := range c.nodes() {
		s.Nodes = append(s.Nodes, n.Node)
	}
	s.Arbitrators = nil
	for _, a := range c.arbitratorNodes() {
		s.Arbitrators = append(s.Arbitrators, a.Node)
	}
	return s
}

func (c *Cluster) arbitratorNodes() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*node(nil), c.arbitrators...)
}

func (c *Cluster) nodes() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*node(nil), c.members...)
}

func (c *Cluster) node(name string) (*node, error) {
	for _, n := range c.nodes() {
		if n.Name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("node %q is not a member of cluster %s", name, c.spec.Name)
}

func (c *Cluster) emit(phase, node, format string, a ...any) {
	c.opts.observe.emit(Event{Phase: phase, Node: node, Message: c.mask.mask(fmt.Sprintf(format, a...))})
}

func (c *Cluster) emitDone(phase, node string, start time.Time, format string, a ...any) {
	c.opts.observe.emit(Event{Phase: phase, Node: node, Message: c.mask.mask(fmt.Sprintf(format, a...)), Elapsed: time.Since(start)})
}

// --- per-node plumbing ---------------------------------------------------

func (n *node) getRunner(ctx context.Context) (Runner, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.runner != nil {
		return n.runner, nil
	}
	if err := n.awaitServer(ctx); err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	var r Runner = n.Runner
	if r == nil {
		t := n.SSH
		if t == nil {
			t = n.awaited
		}
		if t == nil {
			return nil, fmt.Errorf("node %s: no SSH target", n.Name)
		}
		dctx, cancel := context.WithTimeout(ctx, n.c.opts.connectTimeout)
		defer cancel()
		cl, err := DialSSH(dctx, *t, n.c.opts.observe)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		n.ssh, r = cl, cl
		if needsSudo(t) {
			r = sudoRunner{r: cl}
		}
	}
	n.runner = maskingRunner{r: r, m: n.c.mask}
	return n.runner, nil
}

// waitServer waits until the node's server is up (Node.Await).
func (n *node) waitServer(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.awaitServer(ctx)
}

// awaitServer waits for Node.Await, if set, before the node's first
// connection. The caller holds n.mu.
func (n *node) awaitServer(ctx context.Context) error {
	if n.Await == nil || n.arrived.Load() {
		return nil
	}
	t, err := n.Await(ctx)
	if err != nil {
		return fmt.Errorf("server not ready: %w", err)
	}
	n.awaited = t
	n.arrived.Store(true)
	return nil
}

// building is true while the node's server is still being built (Await
// has not returned yet): it runs no database server.
func (n *node) building() bool {
	return n.Await != nil && !n.arrived.Load()
}

// run runs a command; errors say which node.
func (n *node) run(ctx context.Context, cmd string, stdin []byte) (string, error) {
	r, err := n.getRunner(ctx)
	if err != nil {
		return "", err
	}
	out, err := r.Run(ctx, cmd, stdin)
	if err != nil {
		return string(out), fmt.Errorf("node %s: %w", n.Name, err)
	}
	return string(out), nil
}

func (n *node) upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	r, err := n.getRunner(ctx)
	if err != nil {
		return err
	}
	if err := r.Upload(ctx, path, content, mode); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nil
}

// sqlDB is a pool that reaches the node's server through the SSH
// connection at 127.0.0.1:3306, as root@127.0.0.1.
func (n *node) sqlDB(ctx context.Context) (*sql.DB, error) {
	r, err := n.getRunner(ctx)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	if n.db != nil {
		defer n.mu.Unlock()
		return n.db, nil
	}
	n.mu.Unlock()
	// In required mode the server refuses plain TCP, the tunnel's too:
	// TLS verified against the cluster's CA and the node's name. Set on
	// the connector, not registered globally (RegisterTLSConfig), so each
	// node's pool carries its own server name.
	clientTLS, err := n.c.clientTLS(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.db != nil {
		return n.db, nil
	}
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Passwd = n.c.spec.RootPassword
	cfg.Net = "tcp"
	cfg.Addr = "127.0.0.1:3306"
	cfg.DialFunc = r.DialContext
	// SSH channels have no deadlines, so no Read/WriteTimeout: every query
	// runs under a context instead, and cancelling it closes the connection.
	cfg.Timeout = 10 * time.Second
	cfg.Logger = discardLogger{}
	cfg.AllowNativePasswords = true
	cfg.TLS = clientTLS
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("node %s: mysql connector: %w", n.Name, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(30 * time.Second)
	n.db = db
	return db, nil
}

// DB returns a database handle to one node's server through its SSH
// connection (root@127.0.0.1). The Cluster owns it; do not close it.
func (c *Cluster) DB(ctx context.Context, nodeName string) (*sql.DB, error) {
	n, err := c.node(nodeName)
	if err != nil {
		return nil, err
	}
	return n.sqlDB(ctx)
}

func (n *node) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.db != nil {
		n.db.Close()
		n.db = nil
	}
	if n.ssh != nil {
		n.ssh.Close()
		n.ssh = nil
	}
	n.runner = nil
	n.preparedResponder = ""
	n.installedResponder = ""
}

// takePreparedResponder returns the responder Prepare installed and
// forgets it: it spares one start the install, no more.
func (n *node) takePreparedResponder() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := n.preparedResponder
	n.preparedResponder = ""
	return k
}

// installed is the responder this Cluster last installed on the node.
func (n *node) installed() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.installedResponder
}

func (n *node) setInstalled(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.installedResponder = key
}

func (n *node) setPreparedResponder(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.preparedResponder = key
}

// resetDB drops the pool after the server restarted, so no stale
// connection is reused.
func (n *node) resetDB() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.db != nil {
		n.db.Close()
		n.db = nil
	}
}

// --- processes -----------------------------------------------------------

// processState is what `pgrep` sees on the node.
type processState struct {
	Running      bool // the server or its wrapper (mysqld_safe) is alive
	Bootstrapped bool // it was started with --wsrep-new-cluster
}

func (c *Cluster) processes(ctx context.Context, n *node) (processState, error) {
	if n.building() {
		return processState{}, nil // a server still being built runs none
	}
	l := c.layout
	// '[w]srep' keeps the pattern from matching this shell's own command line.
	cmd := fmt.Sprintf(`if %s; then echo running; else echo stopped; fi; `+
		`if pgrep -f -- '--[w]srep-new-cluster' >/dev/null; then echo bootstrapped; fi`, serverRunning(l.Server))
	out, err := n.run(ctx, cmd, nil)
	if err != nil {
		return processState{}, fmt.Errorf("check processes: %w", err)
	}
	return processState{
		Running:      strings.Contains(out, "running"),
		Bootstrapped: strings.Contains(out, "bootstrapped"),
	}, nil
}

// serverRunning is a shell test that holds while the node's server (or
// its wrapper, mysqld_safe) runs. A datadir's initialisation (mariadbd
// --bootstrap, mysqld --initialize) is no running server: Create
// bootstraps the first node while the others may still initialise theirs.
// Nor is a server that exited and is not reaped yet: pgrep shows it
// without a command line, "[mariadbd] <defunct>" (an initialisation's
// server just gone, or one a lazily reaping PID 1 inherited).
func serverRunning(server string) string {
	return fmt.Sprintf(`{ pgrep -ax %s | grep -qv -e ' --bootstrap' -e ' --initialize' -e '^[0-9]* \[' || pgrep -x mysqld_safe >/dev/null; }`, server)
}

// serverProcesses lists the node's server processes for an error message,
// as " (pid command line; ...)", or "" when there are none to show.
func (c *Cluster) serverProcesses(ctx context.Context, n *node) string {
	out, err := n.run(ctx, "{ pgrep -ax "+c.layout.Server+"; pgrep -ax mysqld_safe; } | cut -c1-200", nil)
	out = strings.TrimSpace(out)
	if err != nil || out == "" {
		return ""
	}
	return " (" + strings.ReplaceAll(out, "\n", "; ") + ")"
}

// startCommand is how a node's server is started.
func (c *Cluster) startCommand(n *node, bootstrap bool) string {
	l := c.layout
	if n.init == InitSystemd {
		switch {
		case bootstrap && c.spec.Flavour == Percona:
			return "systemctl start mysql@bootstrap.service"
		case bootstrap:
			return "galera_new_cluster"
		default:
			return "systemctl start " + l.SystemdUnit
		}
	}
	flag := ""
	if bootstrap {
		flag = " --wsrep-new-cluster"
	}
	// Only the setsid'd server goes to the background, with every stream
	// redirected: anything holding the session's stdout open would keep the
	// SSH command from returning.
	prepare := "install -d -o mysql -g root -m 755 " + runDir + " || exit 1; "
	background := func(prog string) string { return "setsid " + prog + flag + " </dev/null >/dev/null 2>&1 &" }
	direct := l.ServerPath + " --user=mysql"
	if c.spec.Flavour == Percona {
		return prepare + background(direct)
	}
	// MariaDB's mysqld_safe runs a --wsrep-recover pass (a whole server
	// start and stop, seconds) before every start, to find the position a
	// crashed node rejoins from. A datadir Galera never ran on has no
	// grastate.dat and no position to recover: its first start, in
	// Bootstrap and Join, goes straight to the server. A restored backup
	// (restoredMarker) carries a position and keeps the pass.
	return prepare + "if " + recoverablePosition + "; then " +
		background("/usr/bin/mysqld_safe") + " else " + background(direct) + " fi"
}

// stopCommand stops the server cleanly and waits until it is gone.
func (c *Cluster) stopCommand(n *node) string {
	l := c.layout
	if n.init == InitSystemd {
		if c.spec.Flavour == Percona {
			return "systemctl stop mysql@bootstrap.service " + l.SystemdUnit
		}
		return "systemctl stop " + l.SystemdUnit
	}
	limit := int(c.opts.stopTimeout / (100 * time.Millisecond))
	return fmt.Sprintf(`%s shutdown >/dev/null 2>&1; for i in $(seq 1 %d); do %s || exit 0; sleep 0.1; done; echo "server still running after %s" >&2; exit 1`,
		l.Admin, limit, serverRunning(l.Server), c.opts.stopTimeout)
}

func (c *Cluster) start(ctx context.Context, n *node, bootstrap bool) error {
	n.resetDB()
	if _, err := n.run(ctx, c.startCommand(n, bootstrap), nil); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	if cc := c.spec.Clustercheck; cc != nil {
		// The responder starts with the node (it answers 503 until the
		// server is Synced and the account exists), unless Prepare just
		// installed this very one.
		members := c.Spec().Nodes
		if n.takePreparedResponder() == responderKey(c.spec, members, n.Node, *cc) {
			return nil
		}
		if err := c.installClustercheck(ctx, n, members, *cc); err != nil {
			return fmt.Errorf("clustercheck: %w", err)
		}
	}
	return nil
}

func (c *Cluster) stop(ctx context.Context, n *node) error {
	n.resetDB()
	if _, err := n.run(ctx, c.stopCommand(n), nil); err != nil {
		return fmt.Errorf("stop server: %w", err)
	}
	return nil
}

// errorLogTail is the end of the server's error log, for failure messages.
func (c *Cluster) errorLogTail(ctx context.Context, n *node) string {
	out, err := n.run(ctx, "tail -n 15 "+errorLog+" 2>/dev/null", nil)
	if err != nil {
		return ""
	}
	return c.mask.mask(strings.TrimSpace(out))
}

// --- waiting -------------------------------------------------------------

// waitSynced polls until the node is Primary, Synced and ready. It fails
// early when the server process is gone (mysqld_safe does not restart a
// crashed Galera node).
func (c *Cluster) waitSynced(ctx context.Context, n *node, timeout time.Duration, what string) (NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last NodeStatus
	var lastErr error
	for i := 0; ; i++ {
		st, err := c.nodeStatus(ctx, n)
		if err == nil && st.Healthy() {
			return st, nil
		}
		last, lastErr = st, err
		if i%5 == 4 {
			if ps, perr := c.processes(ctx, n); perr == nil && !ps.Running {
				return last, fmt.Errorf("node %s: server exited while waiting for %s; error log:\n%s", n.Name, what, c.errorLogTail(context.WithoutCancel(ctx), n))
			}
		}
		select {
		case <-ctx.Done():
			state := "no status"
			if lastErr != nil {
				state = lastErr.Error()
			} else if last.LocalState != "" {
				state = fmt.Sprintf("%s/%s ready=%v", last.ClusterStatus, last.LocalState, last.Ready)
			}
			return last, fmt.Errorf("node %s: %s not reached within %s (last: %s)", n.Name, what, timeout, state)
		case <-time.After(c.opts.poll):
		}
	}
}

// waitLocalPing waits until the server answers on its unix socket (before
// root@127.0.0.1 exists, SQL through the tunnel cannot log in).
func (c *Cluster) waitLocalPing(ctx context.Context, n *node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; ; i++ {
		if _, err := n.run(ctx, c.layout.Admin+" --connect-timeout=2 ping >/dev/null 2>&1", nil); err == nil {
			return nil
		}
		if i%5 == 4 {
			if ps, err := c.processes(ctx, n); err == nil && !ps.Running {
				return fmt.Errorf("node %s: server exited during start; error log:\n%s", n.Name, c.errorLogTail(ctx, n))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s: server did not answer within %s", n.Name, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.opts.poll):
		}
	}
}

// parseInt64 parses a status value, -1 when empty or unparsable.
func parseInt64(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// parallel runs f for every node at once and joins the errors.
func parallel(nodes []*node, f func(n *node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// discardLogger keeps the driver from printing to the standard logger.
type discardLogger struct{}

func (discardLogger) Print(...any) {}
