package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// TestBench is `make bench`: it needs the local cloud's env (tools/bench.sh
// starts one) and PXC_BENCH=1, and prints its numbers instead of asserting
// them, apart from the one that must hold: no acknowledged write is lost.
func TestBench(t *testing.T) {
	if os.Getenv("PXC_BENCH") == "" {
		t.Skip("make bench sets PXC_BENCH=1 and starts a local cloud")
	}
	tfCLI := os.Getenv("TF_CLI")
	if tfCLI == "" {
		tfCLI = "terraform"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	// The raw lower bound runs with nothing else of the bench alive, as
	// the apply does: once right before the apply and once after the
	// destroy, and the ratios take their mean, so that a load that comes
	// and goes on a shared machine weighs on both sides alike.
	kind := cloudHostKind(ctx, t)
	waitedBefore, quietBefore := waitQuiet(t)
	rawBefore := rawLowerBound(ctx, t, kind, true)

	work := t.TempDir()
	waitedApply, quietApply := waitQuiet(t)
	adminRequests(t, http.MethodDelete)
	apply := applyQuickstart(ctx, t, tfCLI, work, 3)
	applyCount := adminRequests(t, http.MethodGet)
	destroyed := false
	defer destroy(t, tfCLI, work, &destroyed)

	// A plan right after the apply has nothing to change: the cost of a
	// refresh of the cluster and its load balancer.
	adminRequests(t, http.MethodDelete)
	planOut := runExit(ctx, t, work, tfEnv(work), tfCLI, "plan", "-detailed-exitcode", "-input=false", "-no-color",
		fmt.Sprintf("-var=allowed_cidrs=[%q]", os.Getenv("LOCALCLOUD_SUBNET_CIDR")))
	planCount := adminRequests(t, http.MethodGet)

	report := &strings.Builder{}
	// Printed also when a later step fails, with what was measured so far.
	defer func() { fmt.Println(report.String()) }()
	fmt.Fprintf(report, "\n== terraform apply of examples/quickstart (a cluster with its load balancer): %s (%s)\n", apply.total.Round(100*time.Millisecond), quietNote(waitedApply, quietApply))
	fmt.Fprintf(report, "   %-8s %-22s %-8s %s\n", "at", "phase", "took", "event")
	for _, e := range apply.events {
		took := ""
		if e.took > 0 {
			took = e.took.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(report, "   %-8s %-22s %-8s %s\n", e.at.Round(100*time.Millisecond), e.phase, took, e.message)
	}

	// Before the failover, which leaves a node down.
	restart := measureRollingRestart(ctx, t, tfCLI, work)
	membership := measureMembership(ctx, t, tfCLI, work)
	failovers := []failoverResult{measureFailover(ctx, t, tfCLI, work)}

	adminRequests(t, http.MethodDelete)
	destroy(t, tfCLI, work, &destroyed)
	destroyCount := adminRequests(t, http.MethodGet)

	waitedAfter, quietAfter := waitQuiet(t)
	rawAfter := rawLowerBound(ctx, t, kind, true)
	raw := (rawBefore.total + rawAfter.total) / 2
	rawJoinTime := rawGuestJoin(ctx, t, kind)
	fmt.Fprintf(report, "\n== grow by one node: terraform apply node_count 3 -> 4 / the guest library's join of a 4th bare host: %s / %s = %.2f\n",
		membership.grow.Round(100*time.Millisecond), rawJoinTime.Round(100*time.Millisecond), membership.grow.Seconds()/rawJoinTime.Seconds())
	fmt.Fprintf(report, "\n== planned writer move: node_count 4 -> 3 while %s is the writer (a write every 100 ms through the VIP)\n", membership.writer)
	fmt.Fprintf(report, "   longest gap without an acknowledged write: %s (target <= 2s)\n", membership.gap.Round(10*time.Millisecond))
	fmt.Fprintf(report, "   acknowledged writes: %d, failed attempts: %d, acknowledged but missing afterwards: %d\n", membership.acked, membership.failed, len(membership.missing))
	if len(membership.missing) > 0 {
		t.Errorf("acknowledged writes lost in the planned writer move: %v", membership.missing)
	}
	restart.report(report)
	if len(restart.missing) > 0 {
		t.Errorf("acknowledged writes lost in the rolling restart: %v", restart.missing)
	}

	clusterApply := apply.clusterCreated
	fmt.Fprintf(report, "\n== raw lower bound: Galera by hand over SSH on 3 fresh hosts of the cloud's kind, %s, encrypted as the quickstart (TLS replication, rsync SST over stunnel): %s (mean)\n", kind, raw.Round(100*time.Millisecond))
	fmt.Fprintf(report, "   before the apply %s (%s; %s)\n", rawBefore.total.Round(100*time.Millisecond), rawBefore, quietNote(waitedBefore, quietBefore))
	fmt.Fprintf(report, "   after the destroy %s (%s; %s)\n", rawAfter.total.Round(100*time.Millisecond), rawAfter, quietNote(waitedAfter, quietAfter))
	fmt.Fprintf(report, "   (no accounts, responder, gate or restart)\n")
	fmt.Fprintf(report, "   pxc_cluster create / raw: %s / %s = %.2fx (goal <= 1.10x)\n", clusterApply.Round(100*time.Millisecond), raw.Round(100*time.Millisecond), clusterApply.Seconds()/raw.Seconds())
	fmt.Fprintf(report, "   whole apply / raw:        %s / %s = %.2fx (goal <= 1.25x)\n", apply.total.Round(100*time.Millisecond), raw.Round(100*time.Millisecond), apply.total.Seconds()/raw.Seconds())
	reportPhases(report, apply, rawBefore, rawAfter)
	var rawPlain time.Duration
	for range 2 {
		waitQuiet(t)
		rawPlain += rawLowerBound(ctx, t, kind, false).total / 2
	}
	fmt.Fprintf(report, "   without TLS, Galera's bound is %s (mean of two): create / that %.2fx, whole apply / that %.2fx\n",
		rawPlain.Round(100*time.Millisecond), clusterApply.Seconds()/rawPlain.Seconds(), apply.total.Seconds()/rawPlain.Seconds())
	fmt.Fprintf(report, "   (%d CPUs; ratios are printed, not asserted)\n", runtime.NumCPU())

	fmt.Fprintf(report, "\n== API requests per terraform command (the local cloud's request log; polls: GETs of a URL already read)\n")
	applyCount.report(report, "apply", "goal <= 73, no 409")
	planCount.report(report, "plan", "no changes; goal <= 6")
	if planOut != "" {
		fmt.Fprintf(report, "            the plan was not empty:\n%s\n", planOut[:min(len(planOut), 3000)])
	}
	destroyCount.report(report, "destroy", "goal <= 40")

	fmt.Fprintf(report, "\n== failover through the single_writer load balancer (kill -9 mysqld on the writer, a write every 100 ms; target <= 5s)\n")
	failovers[0].report(report)

	// The same failover on 5 nodes: more responders race for the writer.
	work5 := t.TempDir()
	applyQuickstart(ctx, t, tfCLI, work5, 5)
	destroyed5 := false
	defer destroy(t, tfCLI, work5, &destroyed5)
	failovers = append(failovers, measureFailover(ctx, t, tfCLI, work5))
	destroy(t, tfCLI, work5, &destroyed5)
	failovers[1].report(report)

	for _, f := range failovers {
		if len(f.missing) > 0 {
			t.Errorf("%d nodes: acknowledged writes lost in the failover: %v", f.nodes, f.missing)
		}
	}
}

type event struct {
	at      time.Duration // since the apply started
	phase   string
	node    string // "" when the line is about no one node
	took    time.Duration
	message string
}

// reportPhases sets each phase of the apply beside its part of the raw
// bound (the mean of the two runs), so that what a ratio is made of shows.
func reportPhases(b *strings.Builder, apply applyResult, before, after rawBound) {
	mean := func(x, y time.Duration) time.Duration { return ((x + y) / 2).Round(100 * time.Millisecond) }
	var joins [2]time.Duration
	for i, r := range []rawBound{before, after} {
		for _, j := range r.joins {
			joins[i] += j
		}
	}
	fmt.Fprintf(b, "   by phase, apply / raw:\n")
	fmt.Fprintf(b, "     servers / hosts: %s, the bootstrapped node's (the first up and prepared) %s / %s (the apply also makes the ports and volumes, polls Nova for ACTIVE, reads the host key fingerprints from the console and asks for the volumes' attach, whose disks the prepare then waits for; the raw bound reads the key from the host's disk and attaches the disk itself)\n",
		apply.phaseTook("servers").Round(100*time.Millisecond), apply.bootstrapServerUp().took.Round(100*time.Millisecond), mean(before.hosts, after.hosts))
	fmt.Fprintf(b, "     prepare (from the bootstrapped node's server up until it bootstraps; the other nodes' meanwhile): %s / %s, bootstrap: %s / %s, joins: %s / %s\n",
		apply.untilBootstrap().Round(100*time.Millisecond), mean(before.prepare, after.prepare),
		apply.phaseTook("bootstrap").Round(100*time.Millisecond), mean(before.bootstrap, after.bootstrap),
		apply.phaseTook("join").Round(100*time.Millisecond), mean(joins[0], joins[1]))
	fmt.Fprintf(b, "     the cluster's load balancer, asked for beside the servers, waited for after the gate (ACTIVE, every member's health check judged): %s\n",
		apply.phaseTook("load balancer").Round(100*time.Millisecond))
	fmt.Fprintf(b, "     after the cluster's create (terraform): %s\n", (apply.total - apply.clusterCreatedAt).Round(100*time.Millisecond))
}

// bootstrapServerUp is the line saying the server of the node that
// bootstrapped (the first up and prepared) is up (ACTIVE, host key verified): the
// create prepares the node from then on.
func (a applyResult) bootstrapServerUp() event {
	node := a.bootstrapStart().node
	for _, e := range a.events {
		if e.phase == "servers" && node != "" && e.node == node {
			return e
		}
	}
	return event{}
}

// bootstrapStart is the line saying the bootstrap begins.
func (a applyResult) bootstrapStart() event {
	for _, e := range a.events {
		if e.phase == "bootstrap" && strings.HasPrefix(e.message, "starting a new cluster") {
			return e
		}
	}
	return event{}
}

// untilBootstrap is the time from the bootstrapped node's server up to
// its bootstrap: the prepare on the create's critical path, which the raw
// bound's prepare (every host, then the bootstrap) is set beside.
func (a applyResult) untilBootstrap() time.Duration {
	servers, bootstrap := a.bootstrapServerUp().at, a.bootstrapStart().at
	if servers == 0 || bootstrap < servers {
		return 0
	}
	return bootstrap - servers
}

// phaseTook is how long a phase of the create took, from its summary line
// (the one that names no node; the last one, if a phase ran twice).
func (a applyResult) phaseTook(phase string) time.Duration {
	var took time.Duration
	for _, e := range a.events {
		if e.phase == phase && e.node == "" && e.took > 0 {
			took = e.took
		}
	}
	return took
}

type applyResult struct {
	total            time.Duration
	clusterCreated   time.Duration // the cluster's create, as it reports it
	clusterCreatedAt time.Duration // when it returned, since the apply started
	events           []event
}

// progressLine matches the provider's INFO progress lines in Terraform's log.
var progressLine = regexp.MustCompile(`^(\S+) \[INFO\]\s+provider\.terraform-provider-pxc: (.*?): (.*)$`)

// applyQuickstart applies examples/quickstart with nodes nodes in work.
func applyQuickstart(ctx context.Context, t *testing.T, tfCLI, work string, nodes int) applyResult {
	t.Helper()
	return applyQuickstartEdited(ctx, t, tfCLI, work, nodes, func(s string) string { return s })
}

// applyQuickstartEdited is applyQuickstart of the example changed by edit.
func applyQuickstartEdited(ctx context.Context, t *testing.T, tfCLI, work string, nodes int, edit func(string) string) applyResult {
	t.Helper()
	root := repoRoot(t)
	bin := filepath.Join(work, "bin")
	run(ctx, t, root, nil, "go", "build", "-o", filepath.Join(bin, "terraform-provider-pxc"), ".")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"pxc-provider/pxc\" = %q\n  }\n  direct {}\n}\n", bin)
	must(t, os.WriteFile(filepath.Join(work, "terraformrc"), []byte(rc), 0o600))
	qs, err := os.ReadFile(filepath.Join(root, "examples/quickstart/main.tf"))
	must(t, err)
	if !strings.Contains(string(qs), "node_count = 3") {
		t.Fatal("examples/quickstart/main.tf no longer says node_count = 3")
	}
	if strings.Contains(string(qs), "tls") {
		t.Fatal("examples/quickstart/main.tf sets tls: the raw lower bound encrypts as tls's default does")
	}
	if !strings.Contains(string(qs), fmt.Sprintf("image   = %q", quickstartImage)) {
		t.Fatalf("examples/quickstart/main.tf no longer boots %s, which the raw lower bound boots", quickstartImage)
	}
	// The local cloud has three hypervisors: soft anti-affinity still puts
	// three nodes apart, and lets the bench grow the cluster to a fourth
	// (changing the policy later would replace the cluster).
	count := fmt.Sprintf("node_count = %d\n  anti_affinity = \"soft-anti-affinity\"", nodes)
	qs = []byte(edit(strings.Replace(string(qs), "node_count = 3", count, 1)))
	must(t, os.WriteFile(filepath.Join(work, "main.tf"), qs, 0o600))

	logPath := filepath.Join(work, "apply.log")
	env := tfEnv(work, "TF_LOG_PROVIDER=INFO", "TF_LOG_PATH="+logPath)
	start := time.Now()
	run(ctx, t, work, env, tfCLI, "apply", "-auto-approve", "-input=false", "-no-color",
		fmt.Sprintf("-var=allowed_cidrs=[%q]", os.Getenv("LOCALCLOUD_SUBNET_CIDR")))
	res := applyResult{total: time.Since(start), events: readProgress(t, logPath, start)}
	for _, e := range res.events {
		if e.phase == "membership gate" && strings.HasPrefix(e.message, "cluster created") {
			res.clusterCreated, res.clusterCreatedAt = e.took, e.at
		}
	}
	return res
}

// readProgress reads the provider's progress lines from a Terraform log,
// timed from start.
func readProgress(t *testing.T, logPath string, start time.Time) []event {
	t.Helper()
	f, err := os.Open(logPath)
	must(t, err)
	defer f.Close()
	var events []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := progressLine.FindStringSubmatch(sc.Text())
		if m == nil || !strings.Contains(m[3], "phase=") {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			continue
		}
		e := event{at: ts.Sub(start), message: m[2], phase: field(m[3], "phase"), node: field(m[3], "node")}
		if s := field(m[3], "seconds"); s != "" {
			if d, err := time.ParseDuration(s + "s"); err == nil {
				e.took = d
			}
		}
		events = append(events, e)
	}
	return events
}

// field reads key=value or key="quoted value" from an hclog line.
func field(s, key string) string {
	re := regexp.MustCompile(`(?:^|\s)` + regexp.QuoteMeta(key) + `=("([^"]*)"|\S+)`)
	m := re.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	if m[2] != "" {
		return m[2]
	}
	return m[1]
}

type failoverResult struct {
	nodes         int
	views         string // when each survivor saw the view without the writer
	writer, next  string
	resumed, gap  time.Duration
	acked, failed int
	missing       []int
	errors        string // the failed attempts after the kill, runs of one error
	haproxy       string // the load balancer's server states after the kill
	before        string // what failed before the kill
}

type tfNode struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IP   string `json:"ip"`
}

func (f failoverResult) report(b *strings.Builder) {
	fmt.Fprintf(b, "   %d nodes: longest gap without an acknowledged write %s; writer %s killed, first write acknowledged by %s after %s\n",
		f.nodes, f.gap.Round(10*time.Millisecond), f.writer, f.next, f.resumed.Round(10*time.Millisecond))
	fmt.Fprintf(b, "            survivors saw the new view (cluster size %d) after: %s; acknowledged %d, failed attempts %d, acknowledged but missing afterwards %d\n",
		f.nodes-1, f.views, f.acked, f.failed, len(f.missing))
	if f.errors != "" {
		fmt.Fprintf(b, "            failed attempts after the kill: %s\n", f.errors)
	}
	fmt.Fprintf(b, "            %s\n", f.before)
	if f.haproxy != "" {
		fmt.Fprintf(b, "            load balancer: %s\n", f.haproxy)
	}
}

func countBefore(times []time.Time, t time.Time) int {
	n := 0
	for _, at := range times {
		if at.Before(t) {
			n++
		}
	}
	return n
}

// errorRuns lists the write loop's failures after killed as runs of one
// error: "+0.10s..+1.90s (12) invalid connection; ...".
func errorRuns(l *galeratest.Log, killed time.Time) string {
	var runs []string
	var from, to time.Duration
	var msg string
	n := 0
	flush := func() {
		if n > 0 {
			runs = append(runs, fmt.Sprintf("+%.2fs..+%.2fs (%d) %s", from.Seconds(), to.Seconds(), n, msg))
		}
	}
	for i, at := range l.Failed {
		if at.Before(killed) || i >= len(l.Errors) {
			continue
		}
		d, m := at.Sub(killed), l.Errors[i].Error()
		if n > 0 && m == msg && d-to < 300*time.Millisecond {
			to, n = d, n+1
			continue
		}
		flush()
		from, to, msg, n = d, d, m, 1
	}
	flush()
	return strings.Join(runs, "; ")
}

func measureFailover(ctx context.Context, t *testing.T, tfCLI, work string) failoverResult {
	t.Helper()
	cl := quickstartState(ctx, t, tfCLI, work)
	db, err := galeratest.Open(net.JoinHostPort(cl.LoadBalancer.VIP, "3306"), "root", cl.RootPassword)
	must(t, err)
	defer db.Close()
	// A fresh load balancer may still be settling its writer: retried, and
	// the retries are reported.
	var prepareErrs []string
	for {
		err := galeratest.Prepare(ctx, db, "bench.failover")
		if err == nil {
			break
		}
		prepareErrs = append(prepareErrs, err.Error())
		if len(prepareErrs) == 20 {
			t.Fatalf("prepare through %s: %v", cl.LoadBalancer.VIP, prepareErrs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	writer, err := galeratest.NodeOf(ctx, db)
	must(t, err)

	loopCtx, stop := context.WithCancel(ctx)
	logCh := make(chan *galeratest.Log, 1)
	go func() { logCh <- galeratest.RunWrites(loopCtx, db, "bench.failover", 100*time.Millisecond) }()
	time.Sleep(3 * time.Second)

	var victim tfNode
	for _, n := range cl.Nodes {
		if n.Name == writer {
			victim = n
		}
	}
	if os.Getenv("PXC_BENCH_PROBE") != "" {
		for _, n := range cl.Nodes[:2] {
			t.Logf("%s probe:\n%s", n.Name, runOnNode(ctx, t, n, cl.PrivateKey, os.Getenv("PXC_BENCH_PROBE")))
		}
	}
	views := watchViews(loopCtx, t, cl.Nodes, victim, cl.RootPassword)
	lb := watchHAProxy(loopCtx, cl.LoadBalancer.VIP, cl.Nodes)
	killMySQL(ctx, t, victim, cl.PrivateKey)
	killed := time.Now()
	time.Sleep(20 * time.Second)
	stop()
	log := <-logCh

	res := failoverResult{nodes: len(cl.Nodes), writer: writer, acked: len(log.Acked), failed: len(log.Failed), views: views(killed)}
	next, ok := log.FirstAfter(killed)
	if !ok {
		t.Fatalf("no write was acknowledged after the writer died (last error %v)", log.LastErr)
	}
	res.next, res.resumed = next.Node, next.At.Sub(killed)
	res.gap, _ = log.LongestGap(killed.Add(-time.Second))
	res.errors = errorRuns(log, killed)
	res.haproxy = lb(killed)
	res.before = fmt.Sprintf("prepare retried %d times %v; failed attempts in the %s before the kill: %d",
		len(prepareErrs), prepareErrs, killed.Sub(log.Started).Round(time.Second), countBefore(log.Failed, killed))
	if n := countBefore(log.Failed, killed); n > 0 {
		res.before += ": " + errorRuns(log, log.Started)
	}
	for _, n := range cl.Nodes {
		if n.Name == next.Node {
			sdb, err := galeratest.Open(net.JoinHostPort(n.IP, "3306"), "root", cl.RootPassword)
			must(t, err)
			defer sdb.Close()
			res.missing, err = galeratest.MissingAcked(ctx, sdb, "bench.failover", log.Acked)
			must(t, err)
		}
	}
	return res
}

// killMySQL kill -9s the database server of a node, trusting the host key
// fingerprints its Nova console shows.
func killMySQL(ctx context.Context, t *testing.T, n tfNode, privateKey string) {
	t.Helper()
	console := consoleOutput(ctx, t, n.ID)
	fps := regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`).FindAllString(console, -1)
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: n.IP, PrivateKey: []byte(privateKey), HostKeyFingerprints: fps}, nil)
	must(t, err)
	defer cl.Close()
	_, err = cl.Run(ctx, "pkill -9 -x mariadbd; pkill -9 -x mysqld; true", nil)
	must(t, err)
}

// runOnNode runs a shell command on a node as killMySQL reaches it and
// returns its output (for the report; errors are part of it).
func runOnNode(ctx context.Context, t *testing.T, n tfNode, privateKey, cmd string) string {
	t.Helper()
	console := consoleOutput(ctx, t, n.ID)
	fps := regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`).FindAllString(console, -1)
	cl, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: n.IP, PrivateKey: []byte(privateKey), HostKeyFingerprints: fps}, nil)
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	out, err := cl.Run(ctx, cmd, nil)
	if err != nil {
		return string(out) + err.Error()
	}
	return string(out)
}

// watchViews polls every survivor's wsrep_cluster_size every 100 ms from
// now on, straight at the node, and returns a function that says, relative
// to the kill, when each saw the cluster without the victim.
func watchViews(ctx context.Context, t *testing.T, nodes []tfNode, victim tfNode, rootPassword string) func(killed time.Time) string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]time.Time{}
	var names []string
	for _, n := range nodes {
		if n.Name == victim.Name {
			continue
		}
		names = append(names, n.Name)
		db, err := galeratest.Open(net.JoinHostPort(n.IP, "3306"), "root", rootPassword)
		must(t, err)
		db.SetMaxIdleConns(1)
		go func() {
			defer db.Close()
			for ctx.Err() == nil {
				var name string
				var size int
				qctx, cancel := context.WithTimeout(ctx, time.Second)
				err := db.QueryRowContext(qctx, "SHOW STATUS LIKE 'wsrep_cluster_size'").Scan(&name, &size)
				cancel()
				if err == nil && size == len(nodes)-1 {
					mu.Lock()
					seen[n.Name] = time.Now()
					mu.Unlock()
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	return func(killed time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		var parts []string
		for _, name := range names {
			if at, ok := seen[name]; ok {
				parts = append(parts, fmt.Sprintf("%s %s", name, at.Sub(killed).Round(10*time.Millisecond)))
			} else {
				parts = append(parts, name+" never")
			}
		}
		return strings.Join(parts, ", ")
	}
}

// rawGuestJoin builds a cluster with the guest library alone on three bare
// hosts with loop-device disks, then times the join of a fourth: what no
// orchestration of a grow can beat on this machine.
func rawGuestJoin(ctx context.Context, t *testing.T, kind rawHostKind) time.Duration {
	t.Helper()
	network, err := host.NewNetwork(ctx, host.NetworkOptions{Prefix: "pxcb", StateDir: t.TempDir()})
	must(t, err)
	defer network.Close()
	signer, pub := newKey(t)
	var nodes []guest.Node
	for i := 1; i <= 3; i++ {
		n, closeDisk := rawNode(ctx, t, network, kind, i, signer, pub)
		defer closeDisk()
		nodes = append(nodes, n)
	}
	spec := guest.ClusterSpec{
		Name: "raw", Flavour: guest.MariaDB, Version: "10.11", SST: guest.SSTRsync, Nodes: nodes,
		Parameters:   map[string]string{"innodb_buffer_pool_size": "64M"},
		RootPassword: "bench-root-password", SuspectTimeout: 3 * time.Second,
		Clustercheck: &guest.Clustercheck{Password: "bench-clustercheck", Port: 9200},
	}
	gc, err := guest.New(spec)
	must(t, err)
	defer gc.Close()
	_, err = gc.Create(ctx)
	must(t, err)
	return rawJoin(ctx, t, network, kind, spec, signer, pub)
}
