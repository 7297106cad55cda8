package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// Self-repair on one cluster behind a single-writer pool, with writes
// through the VIP all along (issue 11): kill -9 of the writer's mysqld,
// a power cut of every server, a server deleted out of band. Each time the
// plan shows the repair, apply makes the cluster ACTIVE again with every
// node Synced and every acknowledged write on every node, and the next
// plan is empty (the framework checks that after each apply).
func TestAccClusterSelfRepair(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	name := "accrep-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	config := lc.cidrsConfig(name, lc.subnet)
	rw := &repairWrites{}
	t.Cleanup(func() { rw.stop() })
	var applyStarted time.Time
	var writer, deleted string
	markApply := func() { applyStarted = time.Now() }
	repaired := func(table string) resource.TestCheckFunc {
		return resource.ComposeTestCheckFunc(
			resource.TestCheckResourceAttr("pxc_cluster.test", "status", "ACTIVE"),
			resource.TestCheckResourceAttr("pxc_cluster.test", "health", "healthy"),
			resource.TestCheckResourceAttr("pxc_cluster.test", "health_issues.#", "0"),
			func(s *terraform.State) error { return rw.check(t, s, applyStarted) },
			func(s *terraform.State) error { return rw.start(s, table) },
		)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						var err error
						writer, err = stateAttr(s, "pxc_cluster.test", "writer")
						if err == nil && writer == "" {
							err = fmt.Errorf("the cluster has no writer")
						}
						return err
					},
					func(s *terraform.State) error { return rw.start(s, "acc.repair_kill") },
				),
			},
			{
				// kill -9 of the writer's mysqld: the plan shows the repair.
				PreConfig: func() { lc.serverOp(t, writer, "kill-mysqld") },
				Config:    config, PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					expectHealthIssue(func() string { return writer + ": mysqld not running -> start, rejoin (IST)" }),
				}},
			},
			{
				PreConfig: markApply, Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
				}},
				Check: repaired("acc.repair_outage"),
			},
			{
				// Every server loses power at once, then boots (Nova os-start):
				// the plan surveys the nodes and names the one to bootstrap.
				PreConfig: func() { lc.powerCutAll(t, name, 3) },
				Config:    config, PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					expectHealthIssue(func() string { return "full outage, no primary component: " + name + "-" }),
					expectHealthIssue(func() string { return "-> BOOTSTRAPS" }),
				}},
			},
			{
				PreConfig: markApply, Config: config,
				Check: repaired("acc.repair_replace"),
			},
			{
				// A server deleted behind Terraform's back is rebuilt.
				PreConfig: func() {
					deleted = name + "-2"
					if deleted == writer {
						deleted = name + "-3"
					}
					lc.deleteServer(t, deleted)
				},
				Config: config, PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					expectHealthIssue(func() string { return deleted + ": server missing -> new server and volume, SST from " }),
				}},
			},
			{
				PreConfig: markApply, Config: config,
				Check: repaired("acc.repair_after"),
			},
		},
	})
}

// repairWrites runs one write loop through the VIP per scenario (each in
// its own table) and keeps every log, so the last check finds every
// acknowledged write of every scenario on every node.
type repairWrites struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan *galeratest.Log
	db     interface{ Close() error }
	table  string
	logs   map[string]*galeratest.Log
}

func (w *repairWrites) start(s *terraform.State, table string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := readCIDRsState(s)
	if err != nil {
		return err
	}
	db, err := openVIPApp(ctx, st.ips[0], st.password, st.vip, table)
	if err != nil {
		return err
	}
	loopCtx, stop := context.WithCancel(context.Background())
	w.mu.Lock()
	w.cancel, w.db, w.table, w.done = stop, db, table, make(chan *galeratest.Log, 1)
	done := w.done
	w.mu.Unlock()
	go func() { done <- galeratest.RunWrites(loopCtx, db, table, 200*time.Millisecond) }()
	time.Sleep(3 * time.Second)
	return nil
}

// stop ends the running loop and keeps its log.
func (w *repairWrites) stop() *galeratest.Log {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	log := <-w.done
	w.db.Close()
	w.cancel = nil
	if w.logs == nil {
		w.logs = map[string]*galeratest.Log{}
	}
	w.logs[w.table] = log
	return log
}

// check: writes through the VIP are acknowledged again after the apply;
// every node is Synced and holds every write any loop had acknowledged.
func (w *repairWrites) check(t *testing.T, s *terraform.State, applyStarted time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := readCIDRsState(s)
	if err != nil {
		return err
	}
	// The pool's checks see the repaired members within seconds: wait
	// until a new connection through the VIP reaches a node.
	if err := eventually(ctx, 2*time.Minute, func() error {
		probe, err := galeratest.Open(st.vip, cidrsAppUser, cidrsAppPass)
		if err != nil {
			return err
		}
		defer probe.Close()
		_, err = galeratest.NodeOf(ctx, probe)
		return err
	}); err != nil {
		return fmt.Errorf("no connection through the VIP %s after the repair: %w", st.vip, err)
	}
	checkedAt := time.Now()
	time.Sleep(3 * time.Second)
	log := w.stop()
	if log == nil {
		return fmt.Errorf("the write loop was not running")
	}
	if _, ok := log.FirstAfter(checkedAt); !ok {
		return fmt.Errorf("no write through the VIP was acknowledged after the repair (%d acked, %d failed, last error: %v)",
			len(log.Acked), len(log.Failed), log.LastErr)
	}
	gap, from := log.LongestGap(applyStarted)
	t.Logf("%s: %d writes acknowledged through the VIP, %d failed; longest gap since the apply began %s, %s after the loop started",
		w.table, len(log.Acked), len(log.Failed), gap.Round(10*time.Millisecond), from.Sub(log.Started).Round(time.Second))
	for _, ip := range st.ips {
		db, err := openRoot(net.JoinHostPort(ip, "3306"), st.password)
		if err != nil {
			return err
		}
		defer db.Close()
		var k, state string
		if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'").Scan(&k, &state); err != nil {
			return fmt.Errorf("node %s: %w", ip, err)
		}
		if state != "Synced" {
			return fmt.Errorf("node %s is %s, want Synced", ip, state)
		}
		if _, err := db.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
			return err
		}
		for table, l := range w.logs {
			missing, err := galeratest.MissingAcked(ctx, db, table, l.Acked)
			if err != nil {
				return fmt.Errorf("node %s: %w", ip, err)
			}
			if len(missing) > 0 {
				return fmt.Errorf("node %s misses %d acknowledged writes of %s: %v", ip, len(missing), table, missing)
			}
		}
	}
	return nil
}

// expectHealthIssue checks the refreshed state the plan starts from: a
// health_issues line contains the text.
type expectHealthIssue func() string

func (e expectHealthIssue) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	want := e()
	lines, err := priorHealthIssues(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	for _, l := range lines {
		if strings.Contains(l, want) {
			return
		}
	}
	resp.Error = fmt.Errorf("no health_issues line contains %q; lines:\n%s", want, strings.Join(lines, "\n"))
}

func priorHealthIssues(p *tfjson.Plan) ([]string, error) {
	if p.PriorState == nil || p.PriorState.Values == nil || p.PriorState.Values.RootModule == nil {
		return nil, fmt.Errorf("the plan has no prior state")
	}
	for _, r := range p.PriorState.Values.RootModule.Resources {
		if r.Address != "pxc_cluster.test" {
			continue
		}
		raw, _ := r.AttributeValues["health_issues"].([]any)
		var lines []string
		for _, v := range raw {
			if s, ok := v.(string); ok {
				lines = append(lines, s)
			}
		}
		return lines, nil
	}
	return nil, fmt.Errorf("pxc_cluster.test is not in the plan's prior state")
}

// serverOp runs a local cloud admin operation on the server of that name.
func (lc localCloud) serverOp(t *testing.T, name, op string) {
	t.Helper()
	lc.admin(t, http.MethodPost, "/servers/"+lc.serverID(t, name)+"/"+op, nil)
}

func (lc localCloud) serverID(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := accOpenStackClient(t).ListServers(ctx, name, nil)
	if err != nil || len(list) == 0 {
		t.Fatalf("find server %s: %d found, %v", name, len(list), err)
	}
	for _, s := range list {
		if s.Name == name {
			return s.ID
		}
	}
	t.Fatalf("no server is named %s", name)
	return ""
}

// powerCutAll kills every server's host at the same moment (a power cut:
// nothing shuts down cleanly), then starts each through Nova (os-start)
// and waits until it is ACTIVE.
func (lc localCloud) powerCutAll(t *testing.T, cluster string, n int) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = lc.serverID(t, fmt.Sprintf("%s-%d", cluster, i+1))
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc.admin(t, http.MethodPost, "/servers/"+id+"/poweroff", nil)
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl := accOpenStackClient(t)
	compute, err := cl.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := servers.Start(ctx, compute, id).ExtractErr(); err != nil {
			t.Fatalf("os-start %s: %v", id, err)
		}
	}
	// Nova reports SHUTOFF (task_state powering-on) until the guest runs.
	err = eventually(ctx, 4*time.Minute, func() error {
		list, err := cl.ListServers(ctx, cluster+"-", nil)
		if err != nil {
			return err
		}
		for _, s := range list {
			if s.Status != "ACTIVE" {
				return fmt.Errorf("server %s is %s after os-start", s.Name, s.Status)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
