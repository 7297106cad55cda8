package guest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a Runner that plays one node with a database server that
// starts and stops on the commands the library sends, and records them
// into a log shared by all nodes.
type fakeServer struct {
	name    string
	initSys string // output of the init-system probe
	shared  *sharedLog

	mu           sync.Mutex
	running      bool
	bootstrapped bool
	// sst: an SST script runs (the node donates or joins).
	sst bool
	// backupTool: the hot-backup tool of that name runs.
	backupTool string
	// uptime is how long the server has run, in seconds (empty: ten
	// minutes).
	uptime string
	// grastate is the node's grastate.dat (empty: none).
	grastate string
	// outsidePrimary: the running server waits outside a primary
	// component (its unit started it at boot); gvwstate: it holds a
	// gvwstate.dat; pcRecovery: status reads until pc.recovery restores
	// the primary component (0: never).
	outsidePrimary bool
	gvwstate       bool
	pcRecovery     int
	files          map[string]string // uploaded content by path
	// hold, if set, runs before each command is answered (outside mu): it
	// may block, and its error is the command's.
	hold func(ctx context.Context, cmd string) error
}

type sharedLog struct {
	mu    sync.Mutex
	lines []string
	stdin []string // everything sent on stdin or uploaded
}

// first is the index of node's first command that contains part, -1 if none.
func (l *sharedLog) first(node, part string) int {
	return slices.IndexFunc(l.lines, func(line string) bool {
		return strings.HasPrefix(line, node+": ") && strings.Contains(line, part)
	})
}

// seen is first, safe beside commands still being added.
func (l *sharedLog) seen(node, part string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first(node, part) >= 0
}

func (l *sharedLog) add(node, line, secretCarrier string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, node+": "+line)
	if secretCarrier != "" {
		l.stdin = append(l.stdin, secretCarrier)
	}
}

func (f *fakeServer) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	f.shared.add(f.name, cmd, string(stdin))
	if f.hold != nil {
		if err := f.hold(ctx, cmd); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.Contains(cmd, "/run/systemd/system"):
		return []byte(f.initSys + "\n"), nil
	case strings.Contains(cmd, "echo present"):
		return []byte("present\n"), nil
	case strings.Contains(cmd, "echo mysqld"): // the health probe
		out := "responder\n"
		if f.running {
			out += "mysqld\nuptime=" + cmp.Or(f.uptime, "600") + "\n"
		}
		if f.sst {
			out += "sst\n"
		}
		if f.backupTool != "" && strings.Contains(cmd, "pgrep -x "+f.backupTool+" ") {
			out += "backup\n"
		}
		return []byte(out), nil
	case strings.Contains(cmd, "rm -rf -- "): // SST leftovers: refused while the server runs
		if f.running || f.sst {
			return nil, &CommandError{Command: cmd, ExitCode: 1, Stderr: "the server or a state transfer still runs"}
		}
	case strings.Contains(cmd, "echo running"):
		out := "stopped\n"
		if f.running {
			out = "running\n"
		}
		if f.bootstrapped {
			out += "bootstrapped\n"
		}
		return []byte(out), nil
	case strings.Contains(cmd, "gvwstate.dat && echo gvwstate"):
		if f.gvwstate {
			return []byte("gvwstate\n"), nil
		}
		return nil, nil
	case strings.HasPrefix(cmd, "cat /var/lib/mysql/grastate.dat"):
		return []byte(f.grastate), nil
	case strings.HasPrefix(cmd, "cat /var/lib/mysql/"):
		return []byte("PEM of " + f.name), nil
	case strings.HasPrefix(cmd, "cat /etc/mysql/tls/"): // what was uploaded there, or nothing
		path, _, _ := strings.Cut(strings.TrimPrefix(cmd, "cat "), " ")
		return []byte(f.files[path]), nil
	case cmd == "mktemp -d":
		return []byte("/tmp/tmp.guest1\n"), nil
	case strings.HasPrefix(cmd, "du -sb"):
		return []byte("104857600\n"), nil
	case strings.Contains(cmd, "mysql@bootstrap.service && systemctl start"),
		strings.HasPrefix(cmd, "systemctl start mysql\n"), cmd == "systemctl start mysql":
		f.running, f.bootstrapped = true, false
	case cmd == "systemctl start mysql@bootstrap.service", cmd == "galera_new_cluster":
		f.running, f.bootstrapped, f.outsidePrimary = true, true, false
	case cmd == "systemctl start mariadb":
		f.running, f.bootstrapped, f.outsidePrimary = true, false, false
	case strings.Contains(cmd, "setsid"):
		f.running, f.bootstrapped = true, strings.Contains(cmd, "--wsrep-new-cluster")
	case strings.Contains(cmd, " shutdown "), strings.HasPrefix(cmd, "systemctl stop"):
		f.running, f.bootstrapped, f.outsidePrimary = false, false, false
	case strings.Contains(cmd, " ping"):
		if !f.running {
			return nil, &CommandError{Command: cmd, ExitCode: 1}
		}
	}
	return nil, nil
}

func (f *fakeServer) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	f.shared.add(f.name, fmt.Sprintf("UPLOAD %s mode %04o", path, mode.Perm()), string(content))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files = map[string]string{}
	}
	f.files[path] = string(content)
	return nil
}

func (f *fakeServer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errors.New("fake server: no network")
}

// fakeCluster builds a Cluster on fake servers whose SQL status follows
// their process state.
func fakeCluster(t *testing.T, spec ClusterSpec, initSys string) (*Cluster, *sharedLog) {
	t.Helper()
	log := &sharedLog{}
	servers := map[string]*fakeServer{}
	for i := range spec.Nodes {
		f := &fakeServer{name: spec.Nodes[i].Name, initSys: initSys, shared: log}
		servers[f.name] = f
		spec.Nodes[i].Runner = f
	}
	c, err := New(spec, WithPollInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	c.opts.status = func(ctx context.Context, n *node) (NodeStatus, error) {
		f := servers[n.Name]
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.running {
			return NodeStatus{Node: n.Name}, errors.New("connection refused")
		}
		if f.outsidePrimary && f.pcRecovery > 0 {
			if f.pcRecovery--; f.pcRecovery == 0 {
				f.outsidePrimary = false
			}
		}
		if f.outsidePrimary {
			return NodeStatus{Node: n.Name, NodeName: n.Name, ClusterSize: 3, ClusterStatus: "non-Primary",
				LocalState: "Initialized", Connected: true, StateUUID: "u", LastCommitted: -1}, nil
		}
		return NodeStatus{Node: n.Name, NodeName: n.Name, ClusterSize: 3, ClusterStatus: "Primary",
			LocalState: "Synced", Ready: true, Connected: true, StateUUID: "u", ConfID: 3}, nil
	}
	return c, log
}

// TestPerconaCommandSequence checks the exact commands sent to Percona
// nodes (systemd on 8.0, no init system on 5.7) against golden files:
// Prepare per node, then Bootstrap, Join and RestartBootstrapNode in order.
func TestPerconaCommandSequence(t *testing.T) {
	for _, tc := range []struct {
		golden, version, init string
		tls                   TLSMode
	}{
		{"percona-8.0-systemd", "8.0", "systemd", ""},
		{"percona-5.7-none", "5.7", "none", ""},
		// Issue 14: each node's TLS files from the issuer, no copy from node 1.
		{"percona-8.0-systemd-tls", "8.0", "systemd", TLSRequired},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			spec := testSpec(Percona, tc.version, "")
			if tc.tls != "" {
				spec.TLS = testTLS(t, tc.tls)
			}
			c, log := fakeCluster(t, spec, tc.init)
			ctx := context.Background()
			if err := c.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			// Prepare runs on all nodes at once: compare each node's part.
			var b strings.Builder
			for _, name := range []string{"db1", "db2", "db3"} {
				for _, l := range log.lines {
					if strings.HasPrefix(l, name+": ") {
						b.WriteString(l + "\n")
					}
				}
			}
			log.lines = nil
			b.WriteString("---- bootstrap, join, restart (in this order)\n")
			for _, step := range []func(context.Context) error{c.Bootstrap, c.Join, c.RestartBootstrapNode} {
				if err := step(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, l := range log.lines {
				b.WriteString(l + "\n")
			}
			got := b.String()
			path := filepath.Join("testdata", tc.golden+".commands")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("command sequence differs from %s:\n%s", path, got)
			}

			seq := log.lines
			bootstrapCmd := "db1: install -d -o mysql -g root -m 755 /run/mysqld || exit 1; setsid /usr/sbin/mysqld --user=mysql --wsrep-new-cluster"
			startCmd := func(n string) string { return n + ": install -d" }
			if tc.init == "systemd" {
				bootstrapCmd = "db1: systemctl start mysql@bootstrap.service"
				startCmd = func(n string) string { return n + ": systemctl start mysql" }
			}
			order := []string{bootstrapCmd, "db1: mysql --batch", startCmd("db2"), startCmd("db3")}
			pos := -1
			for _, want := range order {
				i := indexFrom(seq, pos+1, want)
				if i < 0 {
					t.Fatalf("%q does not follow position %d in:\n%s", want, pos, strings.Join(seq, "\n"))
				}
				pos = i
			}
			for _, l := range seq {
				for _, secret := range []string{spec.RootPassword, spec.SSTPassword} {
					if strings.Contains(l, secret) {
						t.Errorf("a password is on a command line: %s", l)
					}
				}
			}
			// Defect 12: root writes nothing through paths the mysql user
			// controls (the datadir: certificates) and uses no fixed /tmp name.
			for _, l := range seq {
				if strings.Contains(l, "UPLOAD "+dataDir+"/") || strings.Contains(l, "chown mysql:mysql "+dataDir+"/") || strings.Contains(l, "/tmp/guest-") {
					t.Errorf("unsafe file handling: %s", l)
				}
			}
			copied := slices.Contains(seq, "db2: install -o mysql -g mysql -m 0600 '/tmp/tmp.guest1/server-key.pem' /var/lib/mysql/server-key.pem")
			if tc.version == "8.0" && tc.tls == "" && !copied {
				t.Errorf("certificates are not installed from a root-owned staging directory")
			}
			if tc.tls != "" && copied {
				t.Errorf("with TLS files of its own, a joiner still copies node 1's certificates")
			}
			carried := strings.Join(log.stdin, "\n")
			if !strings.Contains(carried, "IDENTIFIED BY 'root-secret'") {
				t.Errorf("root password was not set over stdin")
			}
			if tc.version == "5.7" && !strings.Contains(carried, "'sstuser'@'localhost' IDENTIFIED BY 'sst-secret'") {
				t.Errorf("5.7 SST user was not created")
			}
		})
	}
}

func indexFrom(lines []string, from int, prefix string) int {
	for i := from; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], prefix) {
			return i
		}
	}
	return -1
}

// TestMariaDBSystemdCommands checks the MariaDB systemd paths.
func TestMariaDBSystemdCommands(t *testing.T) {
	c, log := fakeCluster(t, testSpec(MariaDB, "10.11", SSTMariabackup), "systemd")
	ctx := context.Background()
	if err := c.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.nodes() {
		if n.init != InitSystemd {
			t.Fatalf("%s: init %q", n.Name, n.init)
		}
	}
	if got := c.startCommand(c.nodes()[0], true); got != "galera_new_cluster" {
		t.Errorf("bootstrap command %q", got)
	}
	if got := c.startCommand(c.nodes()[1], false); got != "systemctl start mariadb" {
		t.Errorf("start command %q", got)
	}
	if got := c.stopCommand(c.nodes()[1]); got != "systemctl stop mariadb" {
		t.Errorf("stop command %q", got)
	}
	// Prepare enables the unit, so a rebooted server starts MariaDB itself.
	for _, n := range c.nodes() {
		if !slices.Contains(log.lines, n.Name+": SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet --no-reload mariadb") {
			t.Errorf("%s: mariadb not enabled by Prepare:\n%s", n.Name, strings.Join(log.lines, "\n"))
		}
	}
	if len(log.lines) == 0 {
		t.Errorf("nothing was run")
	}
}

// TestBootstrapRefusesExistingState: a datadir of an existing cluster that
// is not safe to bootstrap must go through Recover.
func TestBootstrapRefusesExistingState(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	r := &recorder{}
	r.on("echo running", "stopped\n").on("grastate.dat", "uuid: 8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa\nseqno: -1\nsafe_to_bootstrap: 0\n")
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = r
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Bootstrap(context.Background())
	if err == nil || !strings.Contains(err.Error(), "use Recover") {
		t.Fatalf("Bootstrap over existing state: %v", err)
	}
	for _, cmd := range r.commands() {
		if strings.Contains(cmd, "setsid") || strings.Contains(cmd, "systemctl start") {
			t.Errorf("a server was started: %s", cmd)
		}
	}
}

func TestDecide(t *testing.T) {
	n := func(name string, seqno int64, safe bool) NodeRecovery {
		return NodeRecovery{Node: name, UUID: "u1", Seqno: seqno, SafeToBootstrap: safe}
	}
	cases := []struct {
		name    string
		nodes   []NodeRecovery
		force   string
		source  string
		wantErr string
	}{
		{"highest seqno", []NodeRecovery{n("a", 10, false), n("b", 12, false), n("c", 11, false)}, "", "b", ""},
		{"tie goes to the earlier node", []NodeRecovery{n("a", 10, false), n("b", 12, false), n("c", 12, false)}, "", "b", ""},
		{"safe_to_bootstrap wins", []NodeRecovery{n("a", 10, false), n("b", 12, false), n("c", 5, true)}, "", "c", ""},
		{"unsurveyed node blocks", []NodeRecovery{n("a", 10, false), {Node: "b", Err: errors.New("no route")}, n("c", 5, false)}, "", "", "before every node is surveyed"},
		{"force overrides", []NodeRecovery{n("a", 10, false), {Node: "b", Err: errors.New("no route")}, n("c", 5, false)}, "c", "c", ""},
		{"force unknown", []NodeRecovery{n("a", 10, false)}, "z", "", "not a member"},
		{"no valid seqno", []NodeRecovery{n("a", -1, false), n("b", -1, false), n("c", -1, false)}, "", "", "no node has a valid seqno"},
		{"different clusters", []NodeRecovery{n("a", 1, false), {Node: "b", UUID: "u2", Seqno: 4}, n("c", 1, false)}, "", "", "different clusters"},
		{"running primary", []NodeRecovery{n("a", 1, false), {Node: "b", Running: true, Primary: true}, n("c", 1, false)}, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(tc.nodes, tc.force)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != tc.source {
				t.Errorf("source = %q, want %q (%s)", d.Source, tc.source, d)
			}
			if d.Reason == "" {
				t.Errorf("no reason given")
			}
		})
	}
}

func TestParseGrastate(t *testing.T) {
	g := parseGrastate("# GALERA saved state\nversion: 2.1\nuuid:    8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa\nseqno:   42\nsafe_to_bootstrap: 1\n")
	if !g.exists || g.UUID != "8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa" || g.Seqno != 42 || !g.SafeToBootstrap {
		t.Errorf("parsed %+v", g)
	}
	if g := parseGrastate(""); g.exists || g.Seqno != -1 {
		t.Errorf("empty grastate parsed as %+v", g)
	}
	m := recoveredRe.FindStringSubmatch("2026-11-22 20:39:01 0 [Note] WSREP: Recovered position: 8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa:317")
	if m == nil || m[2] != "317" {
		t.Errorf("recovered position not parsed: %v", m)
	}
}

func TestEvaluateNamesMissingNode(t *testing.T) {
	ok := func(name string, size int) NodeStatus {
		return NodeStatus{Node: name, ClusterSize: size, ClusterStatus: "Primary", LocalState: "Synced", Ready: true, Connected: true, StateUUID: "u", ConfID: 7}
	}
	st := evaluate([]NodeStatus{ok("a", 2), ok("b", 2), {Node: "c", Err: errors.New("connection refused")}})
	if st.OK() || len(st.Missing) != 1 || st.Missing[0] != "c" {
		t.Fatalf("status %+v", st)
	}
	joined := strings.Join(st.Problems, "; ")
	for _, want := range []string{"a sees cluster size 2, want 3", "c is unreachable"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q lack %q", joined, want)
		}
	}
	st = evaluate([]NodeStatus{ok("a", 3), ok("b", 3), ok("c", 3)})
	if !st.OK() {
		t.Errorf("healthy cluster failed the gate: %v", st.Problems)
	}
	b := ok("b", 3)
	b.ConfID = 6
	if st := evaluate([]NodeStatus{ok("a", 3), b, ok("c", 3)}); st.OK() {
		t.Errorf("conf_id mismatch passed the gate")
	}
}

func TestMaskingRunnerHidesSecrets(t *testing.T) {
	m := maskingRunner{r: failingWith{`ERROR 1064: near 'IDENTIFIED BY 'root-secret''`}, m: newMasker("root-secret")}
	_, err := m.Run(context.Background(), "mysql --batch", []byte("..."))
	if err == nil || strings.Contains(err.Error(), "root-secret") || !strings.Contains(err.Error(), "***") {
		t.Errorf("error not masked: %v", err)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || ce.ExitCode != 1 {
		t.Errorf("masked error lost its CommandError: %v", err)
	}
}

type failingWith struct{ stderr string }

func (f failingWith) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	return nil, &CommandError{Command: cmd, ExitCode: 1, Stderr: f.stderr}
}
func (f failingWith) Upload(context.Context, string, []byte, fs.FileMode) error { return nil }
func (f failingWith) DialContext(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no")
}

// Bad input is refused by New before any command runs.
func TestNewRefusesBeforeRunning(t *testing.T) {
	r := &recorder{}
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = r
	}
	spec.Nodes = spec.Nodes[:1]
	if _, err := New(spec); err == nil {
		t.Fatal("New accepted 1 node")
	}
	spec = testSpec(MariaDB, "10.11", SSTRsync)
	spec.Parameters["x"] = "1\n[client]"
	if _, err := New(spec); err == nil {
		t.Fatal("New accepted an injected parameter")
	}
	if cmds := r.commands(); len(cmds) != 0 {
		t.Errorf("commands ran: %q", cmds)
	}
}

// Prepare installs packages only when they are missing and allowed.
func TestPreparePackages(t *testing.T) {
	run := func(install bool, present string) ([]string, error) {
		r := &recorder{}
		r.on("/run/systemd/system", "none\n").on("echo present", present).on("os-release", "debian \n")
		spec := testSpec(MariaDB, "10.11", SSTRsync)
		spec.InstallPackages = install
		for i := range spec.Nodes {
			spec.Nodes[i].Runner = r
		}
		c, err := New(spec)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Prepare(context.Background())
		return r.commands(), err
	}
	cmds, err := run(true, "present\n")
	if err != nil || strings.Contains(strings.Join(cmds, "\n"), "apt-get") {
		t.Errorf("present packages: err=%v, apt-get ran=%v", err, strings.Contains(strings.Join(cmds, "\n"), "apt-get"))
	}
	cmds, err = run(true, "missing\n")
	if err != nil || !strings.Contains(strings.Join(cmds, "\n"), "apt-get install -y -q --no-install-recommends mariadb-server galera-4 mariadb-backup rsync xfsprogs restic stunnel4\n") {
		t.Errorf("missing packages: err=%v\n%s", err, strings.Join(cmds, "\n"))
	}
	if _, err = run(false, "missing\n"); err == nil || !strings.Contains(err.Error(), "package installation is off") {
		t.Errorf("missing packages, install off: %v", err)
	}
}

// The data volume script formats only a device without a filesystem and
// prefers the by-id link over the fallback device. It runs after the
// option file is written and waits for the disk: the volume may still be
// attaching while a create prepares the node.
func TestVolumeScript(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	recorders := make([]*recorder, len(spec.Nodes))
	for i := range spec.Nodes {
		recorders[i] = (&recorder{}).on("/run/systemd/system", "none\n").on("echo present", "present\n")
		spec.Nodes[i].Runner = recorders[i]
		spec.Nodes[i].DataVolume = DataVolume{IDPrefix: "0a9d0c7e-7b2f-4f63-8", Device: "/dev/vdb"}
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	var script string
	volumeAt, configAt := -1, -1
	for i, cmd := range recorders[0].commands() {
		if strings.Contains(cmd, "mkfs.xfs -q -L galera-data") {
			script, volumeAt = cmd, i
		}
		if strings.HasPrefix(cmd, "UPLOAD "+c.layout.ConfigFile) {
			configAt = i
		}
	}
	if configAt < 0 || volumeAt < configAt {
		t.Errorf("option file written at step %d, data volume prepared at step %d: want the file first", configAt, volumeAt)
	}
	for _, want := range []string{
		`prefix='0a9d0c7e-7b2f-4f63-8'`,
		`/dev/disk/by-id/virtio-"$prefix"*`,
		`sleep 0.1`,
		`data volume not found within 2m0s`,
		`if [ -z "$(blkid -o value -s TYPE "$dev" || true)" ]; then`,
		`findmnt -rn -S "$dev" -M /var/lib/mysql`,
		`mount -t "$fstype" -o noatime "$dev" /var/lib/mysql`,
		`ext4) pass=2 ;;`,
		`/etc/fstab`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("volume script lacks %q:\n%s", want, script)
		}
	}
}

// The wait for the data disk runs in a real shell: it finds a disk that
// shows up while it waits, and gives up with the bound named when none
// does. The disk is a block device node the test makes after a moment.
func TestWaitDataDeviceFindsALateDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a block device node needs root")
	}
	dev := filepath.Join(t.TempDir(), "vdb")
	v := DataVolume{IDPrefix: "no-such-volume-serial", Device: dev}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = exec.Command("mknod", dev, "b", "7", "0").Run()
	}()
	out, err := exec.Command("sh", "-c", "set -e\n"+waitDataDevice(v, 5*time.Second)+"\necho \"found $dev\"").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "found "+dev {
		t.Errorf("late disk: %v: %s", err, out)
	}
	gone := DataVolume{IDPrefix: "no-such-volume-serial", Device: dev + "-never"}
	start := time.Now()
	out, err = exec.Command("sh", "-c", "set -e\n"+waitDataDevice(gone, 500*time.Millisecond)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "data volume not found within 500ms") {
		t.Errorf("no disk: %v: %s", err, out)
	}
	if took := time.Since(start); took < 400*time.Millisecond || took > 5*time.Second {
		t.Errorf("no disk: gave up after %s, want about 500ms", took)
	}
}

// On systemd guests the responder is a socket-activated unit.
func TestClustercheckSystemdUnits(t *testing.T) {
	spec := testSpec(Percona, "8.0", "")
	spec.Clustercheck = &Clustercheck{Password: "cc-secret", Port: 9201}
	c, log := fakeCluster(t, spec, "systemd")
	ctx := context.Background()
	install := []string{
		"db2: UPLOAD /etc/mysql/clustercheck.cnf mode 0640",
		"db2: chown root:mysql /etc/mysql/clustercheck.cnf",
		"db2: UPLOAD /etc/mysql/clustercheck.sh mode 0755",
		"db2: UPLOAD /etc/systemd/system/pxc-clustercheck.socket mode 0644",
		"db2: UPLOAD /etc/systemd/system/pxc-clustercheck@.service mode 0644",
		"db2: systemctl daemon-reload && SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet --no-reload pxc-clustercheck.socket && systemctl restart pxc-clustercheck.socket",
	}
	// Prepare installs the responder (beside the datadir's
	// initialisation), so the node's first start has nothing to install.
	if err := c.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	var prepared []string
	for _, l := range log.lines {
		if strings.HasPrefix(l, "db2: ") && strings.Contains(l, "clustercheck") {
			prepared = append(prepared, l)
		}
	}
	if got := strings.Join(prepared, "\n"); got != strings.Join(install, "\n") {
		t.Errorf("responder commands of Prepare:\n%s\nwant:\n%s", got, strings.Join(install, "\n"))
	}
	log.lines = nil
	if err := c.start(ctx, c.nodes()[1], false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log.lines, "\n"); got != "db2: systemctl start mysql" {
		t.Errorf("the first start after Prepare sent:\n%s\nwant only the start", got)
	}
	// Any later start installs the responder again.
	log.lines = nil
	if err := c.start(ctx, c.nodes()[1], false); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"db2: systemctl start mysql"}, install...)
	if got := strings.Join(log.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	socket, service := clustercheckUnits(9201)
	if !strings.Contains(socket, "ListenStream=9201\nAccept=yes") {
		t.Errorf("socket unit: %s", socket)
	}
	// Defect 12: not root, and a bounded number of requests at a time.
	if !strings.Contains(socket, "\nMaxConnections=16\n") || !strings.Contains(service, "\nUser=mysql\n") {
		t.Errorf("the responder must run unprivileged with a connection limit:\n%s\n%s", socket, service)
	}
	for _, l := range log.lines {
		if strings.Contains(l, "cc-secret") {
			t.Errorf("password on a command line: %s", l)
		}
	}
}

// Without systemd the responder is socat, started unprivileged with a
// bound on concurrent requests (defect 12: it ran a root bash per
// connection, unbounded).
func TestClustercheckSocatUnprivileged(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", "")
	spec.Clustercheck = &Clustercheck{Password: "cc-secret", Port: 9201}
	c, log := fakeCluster(t, spec, "none")
	ctx := context.Background()
	if err := c.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	// The first start after Prepare finds the responder Prepare started;
	// the second installs and starts it itself.
	for range 2 {
		log.lines = nil
		if err := c.start(ctx, c.nodes()[1], false); err != nil {
			t.Fatal(err)
		}
	}
	var script string
	for _, l := range log.lines {
		if strings.Contains(l, "socat") {
			script = l
		}
	}
	for _, want := range []string{
		"setsid setpriv --reuid=mysql --regid=mysql --init-groups --inh-caps=-all socat TCP-LISTEN:9201,reuseaddr,fork,max-children=16 EXEC:/etc/mysql/clustercheck.sh",
		`[ "$(stat -c %U /proc/$pid)" = mysql ]`, // a root responder is replaced
	} {
		if !strings.Contains(script, want) {
			t.Errorf("responder start lacks %q:\n%s", want, script)
		}
	}
}

// The recovery run logs into a fresh private directory, not a fixed /tmp
// path a local user could plant a symlink at.
func TestRecoverPositionLogPath(t *testing.T) {
	c, log := fakeCluster(t, testSpec(MariaDB, "10.11", SSTRsync), "none")
	_, _, _ = c.recoverPosition(context.Background(), c.nodes()[0])
	if len(log.lines) != 1 {
		t.Fatalf("commands: %v", log.lines)
	}
	cmd := log.lines[0]
	if strings.Contains(cmd, "/tmp/") || !strings.Contains(cmd, `d=$(mktemp -d)`) || !strings.Contains(cmd, `--log-error="$d/recover.log"`) {
		t.Errorf("recovery log path: %s", cmd)
	}
}

// On systemd with a data volume, the server's unit waits for the datadir's
// mount (a boot never starts it on the empty directory below) and is
// enabled after the drop-in is in place and the manager reloaded.
func TestServerUnitWaitsForDataVolume(t *testing.T) {
	log := preparedWithDataVolumes(t)
	upload := log.first("db1", "UPLOAD /etc/systemd/system/mariadb.service.d/pxc-datadir.conf mode 0644")
	reload := slices.Index(log.lines, "db1: systemctl daemon-reload")
	enable := slices.Index(log.lines, "db1: SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet --no-reload mariadb")
	if upload < 0 || reload < upload || enable < reload {
		t.Fatalf("want the drop-in uploaded, the manager reloaded, then the unit enabled:\n%s", strings.Join(log.lines, "\n"))
	}
	if !strings.Contains(strings.Join(log.stdin, "\n"), "[Unit]\nRequiresMountsFor=/var/lib/mysql\n") {
		t.Errorf("the drop-in does not make the unit wait for the datadir's mount:\n%s", strings.Join(log.stdin, "\n"))
	}
}

// pidNamespaceRunner runs each command in a PID namespace of its own, after
// setup, so that the processes it looks for are only setup's.
type pidNamespaceRunner struct {
	recorder
	setup string
}

func (r *pidNamespaceRunner) Run(ctx context.Context, cmd string, _ []byte) ([]byte, error) {
	return exec.CommandContext(ctx, "unshare", "-fp", "--mount-proc", "sh", "-c", r.setup+"\n"+cmd).Output()
}

// The process check, run in a real shell: a server named mariadbd runs,
// a datadir initialisation (mariadbd --bootstrap, as mariadb-install-db
// starts it) does not count, so Create can bootstrap the first node while
// another initialises its datadir, and neither does a server that exited
// and was not reaped yet (a zombie, which pgrep shows without arguments).
func TestProcessesIgnoreDatadirInitialisation(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a PID namespace needs root")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "mariadbd")
	if out, err := exec.Command("cp", "/bin/bash", fake).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// "sleep 5; :" keeps bash from exec'ing sleep, so the process stays
	// mariadbd; the arguments after the script are what pgrep -a shows.
	for _, tc := range []struct {
		args    string
		running bool
	}{
		{"", false},
		{"--user=mysql --wsrep-new-cluster", true},
		{"--bootstrap --datadir=/var/lib/mysql", false},
		{"--initialize-insecure --user=mysql", false},
		{"zombie", false},
	} {
		setup := ""
		switch tc.args {
		case "":
		case "zombie": // perl's child exits at once, and perl does not reap it
			setup = fmt.Sprintf(`perl -e 'exec {$ARGV[0]} "mariadbd", "-c", "exit 0" if fork() == 0; sleep 5' %s & sleep 0.3`, fake)
		default:
			setup = fmt.Sprintf("%s -c 'sleep 5; :' %s & sleep 0.2", fake, tc.args)
		}
		spec := testSpec(MariaDB, "10.11", SSTRsync)
		for i := range spec.Nodes {
			spec.Nodes[i].Runner = &pidNamespaceRunner{setup: setup}
		}
		c, err := New(spec)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := c.processes(context.Background(), c.nodes()[0])
		if err != nil || ps.Running != tc.running {
			t.Errorf("mariadbd %q: running %v (%v), want %v", tc.args, ps.Running, err, tc.running)
		}
	}
}
