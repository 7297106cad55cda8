package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// staticParameter is the change the rolling restart applies: back_log is
// read only at start (the acceptance test of online changes uses it too).
const staticParameter, staticValue = "back_log", "100"

type rollingRestartResult struct {
	nodes         int
	total         time.Duration // the terraform apply
	steps         []event       // one per node, in restart order
	gap           time.Duration // longest write gap through the VIP
	acked, failed int
	missing       []int
	planAfter     string // "" when the next plan has no changes
}

// measureRollingRestart applies a static parameter change through
// terraform, which restarts every node once (the writer last, moved away
// first), with a write every 100 ms through the VIP.
func measureRollingRestart(ctx context.Context, t *testing.T, tfCLI, work string) rollingRestartResult {
	t.Helper()
	cl := quickstartState(ctx, t, tfCLI, work)
	db, err := galeratest.Open(net.JoinHostPort(cl.LoadBalancer.VIP, "3306"), "root", cl.RootPassword)
	must(t, err)
	defer db.Close()
	must(t, galeratest.Prepare(ctx, db, "bench.rollingrestart"))

	loopCtx, stop := context.WithCancel(ctx)
	logCh := make(chan *galeratest.Log, 1)
	go func() { logCh <- galeratest.RunWrites(loopCtx, db, "bench.rollingrestart", 100*time.Millisecond) }()
	time.Sleep(3 * time.Second)
	addParameter(t, work, staticParameter, staticValue)
	logPath := filepath.Join(work, "rolling-restart.log")
	start := time.Now()
	run(ctx, t, work, tfEnv(work, "TF_LOG_PROVIDER=INFO", "TF_LOG_PATH="+logPath), tfCLI, "apply", "-auto-approve", "-input=false", "-no-color",
		fmt.Sprintf("-var=allowed_cidrs=[%q]", os.Getenv("LOCALCLOUD_SUBNET_CIDR")))
	res := rollingRestartResult{nodes: len(cl.Nodes), total: time.Since(start)}
	time.Sleep(2 * time.Second)
	stop()
	log := <-logCh
	res.gap, _ = log.LongestGap(start)
	res.acked, res.failed = len(log.Acked), len(log.Failed)
	for _, e := range readProgress(t, logPath, start) {
		if e.phase == cluster.PhaseRollingRestart {
			res.steps = append(res.steps, e)
		}
	}
	sdb, err := galeratest.Open(net.JoinHostPort(cl.Nodes[0].IP, "3306"), "root", cl.RootPassword)
	must(t, err)
	defer sdb.Close()
	res.missing, err = galeratest.MissingAcked(ctx, sdb, "bench.rollingrestart", log.Acked)
	must(t, err)
	res.planAfter = runExit(ctx, t, work, tfEnv(work), tfCLI, "plan", "-detailed-exitcode", "-input=false", "-no-color",
		fmt.Sprintf("-var=allowed_cidrs=[%q]", os.Getenv("LOCALCLOUD_SUBNET_CIDR")))
	return res
}

func (r rollingRestartResult) report(b *strings.Builder) {
	fmt.Fprintf(b, "\n== rolling restart of %d nodes: static parameter %s = %s through terraform apply (a write every 100 ms through the VIP): %s\n",
		r.nodes, staticParameter, staticValue, r.total.Round(100*time.Millisecond))
	fmt.Fprintf(b, "   %-8s %-10s %s\n", "at", "node", "restarted and Synced in")
	for _, e := range r.steps {
		fmt.Fprintf(b, "   %-8s %-10s %s\n", e.at.Round(100*time.Millisecond), e.node, e.took.Round(100*time.Millisecond))
	}
	if len(r.steps) != r.nodes {
		fmt.Fprintf(b, "   (%d restart progress lines for %d nodes)\n", len(r.steps), r.nodes)
	}
	fmt.Fprintf(b, "   longest gap without an acknowledged write: %s (target <= 2s)\n", r.gap.Round(10*time.Millisecond))
	fmt.Fprintf(b, "   acknowledged writes: %d, failed attempts: %d, acknowledged but missing afterwards: %d\n", r.acked, r.failed, len(r.missing))
	if r.planAfter != "" {
		fmt.Fprintf(b, "   the plan after the restart was not empty:\n%s\n", r.planAfter[:min(len(r.planAfter), 3000)])
	}
}

// addParameter adds name = "value" to the parameters block of main.tf.
func addParameter(t *testing.T, work, name, value string) {
	t.Helper()
	p := filepath.Join(work, "main.tf")
	b, err := os.ReadFile(p)
	must(t, err)
	const anchor = "parameters = {\n"
	if !strings.Contains(string(b), anchor) {
		t.Fatal("examples/quickstart/main.tf has no parameters block")
	}
	s := strings.Replace(string(b), anchor, anchor+fmt.Sprintf("    %s = %q\n", name, value), 1)
	must(t, os.WriteFile(p, []byte(s), 0o600))
}
