package provider

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// The fault matrix (issue 10): one fault per phase of a create, injected
// through the local cloud's admin API. For each, `terraform apply` fails
// with one error diagnostic naming the phase (and the node where one is
// involved), and `terraform destroy` leaves nothing of the cluster in the
// cloud, asked through the OpenStack API. Faults that are transient by
// nature also run a second variant: the next `terraform apply`, without a
// destroy, converges to a healthy cluster with a clean plan.
//
// The test drives the Terraform CLI itself (with -json) rather than
// plugin-testing, because it must count diagnostics and read their text.
// Cases run side by side on the shared cloud, each aiming its faults at
// its own cluster name (body_regex) or server id.

// faultCase is one row of the matrix.
type faultCase struct {
	fault    string
	phase    string // the phase the diagnostic must name (regexp)
	node     int    // node index the diagnostic must name; 0 none, -1 any
	detail   string // what the diagnostic's detail must also say (regexp), if set
	config   string // extra cluster arguments
	inject   func(t *testing.T, fr *faultRun)
	converge bool // also: the next apply, without destroy, converges
}

// faultRow is what the table prints.
type faultRow struct {
	fault, diag, left, converged string
}

func TestAccFaultMatrix(t *testing.T) {
	lc := requireLocalCloud(t)
	tfPath := terraformCLI(t)
	start := time.Now()
	var (
		mu   sync.Mutex
		rows []faultRow
	)
	record := func(r faultRow) {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, r)
	}
	defer func() {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].fault < rows[j].fault })
		var b strings.Builder
		fmt.Fprintf(&b, "fault matrix (%d faults, %s):\n", len(rows), time.Since(start).Round(time.Second))
		fmt.Fprintf(&b, "%-28s | %-44s | %-14s | %s\n", "fault", "diagnostic phase / node", "objects left", "next apply")
		fmt.Fprintf(&b, "%s\n", strings.Repeat("-", 110))
		for _, r := range rows {
			fmt.Fprintf(&b, "%-28s | %-44s | %-14s | %s\n", r.fault, r.diag, r.left, r.converged)
		}
		t.Log(b.String())
	}()

	// Faults that act on the whole cloud run one at a time, first.
	global := []faultCase{
		{fault: "server ERROR", phase: "servers", node: -1, inject: func(t *testing.T, fr *faultRun) {
			fr.lc.admin(t, http.MethodPost, "/next-server-error", map[string]any{"count": 1, "message": "No valid host was found. Injected by the fault matrix."})
		}},
		{fault: "slow BUILD past timeout", phase: "servers|volumes", node: -1, config: `timeouts = { create = "15s" }`,
			inject: func(t *testing.T, fr *faultRun) {
				fr.lc.admin(t, http.MethodPost, "/delay", map[string]any{"step_ms": 25000})
				fr.cleanup(func() { fr.lc.admin(t, http.MethodPost, "/delay", map[string]any{"step_ms": 0}) })
			}},
	}
	name := func(n int) string { return fmt.Sprintf("-%d", n) }
	shared := []faultCase{
		{fault: "keypair create 500", phase: "cloud objects", inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/compute/v2.1/os-keypairs$`, fr.name, 500, 1)
		}},
		{fault: "security group create 500", phase: "cloud objects", inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/network/v2.0/security-groups$`, fr.name, 500, 1)
		}},
		{fault: "server group create 500", phase: "cloud objects", inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/compute/v2.1/os-server-groups$`, fr.name, 500, 1)
		}},
		// Octavia refuses the cluster's own load balancer while the servers
		// build: the create fails at once, naming it, and nothing is left.
		{fault: "cluster's load balancer 500", phase: "load balancer", config: `load_balancer = { mode = "single_writer" }`,
			inject: func(t *testing.T, fr *faultRun) {
				fr.httpFault(t, "POST", `^/load-balancer/v2(\.0)?/lbaas/loadbalancers$`, fr.name, 500, 1)
			}},
		{fault: "port create 500", phase: "servers", node: 2, converge: true, inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/network/v2.0/ports$`, `"`+fr.name+name(2)+`"`, 500, 1)
		}},
		{fault: "volume create 500", phase: "volumes", node: 2, inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/volume/v3/[^/]+/volumes$`, `"`+fr.name+name(2)+`-data"`, 500, 1)
		}},
		{fault: "volume attach 500", phase: "volumes", node: 3, inject: func(t *testing.T, fr *faultRun) {
			fr.onServer(t, 3, false, func(id string) {
				fr.httpFault(t, "POST", `^/compute/v2.1/servers/`+id+`/os-volume_attachments$`, "", 500, 1)
			})
		}},
		{fault: "429 storm on port create", phase: "servers", node: 1, converge: true, inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/network/v2.0/ports$`, `"`+fr.name+name(1)+`"`, 429, 50)
		}},
		{fault: "409 storm on server create", phase: "servers", node: 3, inject: func(t *testing.T, fr *faultRun) {
			fr.httpFault(t, "POST", `^/compute/v2.1/servers$`, `"`+fr.name+name(3)+`"`, 409, 50)
		}},
		// The partition may come before the node printed its host keys on
		// the console (then the host key wait gives up) or after (the SSH
		// wait does). Those bounds end the wait for the partitioned node
		// however long the servers took to boot; timeouts.create is the
		// backstop should they not hold.
		{fault: "SSH never reachable", phase: "ssh|host keys", node: 2, detail: `after 1m0s \(ssh\.(connect|host_key)_timeout\)`,
			config: "ssh = {\n    connect_timeout  = \"60s\"\n    host_key_timeout = \"60s\"\n  }\n  timeouts = { create = \"240s\" }",
			inject: func(t *testing.T, fr *faultRun) {
				fr.onServer(t, 2, true, func(id string) { fr.lc.admin(t, http.MethodPost, "/servers/"+id+"/partition", nil) })
			}},
		{fault: "mysqld fails on one node", phase: "prepare|bootstrap|join|restart bootstrap node", node: 3, converge: true,
			inject: func(t *testing.T, fr *faultRun) {
				fr.onServer(t, 3, true, func(id string) { fr.lc.admin(t, http.MethodPost, "/servers/"+id+"/break-mysqld", nil) })
			}},
		// The port is taken on every node: the first one up and prepared
		// bootstraps and never receives a state transfer, and which one
		// that is the create decides. The first joiner's SST fails.
		{fault: "SST fails on the joiner", phase: "join", node: -1, inject: func(t *testing.T, fr *faultRun) {
			for i := 1; i <= 3; i++ {
				fr.onServer(t, i, true, func(id string) { fr.lc.admin(t, http.MethodPost, "/servers/"+id+"/take-sst-port", nil) })
			}
		}},
	}

	for _, fc := range global {
		t.Run(fc.fault, func(t *testing.T) { runFaultCase(t, lc, tfPath, fc, record) })
	}
	// Side by side, not t.Parallel: -parallel (GOMAXPROCS) would allow two.
	var wg sync.WaitGroup
	// Three at a time: more hosts booting at once than a loaded 2-core
	// machine starts within the cloud's spawn timeout.
	sem := make(chan struct{}, 3)
	run := func(name string, f func(t *testing.T)) {
		wg.Add(1)
		sem <- struct{}{} // here, so cases start in list order
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(name, f)
		}()
	}
	// Longest first, so that the last cases to start are short: the load
	// balancer faults (a healthy cluster, then three applies; 5 minutes on
	// systemd servers, started last they ended the matrix), then the
	// guest faults, the cloud-object faults last.
	run("load balancer faults", func(t *testing.T) { runLoadBalancerFaults(t, lc, tfPath, record) })
	for _, fc := range slices.Backward(shared) {
		run(fc.fault, func(t *testing.T) { runFaultCase(t, lc, tfPath, fc, record) })
	}
	wg.Wait()
}

// runFaultCase applies with the fault, checks the one diagnostic, then
// either destroys at once or first converges with a second apply.
func runFaultCase(t *testing.T, lc localCloud, tfPath string, fc faultCase, record func(faultRow)) {
	fr := newFaultRun(t, lc, tfPath, fc.config, "")
	fc.inject(t, fr)
	diags := fr.apply(t)
	fr.clearFaults(t)
	row := faultRow{fault: fc.fault, converged: "-"}
	row.diag = fr.checkOneDiagnostic(t, diags, fc.phase, fc.node)
	if fc.detail != "" && len(diags) > 0 && !regexp.MustCompile(fc.detail).MatchString(diags[0].Detail) {
		t.Errorf("the diagnostic does not say %s:\n%s", fc.detail, diagsText(diags))
	}
	if fc.converge {
		row.converged = fr.applyAgain(t)
	}
	fr.destroy(t)
	row.left = fr.objectsLeft(t)
	record(row)
}

// runLoadBalancerFaults builds one healthy cluster, then fails the pool's
// load balancer three ways: its create answers 500; its fully populated
// create (listener, pool, members and health monitor in one request) is
// accepted and then the health monitor ends in ERROR; likewise one member.
// Each apply fails with one diagnostic naming the phase (and the failed
// member's node); a targeted destroy then leaves no load balancer, and
// after the last fault the next apply converges instead.
func runLoadBalancerFaults(t *testing.T, lc localCloud, tfPath string, record func(faultRow)) {
	pool := `
resource "pxc_lb_pool" "test" {
  cluster_id = pxc_cluster.test.id
  mode       = "multi_writer"
  lb_method  = "ROUND_ROBIN"
}
`
	fr := newFaultRun(t, lc, tfPath, "", pool)
	lbName := regexp.QuoteMeta(fr.name)
	steps := []struct {
		fault, phase string
		node         int // node whose name the diagnostic must carry; 0 none
		inject       func()
	}{
		{"load balancer create 500", "load balancer", 0, func() {
			fr.httpFault(t, "POST", `^/load-balancer/v2(\.0)?/lbaas/loadbalancers$`, fr.name, 500, 1)
		}},
		{"health monitor create", "health monitor", 0, func() {
			fr.lc.admin(t, http.MethodPost, "/loadbalancers/fail-next-child", map[string]any{"name_regex": lbName, "child": "healthmonitor"})
		}},
		{"member create", "member", 2, func() {
			fr.lc.admin(t, http.MethodPost, "/loadbalancers/fail-next-child", map[string]any{
				"name_regex": lbName, "child": "member", "member_name_regex": "^" + regexp.QuoteMeta(fmt.Sprintf("%s-2", fr.name)) + "$"})
		}},
	}
	for i, s := range steps {
		s.inject()
		diags := fr.apply(t)
		fr.clearFaults(t)
		row := faultRow{fault: s.fault, converged: "-"}
		row.diag = fr.checkOneDiagnostic(t, diags, s.phase, 0)
		if s.node > 0 && len(diags) > 0 {
			node := fmt.Sprintf("%s-%d", fr.name, s.node)
			if !strings.Contains(diags[0].Detail, node) {
				t.Errorf("%s: the diagnostic does not name %s:\n%s", s.fault, node, diagsText(diags))
			}
			row.diag += fmt.Sprintf(" / -%d", s.node)
		}
		if i < len(steps)-1 {
			if _, err := fr.tf(t, "destroy", "-auto-approve", "-input=false", "-no-color", "-target=pxc_lb_pool.test"); err != nil {
				t.Errorf("%s: destroy of the pool: %v", s.fault, err)
			}
			row.left = fr.loadBalancersLeft(t)
			record(row)
			continue
		}
		// The last fault: the next apply replaces the tainted pool, then
		// a destroy of everything leaves nothing.
		row.converged = fr.applyAgain(t)
		fr.destroy(t)
		row.left = fr.objectsLeft(t)
		record(row)
	}
}

// faultRun is one Terraform working directory with its own cluster name
// and the provider served in-process.
type faultRun struct {
	lc     localCloud
	name   string
	dir    string
	tfPath string
	env    []string
	faults []string // ids of injected HTTP faults, removed by clearFaults
	mu     sync.Mutex
	stop   []func()
}

func newFaultRun(t *testing.T, lc localCloud, tfPath, extra, more string) *faultRun {
	t.Helper()
	fr := &faultRun{lc: lc, tfPath: tfPath, dir: t.TempDir(),
		name: "fm-" + acctest.RandStringFromCharSet(6, "abcdefghijklmnopqrstuvwxyz")}
	t.Cleanup(func() {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		for i := len(fr.stop) - 1; i >= 0; i-- {
			fr.stop[i]()
		}
	})
	cfg := strings.Replace(lc.accClusterConfig(fr.name, extra), fmt.Sprintf("[%q]", lc.gateway+"/32"), fmt.Sprintf("[%q]", lc.subnet), 1)
	cfg += more + `
output "status" {
  value = pxc_cluster.test.status
}
`
	if err := os.WriteFile(filepath.Join(fr.dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	fr.env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_REATTACH_PROVIDERS="+serveProvider(t))
	if out, err := fr.tf(t, "init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	t.Logf("cluster %s in %s", fr.name, fr.dir)
	return fr
}

func (fr *faultRun) cleanup(f func()) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.stop = append(fr.stop, f)
}

// command is the CLI with args in the run's directory and environment.
func (fr *faultRun) command(args ...string) (*exec.Cmd, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	cmd := exec.CommandContext(ctx, fr.tfPath, args...)
	cmd.Dir = fr.dir
	cmd.Env = fr.env
	return cmd, cancel
}

func (fr *faultRun) tf(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd, cancel := fr.command(args...)
	defer cancel()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// tfStdout runs the CLI and returns what it wrote to stdout.
func (fr *faultRun) tfStdout(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd, cancel := fr.command(args...)
	defer cancel()
	out, err := cmd.Output()
	return string(out), err
}

// tfDiag is one diagnostic of `terraform apply -json`.
type tfDiag struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
}

// apply runs `terraform apply -json` and returns its error diagnostics.
func (fr *faultRun) apply(t *testing.T) []tfDiag {
	t.Helper()
	out, err := fr.tf(t, "apply", "-auto-approve", "-input=false", "-json")
	var diags []tfDiag
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct {
			Type       string `json:"type"`
			Diagnostic tfDiag `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Type == "diagnostic" && line.Diagnostic.Severity == "error" {
			diags = append(diags, line.Diagnostic)
		}
	}
	if err != nil && len(diags) == 0 {
		t.Fatalf("terraform apply failed without a diagnostic: %v\n%s", err, out)
	}
	if err == nil && len(diags) > 0 {
		t.Errorf("terraform apply succeeded with error diagnostics: %s", diagsText(diags))
	}
	return diags
}

func diagsText(diags []tfDiag) string {
	var parts []string
	for _, d := range diags {
		parts = append(parts, d.Summary+": "+d.Detail)
	}
	return strings.Join(parts, "\n---\n")
}

var (
	diagPhaseNode = regexp.MustCompile(`in phase ([A-Za-z ]+?)(?: on node (\S+?))?:`)
	diagPoolPhase = regexp.MustCompile(`Original Error: ([A-Za-z ]+?):`)
)

// checkOneDiagnostic asserts exactly one error diagnostic naming phase and
// node, and returns "phase / node" as it reads.
func (fr *faultRun) checkOneDiagnostic(t *testing.T, diags []tfDiag, phase string, node int) string {
	t.Helper()
	if len(diags) != 1 {
		t.Errorf("want one error diagnostic, got %d:\n%s", len(diags), diagsText(diags))
		if len(diags) == 0 {
			return "NONE"
		}
	}
	text := diags[0].Summary + "\n" + diags[0].Detail
	got, gotNode := "", ""
	if m := diagPhaseNode.FindStringSubmatch(text); m != nil {
		got, gotNode = m[1], m[2]
	} else if m := diagPoolPhase.FindStringSubmatch(text); m != nil {
		got = m[1]
	}
	got = strings.ToLower(got) // phases are written in title case or lower case
	if !regexp.MustCompile(`^(` + phase + `)$`).MatchString(got) {
		t.Errorf("diagnostic names phase %q, want %s:\n%s", got, phase, text)
	}
	switch {
	case node > 0 && gotNode != fmt.Sprintf("%s-%d", fr.name, node):
		t.Errorf("diagnostic names node %q, want %s-%d:\n%s", gotNode, fr.name, node, text)
	case node < 0 && !regexp.MustCompile(`^`+regexp.QuoteMeta(fr.name)+`-\d$`).MatchString(gotNode):
		t.Errorf("diagnostic names node %q, want a node of %s:\n%s", gotNode, fr.name, text)
	}
	if gotNode != "" {
		return got + " / " + strings.TrimPrefix(gotNode, fr.name)
	}
	return got
}

// httpFault injects status for the next count requests matching method,
// path and (when not empty) body.
func (fr *faultRun) httpFault(t *testing.T, method, path, body string, status, count int) {
	t.Helper()
	f := map[string]any{"method": method, "path_regex": path, "status": status, "count": count}
	if body != "" {
		f["body_regex"] = regexp.QuoteMeta(body)
	}
	var added struct {
		Fault struct {
			ID string `json:"id"`
		} `json:"fault"`
	}
	if err := json.Unmarshal(fr.lc.admin(t, http.MethodPost, "/faults", f), &added); err != nil {
		t.Fatal(err)
	}
	fr.mu.Lock()
	fr.faults = append(fr.faults, added.Fault.ID)
	fr.mu.Unlock()
}

// clearFaults removes what is left of this run's faults (a storm outlasts
// the apply it broke).
func (fr *faultRun) clearFaults(t *testing.T) {
	t.Helper()
	fr.mu.Lock()
	ids := fr.faults
	fr.faults = nil
	fr.mu.Unlock()
	for _, id := range ids {
		req, _ := http.NewRequest(http.MethodDelete, fr.lc.adminURL+"/faults/"+id, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

// onServer calls f with the id of node index's server once it exists (or,
// with running, once its host runs), from a watcher the run stops.
func (fr *faultRun) onServer(t *testing.T, index int, running bool, f func(id string)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	fr.cleanup(func() { cancel(); <-done })
	want := fmt.Sprintf("%s-%d", fr.name, index)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var inv struct {
				Servers []struct{ ID, Name, Status string } `json:"servers"`
			}
			if b, err := adminGet(ctx, fr.lc.adminURL+"/inventory"); err == nil && json.Unmarshal(b, &inv) == nil {
				for _, s := range inv.Servers {
					if s.Name == want && (!running || s.Status == "ACTIVE") {
						f(s.ID)
						return
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

func adminGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	return []byte(b.String()), err
}

// applyAgain runs the apply after a fault, without a destroy, and says
// whether it converged, as the table prints it.
func (fr *faultRun) applyAgain(t *testing.T) string {
	t.Helper()
	if d := fr.apply(t); len(d) != 0 {
		t.Errorf("the apply after the fault did not converge: %s", diagsText(d))
		return "FAILED"
	}
	if !fr.converged(t) {
		return "FAILED"
	}
	return "healthy, plan clean"
}

// converged checks the cluster after a successful apply: status ACTIVE
// (the membership gate passed) and a plan with no changes.
func (fr *faultRun) converged(t *testing.T) bool {
	t.Helper()
	// stdout only: a CLI warning (e.g. a TF_CLI_CONFIG_FILE that does not
	// exist) goes to stderr and is not the value.
	out, err := fr.tfStdout(t, "output", "-raw", "status")
	if err != nil || out != "ACTIVE" {
		t.Errorf("status after the converging apply: %q (%v)", out, err)
		return false
	}
	out, err = fr.tf(t, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if err != nil {
		t.Errorf("the plan after the converging apply is not clean (%v):\n%s", err, out)
		return false
	}
	return true
}

func (fr *faultRun) destroy(t *testing.T) {
	t.Helper()
	if out, err := fr.tf(t, "destroy", "-auto-approve", "-input=false", "-no-color"); err != nil {
		t.Errorf("terraform destroy: %v\n%s", err, out)
	}
}

// objectsLeft asks the cloud, through the OpenStack API, for anything
// named after the cluster: "0" when nothing is left.
func (fr *faultRun) objectsLeft(t *testing.T) string {
	t.Helper()
	cl := accOpenStackClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ours := func(name string) bool { return strings.Contains(name, fr.name) }
	left := map[string]int{}
	count := func(kind string, names []string, err error) {
		if err != nil {
			t.Errorf("list %s: %v", kind, err)
		}
		for _, n := range names {
			if ours(n) {
				left[kind]++
			}
		}
	}
	servers, err := cl.ListServers(ctx, "", nil)
	count("servers", namesOf(servers, func(s openstack.Server) string { return s.Name }), err)
	volumes, err := cl.ListVolumes(ctx, "", nil)
	count("volumes", namesOf(volumes, func(v openstack.Volume) string { return v.Name }), err)
	ports, err := cl.ListPorts(ctx, openstack.PortFilter{})
	count("ports", namesOf(ports, func(p openstack.Port) string { return p.Name }), err)
	sgs, err := cl.ListSecurityGroups(ctx, openstack.SecurityGroupFilter{})
	count("security groups", namesOf(sgs, func(g openstack.SecurityGroup) string { return g.Name }), err)
	groups, err := cl.ListServerGroups(ctx)
	count("server groups", namesOf(groups, func(g openstack.ServerGroup) string { return g.Name }), err)
	keys, err := cl.ListKeyPairs(ctx)
	count("keypairs", namesOf(keys, func(k openstack.KeyPair) string { return k.Name }), err)
	lbs, err := cl.ListLoadBalancers(ctx, "")
	count("load balancers", namesOf(lbs, func(l openstack.LoadBalancer) string { return l.Name }), err)
	if len(left) == 0 {
		return "0"
	}
	var parts []string
	for k, n := range left {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	t.Errorf("left in the cloud after destroy: %s", strings.Join(parts, ", "))
	return strings.Join(parts, ", ")
}

func (fr *faultRun) loadBalancersLeft(t *testing.T) string {
	t.Helper()
	cl := accOpenStackClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lbs, err := cl.ListLoadBalancers(ctx, "")
	if err != nil {
		t.Errorf("list load balancers: %v", err)
	}
	n := 0
	for _, l := range lbs {
		if strings.Contains(l.Name, fr.name) {
			n++
		}
	}
	if n > 0 {
		t.Errorf("%d load balancers of %s left after destroying the pool", n, fr.name)
		return fmt.Sprintf("%d load balancers", n)
	}
	return "0"
}

func namesOf[T any](items []T, name func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

// terraformCLI is the CLI make test names (TF_ACC_TERRAFORM_PATH), else
// terraform or tofu on PATH.
func terraformCLI(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	for _, n := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH")
	return ""
}

// serveProvider serves the provider in-process for the test's lifetime and
// returns the TF_REATTACH_PROVIDERS value that points Terraform at it.
func serveProvider(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	factory := func() tfprotov6.ProviderServer { return providerserver.NewProtocol6(New("test")())() }
	go func() {
		if err := tf6server.Serve("registry.terraform.io/hashicorp/pxc", factory,
			tf6server.WithDebug(ctx, reattach, closed), tf6server.WithLoggingSink(t)); err != nil {
			t.Errorf("serve provider: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-closed })
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(time.Minute):
		t.Fatal("the provider server did not start")
	}
	cfg := map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}
	b, err := json.Marshal(map[string]any{
		"registry.terraform.io/hashicorp/pxc": cfg,
		"registry.opentofu.org/hashicorp/pxc": cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
