package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
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
)

// Self-repair on one cluster behind a single-writer pool, with writes
// through the VIP all along (issue 11), on the servers a real cloud runs
// (issue 18: the image booted with systemd; make test's init-less hosts
// are still covered, see below):
//   - (kill -9 of the writer's mysqld: mariadb.service, Restart=on-abnormal,
//     starts it again and the node rejoins by IST with no provider help:
//     TestAccClusterSystemdGuests asserts that, writes through a VIP and
//     an empty plan included);
//   - mysqld stopped out of band (`systemctl stop mariadb`, which the unit
//     does not undo): the plan shows the start and rejoin, apply does it;
//   - a clean stop of every server (Nova os-stop), then os-start: a clean
//     shutdown leaves no gvwstate.dat for pc.recovery, so the units find
//     no primary component and give up; the plan shows the full outage
//     and names the node to bootstrap, apply recovers;
//   - a power cut of every server, then os-start: Galera's pc.recovery
//     restores the primary component by itself and the plan is empty;
//   - a server deleted out of band is rebuilt.
//
// On init-less hosts (no init system: nothing restarts mysqld, nothing
// starts it at boot) the kill -9 and the power cut need the provider: the
// plan shows the repair or the full outage and apply does it.
//
// After every apply the cluster is ACTIVE with every node Synced and every
// acknowledged write on every node, and the next plan is empty (the
// framework checks that after each apply).
func TestAccClusterSelfRepair(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	systemd := os.Getenv("LOCALCLOUD_INIT_LESS") != "1"
	name := "accrep-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	config := lc.cidrsConfig(name, lc.subnet)
	rw := &dayTwoWrites{}
	t.Cleanup(func() { rw.stop() })
	g := &repairGuests{t: t, lc: lc, cluster: name}
	var applyStarted time.Time
	var writer, deleted string
	markApply := func() { applyStarted = time.Now() }
	readWriter := func(s *terraform.State) error {
		var err error
		writer, err = stateAttr(s, "pxc_cluster.test", "writer")
		if err == nil && writer == "" {
			err = fmt.Errorf("the cluster has no writer")
		}
		return err
	}
	repaired := func(table string) resource.TestCheckFunc {
		return resource.ComposeTestCheckFunc(
			resource.TestCheckResourceAttr("pxc_cluster.test", "status", "ACTIVE"),
			resource.TestCheckResourceAttr("pxc_cluster.test", "health", "healthy"),
			resource.TestCheckResourceAttr("pxc_cluster.test", "health_issues.#", "0"),
			rw.checkState(t, "repair", &applyStarted, 0),
			readWriter,
			rw.startState(table),
		)
	}
	emptyPlan := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	repairPlan := func(issues ...func() string) resource.ConfigPlanChecks {
		checks := []plancheck.PlanCheck{plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate)}
		for _, issue := range issues {
			checks = append(checks, expectHealthIssue(issue))
		}
		return resource.ConfigPlanChecks{PostApplyPostRefresh: checks}
	}
	repairApply := func(table string) resource.TestStep {
		return resource.TestStep{
			PreConfig: markApply, Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
			}},
			Check: repaired(table),
		}
	}
	notRunning := func() string { return writer + ": mysqld not running -> start, rejoin (IST)" }
	fullOutage := []func() string{
		func() string { return "full outage, no primary component: " + name + "-" },
		func() string { return "-> BOOTSTRAPS" },
	}

	steps := []resource.TestStep{{
		Config: config,
		Check: resource.ComposeTestCheckFunc(
			readWriter,
			func(s *terraform.State) error { return g.open(s, systemd) },
			rw.startState("acc.repair_kill"),
		),
	}}
	kill := func() {
		markApply()
		lc.serverOp(t, writer, "kill-mysqld")
	}
	if !systemd {
		// kill -9 of the writer's mysqld: nothing restarts it. (On systemd
		// servers the unit restarts it and the node rejoins by itself, the
		// writes failing over through the pool: TestAccClusterSystemdGuests
		// covers that with writes through a VIP and an empty plan.)
		steps = append(steps,
			resource.TestStep{PreConfig: kill, Config: config, PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: repairPlan(notRunning)},
			repairApply("acc.repair_stop"))
	}
	steps = append(steps,
		// mysqld stopped cleanly behind Terraform's back (systemctl stop on
		// a systemd server): the plan shows the start, apply does it.
		resource.TestStep{
			PreConfig: func() { lc.serverOp(t, writer, "stop-mysqld") },
			Config:    config, PlanOnly: true, ExpectNonEmptyPlan: true,
			ConfigPlanChecks: repairPlan(notRunning),
		},
		repairApply("acc.repair_outage"),
		// Every server is stopped cleanly through Nova, then started: no
		// primary component anywhere; the plan surveys the nodes and names
		// the one to bootstrap.
		resource.TestStep{
			PreConfig: func() {
				lc.cleanStopAll(t, name, 3)
				g.unitsGaveUp()
			},
			Config: config, PlanOnly: true, ExpectNonEmptyPlan: true,
			ConfigPlanChecks: repairPlan(fullOutage...),
		},
		repairApply("acc.repair_powercut"),
	)
	if systemd {
		// Every server loses power at once, then boots: the units start
		// MariaDB and pc.recovery restores the last primary component.
		steps = append(steps, resource.TestStep{
			PreConfig: func() {
				markApply()
				lc.powerCutAll(t, name, 3)
				g.everyNodeSynced("after the power cut")
			},
			Config: config, ConfigPlanChecks: emptyPlan,
			Check: repaired("acc.repair_replace"),
		})
	} else {
		// Every server loses power at once, then boots: nothing starts
		// MariaDB; the plan shows the full outage.
		steps = append(steps,
			resource.TestStep{
				PreConfig: func() { lc.powerCutAll(t, name, 3) },
				Config:    config, PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: repairPlan(fullOutage...),
			},
			repairApply("acc.repair_replace"))
	}
	steps = append(steps,
		// A server deleted behind Terraform's back is rebuilt.
		resource.TestStep{
			PreConfig: func() {
				deleted = name + "-2"
				if deleted == writer {
					deleted = name + "-3"
				}
				lc.deleteServer(t, deleted)
			},
			Config: config, PlanOnly: true, ExpectNonEmptyPlan: true,
			ConfigPlanChecks: repairPlan(func() string { return deleted + ": server missing -> new server and volume, SST from " }),
		},
		repairApply("acc.repair_after"),
	)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps:                    steps,
	})
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
	ids := lc.clusterServerIDs(t, cluster, n)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc.admin(t, http.MethodPost, "/servers/"+id+"/poweroff", nil)
		}()
	}
	wg.Wait()
	lc.startAll(t, cluster, ids)
}

// cleanStopAll stops every server through Nova (os-stop: the guest shuts
// down cleanly), waits until all are SHUTOFF, then starts them again.
func (lc localCloud) cleanStopAll(t *testing.T, cluster string, n int) {
	t.Helper()
	ids := lc.clusterServerIDs(t, cluster, n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl := accOpenStackClient(t)
	compute, err := cl.Compute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := servers.Stop(ctx, compute, id).ExtractErr(); err != nil {
			t.Fatalf("os-stop %s: %v", id, err)
		}
	}
	err = eventually(ctx, 4*time.Minute, func() error {
		for _, id := range ids {
			s, err := servers.Get(ctx, compute, id).Extract()
			if err != nil {
				return err
			}
			if s.Status != "SHUTOFF" || s.TaskState != "" {
				return fmt.Errorf("server %s is %s (%s) after os-stop", s.Name, s.Status, s.TaskState)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lc.startAll(t, cluster, ids)
}

func (lc localCloud) clusterServerIDs(t *testing.T, cluster string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = lc.serverID(t, fmt.Sprintf("%s-%d", cluster, i+1))
	}
	return ids
}

// startAll starts the servers through Nova (os-start) and waits until
// every server of the cluster is ACTIVE.
func (lc localCloud) startAll(t *testing.T, cluster string, ids []string) {
	t.Helper()
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

// repairGuests reaches the cluster's servers over SSH on systemd servers,
// to wait for what their units do by themselves (nothing on init-less
// hosts, where no unit runs).
type repairGuests struct {
	t       *testing.T
	lc      localCloud
	cluster string
	nodes   []*repairGuest
}

type repairGuest struct{ accGuestShell }

// open checks that the servers are what the test was told (systemd or
// init-less) and, on systemd, prepares SSH with the cluster's generated
// key and the host keys the consoles' cloud-init block names.
func (g *repairGuests) open(s *terraform.State, systemd bool) error {
	key, err := stateAttr(s, "pxc_cluster.test", "generated_private_key")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := accOpenStackClient(g.t)
	for i := 1; i <= 3; i++ {
		n := &repairGuest{accGuestShell{name: fmt.Sprintf("%s-%d", g.cluster, i)}}
		id := g.lc.serverID(g.t, n.name)
		var info struct {
			Addr string `json:"addr"`
			Init string `json:"init"`
		}
		if err := json.Unmarshal(g.lc.admin(g.t, http.MethodGet, "/servers/"+id, nil), &info); err != nil {
			return err
		}
		if (info.Init == "systemd") != systemd {
			return fmt.Errorf("server %s boots init %q, but LOCALCLOUD_INIT_LESS=%q", n.name, info.Init, os.Getenv("LOCALCLOUD_INIT_LESS"))
		}
		if !systemd {
			continue
		}
		n.ip = info.Addr
		console, err := cl.ConsoleOutput(ctx, id, 0)
		if err != nil {
			return fmt.Errorf("console of %s: %w", n.name, err)
		}
		fps, err := consoleHostKeys(n.name, console)
		if err != nil {
			return err
		}
		if err := n.trust(key, fps); err != nil {
			return err
		}
		g.t.Cleanup(n.close)
		g.nodes = append(g.nodes, n)
	}
	return nil
}

// synced: the node's unit is active and the node Synced in a cluster of 3.
func (n *repairGuest) synced() error {
	unit, err := n.run("systemctl is-active mariadb")
	if err != nil {
		return err
	}
	st, err := n.run(`mariadb -N -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('wsrep_cluster_size','wsrep_local_state_comment') ORDER BY VARIABLE_NAME"`)
	if err != nil {
		return err
	}
	if st = strings.Join(strings.Fields(st), " "); unit != "active" || st != "3 Synced" {
		return fmt.Errorf("%s: unit %s, cluster size and state %q, want active and 3 Synced", n.name, unit, st)
	}
	return nil
}

// unitsGaveUp waits, after a clean stop and start of every server, until
// no unit is still starting MariaDB, and checks that every unit failed:
// with no gvwstate.dat (a clean shutdown removes it) no node restores a
// primary component, and each server gives up (pc.wait_prim_timeout).
func (g *repairGuests) unitsGaveUp() {
	g.t.Helper()
	if len(g.nodes) == 0 {
		return // init-less hosts: no unit starts MariaDB at boot
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	for _, n := range g.nodes {
		n.close()
		var state string
		err := eventually(ctx, 5*time.Minute, func() error {
			var err error
			if state, err = n.run("systemctl is-active mariadb || true"); err != nil {
				return err
			}
			if state == "activating" || state == "deactivating" {
				return fmt.Errorf("%s: unit still %s", n.name, state)
			}
			return nil
		})
		if err != nil {
			g.t.Fatal(err)
		}
		if state != "failed" {
			g.t.Fatalf("%s: unit %s after the clean stop and start of every server, want failed (no primary component)", n.name, state)
		}
	}
	g.t.Logf("every unit failed without a primary component, %v after the servers were ACTIVE", time.Since(t0).Round(time.Second))
}

// everyNodeSynced waits until every node's unit is active and the node
// Synced in a cluster of 3.
func (g *repairGuests) everyNodeSynced(what string) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	for _, n := range g.nodes {
		n.close()
		if err := eventually(ctx, 5*time.Minute, n.synced); err != nil {
			g.t.Fatalf("%s: %v", what, err)
		}
	}
	g.t.Logf("every node Synced with its unit active %s, %v after the servers were ACTIVE", what, time.Since(t0).Round(time.Second))
}
