package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBenchFailoverTLS compares the load balancer's failover window of a
// cluster (3 nodes, or PXC_BENCH_FAILOVER_NODES) with TLS disabled and
// required, in the same run (two clusters side by side): `PXC_BENCH=1 go test -run TestBenchFailoverTLS`
// against a local cloud, as tools/bench.sh runs TestBench.
func TestBenchFailoverTLS(t *testing.T) {
	if os.Getenv("PXC_BENCH") == "" {
		t.Skip("needs PXC_BENCH=1 and a local cloud")
	}
	tfCLI := os.Getenv("TF_CLI")
	if tfCLI == "" {
		tfCLI = "terraform"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	nodes := 3
	if v := os.Getenv("PXC_BENCH_FAILOVER_NODES"); v != "" {
		n, err := strconv.Atoi(v)
		must(t, err)
		nodes = n
	}
	var mu sync.Mutex
	report := map[string]failoverResult{}
	t.Run("modes", func(t *testing.T) {
		for _, mode := range []string{"disabled", "required"} {
			t.Run(mode, func(t *testing.T) {
				t.Parallel()
				work := t.TempDir()
				applyQuickstartEdited(ctx, t, tfCLI, work, nodes, func(s string) string {
					s = strings.Replace(s, `name = "demo"`, fmt.Sprintf(`name = "tls%s"`, mode[:3]), 1)
					return strings.Replace(s, "  allowed_cidrs = var.allowed_cidrs\n",
						fmt.Sprintf("  allowed_cidrs = var.allowed_cidrs\n  tls = { mode = %q }\n", mode), 1)
				})
				destroyed := false
				defer destroy(t, tfCLI, work, &destroyed)
				res := measureFailover(ctx, t, tfCLI, work)
				mu.Lock()
				report[mode] = res
				mu.Unlock()
				if len(res.missing) > 0 {
					t.Errorf("tls %s: acknowledged writes lost in the failover: %v", mode, res.missing)
				}
			})
		}
	})
	b := &strings.Builder{}
	for _, mode := range []string{"disabled", "required"} {
		fmt.Fprintf(b, "\n== failover, tls.mode = %s\n", mode)
		if r, ok := report[mode]; ok {
			r.report(b)
		}
	}
	fmt.Println(b.String())
}
