package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// maxNoChangePlanRequests is the API economy of a refresh (issue 15): one
// cluster and its pool are read in at most six requests, login included.
const maxNoChangePlanRequests = 6

// requestCount is what the local cloud's request log says about one
// terraform command (GET /_admin/requests).
type requestCount struct {
	Total    int            `json:"total"`
	ByCall   map[string]int `json:"by_call"`
	ByStatus map[string]int `json:"by_status"`
	Polls    map[string]int `json:"polls"`
	Requests []struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		Query  string `json:"query"`
		Status int    `json:"status"`
	} `json:"requests"`
}

func (c requestCount) String() string {
	calls := make([]string, 0, len(c.ByCall))
	for k, n := range c.ByCall {
		calls = append(calls, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(calls)
	polls := 0
	for _, n := range c.Polls {
		polls += n
	}
	return fmt.Sprintf("%d requests (%s), %d polls, %d answered 409", c.Total, strings.Join(calls, ", "), polls, c.ByStatus["409"])
}

func (c requestCount) list() string {
	var b strings.Builder
	for _, r := range c.Requests {
		fmt.Fprintf(&b, "  %s %s?%s -> %d\n", r.Method, r.Path, r.Query, r.Status)
	}
	return b.String()
}

// TestAccEconomyNoChangePlan applies the quickstart shape (3 nodes and
// their own single_writer load balancer) with the real terraform CLI, then
// counts, in the local cloud's own request log, the requests of a
// `terraform plan` that has nothing to change: more than
// maxNoChangePlanRequests fails. Then the same for the other shape, a
// pxc_lb_pool in front of the cluster instead (the apply between removes
// the block and adds the pool), and back (the block added to the running
// cluster, the pool removed). The applies' and the destroy's counts are
// logged. The requests are told apart from other tests on the same cloud
// by TF_APPEND_USER_AGENT.
func TestAccEconomyNoChangePlan(t *testing.T) {
	lc := requireLocalCloud(t)
	tfCLI := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tfCLI == "" {
		tfCLI = "terraform"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runIn(ctx, root, nil, "go", "build", "-o", filepath.Join(bin, "terraform-provider-pxc"), "."); err != nil {
		t.Fatalf("build the provider: %v\n%s", err, out)
	}
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"pxc-provider/pxc\" = %q\n  }\n  direct {}\n}\n", bin)
	if err := os.WriteFile(filepath.Join(work, "terraformrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	name := "econ-" + randomHex(t, 3)
	tag := "pxc-economy-test/" + randomHex(t, 8)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+filepath.Join(work, "terraformrc"), "TF_IN_AUTOMATION=1",
		"TF_APPEND_USER_AGENT="+tag)
	counted := func(args ...string) (requestCount, []byte, error) {
		lc.admin(t, http.MethodDelete, "/requests", nil)
		out, err := runIn(ctx, work, env, tfCLI, args...)
		var c requestCount
		if jerr := json.Unmarshal(lc.admin(t, http.MethodGet, "/requests?user_agent="+tag, nil), &c); jerr != nil {
			t.Fatalf("read the request log: %v", jerr)
		}
		return c, out, err
	}
	destroyed := false
	t.Cleanup(func() {
		if destroyed {
			return
		}
		if out, err := runIn(context.Background(), work, env, tfCLI, "destroy", "-auto-approve", "-input=false", "-no-color"); err != nil {
			t.Errorf("terraform destroy: %v\n%s", err, out)
		}
	})

	for _, shape := range []struct{ what, config string }{
		{"own load balancer", economyConfig(name, lc, true)},
		{"pxc_lb_pool", economyConfig(name, lc, false)},
		// Back: the running cluster gets its own load balancer in place.
		{"own load balancer added", economyConfig(name, lc, true)},
	} {
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(shape.config), 0o600); err != nil {
			t.Fatal(err)
		}
		apply, out, err := counted("apply", "-auto-approve", "-input=false", "-no-color")
		if err != nil {
			t.Fatalf("terraform apply (%s): %v\n%s", shape.what, err, out)
		}
		t.Logf("apply (%s):   %s\n%s", shape.what, apply, apply.list())

		plan, out, err := counted("plan", "-detailed-exitcode", "-input=false", "-no-color")
		if err != nil {
			t.Fatalf("terraform plan after apply (%s) is not empty (or failed): %v\n%s", shape.what, err, out)
		}
		t.Logf("plan (%s):    %s", shape.what, plan)
		if plan.Total > maxNoChangePlanRequests {
			t.Errorf("a plan with no changes (%s) made %s; want at most %d:\n%s", shape.what, plan, maxNoChangePlanRequests, plan.list())
		}
	}

	destroy, out, err := counted("destroy", "-auto-approve", "-input=false", "-no-color")
	destroyed = true
	if err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	t.Logf("destroy: %s\n%s", destroy, destroy.list())
}

// economyConfig is the quickstart's shape: 3 nodes, a volume each, a
// single_writer load balancer, no floating IP; the cluster's own
// (ownLB), or a pxc_lb_pool.
func economyConfig(name string, lc localCloud, ownLB bool) string {
	block, pool := "", `
resource "pxc_lb_pool" "test" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`
	if ownLB {
		block, pool = "  load_balancer = { mode = \"single_writer\" }\n", ""
	}
	return fmt.Sprintf(`
terraform {
  required_providers {
    pxc = { source = "pxc-provider/pxc" }
  }
}

provider "pxc" {}

resource "pxc_cluster" "test" {
  name       = %q
  datastore  = { type = "mariadb", version = "10.11" }
  node_count = 3
  flavor     = "m1.small"
  image      = %q
  network    = %q
  volume     = { size = 1 }
  sst_method = "rsync"
  parameters = { innodb_buffer_pool_size = "64M" }
  allowed_cidrs = [%q]
%s}
%s`, name, lc.image, lc.network, lc.subnet, block, pool)
}

func runIn(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = fmt.Errorf("%s %s: exit code %d", name, strings.Join(args, " "), exit.ExitCode())
	}
	return out, err
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
