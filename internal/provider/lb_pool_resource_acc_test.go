package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// lbConfig is a cluster with two load balancers: a strict single writer
// and a multi-writer round robin with a floating IP on the local cloud's
// external network. root may log in from the cloud's subnet, where this
// machine and the load balancers are.
func (lc localCloud) lbConfig(name string) string {
	cluster := strings.Replace(lc.accClusterConfig(name, ""), fmt.Sprintf("[%q]", lc.gateway+"/32"), fmt.Sprintf("[%q]", lc.subnet), 1)
	return cluster + `
resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}

resource "pxc_lb_pool" "multi" {
  cluster_id = pxc_cluster.test.id
  mode       = "multi_writer"
  lb_method  = "ROUND_ROBIN"

  floating_ip_network = "public"
}
`
}

// lbState is what the checks need from state.
type lbState struct {
	password   string
	privateKey string
	single     string // VIP:3306
	multi      string
	nodeIPs    map[string]string // node name -> ip
	serverIDs  map[string]string // node name -> server id
}

func readLBState(s *terraform.State) (lbState, error) {
	st := lbState{nodeIPs: map[string]string{}, serverIDs: map[string]string{}}
	var err error
	if st.password, err = stateAttr(s, "pxc_cluster.test", "root_password"); err != nil {
		return st, err
	}
	if st.privateKey, err = stateAttr(s, "pxc_cluster.test", "generated_private_key"); err != nil {
		return st, err
	}
	for _, lb := range []struct {
		res string
		dst *string
	}{{"pxc_lb_pool.single", &st.single}, {"pxc_lb_pool.multi", &st.multi}} {
		vip, err := stateAttr(s, lb.res, "vip_address")
		if err != nil {
			return st, err
		}
		*lb.dst = net.JoinHostPort(vip, "3306")
	}
	for i := 0; i < 3; i++ {
		name, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.name", i))
		if err != nil {
			return st, err
		}
		if st.nodeIPs[name], err = stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.ip", i)); err != nil {
			return st, err
		}
		if st.serverIDs[name], err = stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.id", i)); err != nil {
			return st, err
		}
	}
	return st, nil
}

// nodesAnswering opens n new connections through addr and counts which
// node answers each.
func nodesAnswering(ctx context.Context, addr, password string, n int) (map[string]int, error) {
	db, err := galeratest.Open(addr, "root", password)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		node, err := galeratest.NodeOf(ctx, db)
		if err != nil {
			return seen, fmt.Errorf("connection %d through %s: %w", i+1, addr, err)
		}
		seen[node]++
	}
	return seen, nil
}

// eventually retries check until it passes or the time is up.
func eventually(ctx context.Context, within time.Duration, check func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func checkBalancing(s *terraform.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := readLBState(s)
	if err != nil {
		return err
	}
	// Members come ONLINE after their first checks.
	if err := eventually(ctx, 30*time.Second, func() error {
		seen, err := nodesAnswering(ctx, st.multi, st.password, 9)
		if err == nil && len(seen) != 3 {
			err = fmt.Errorf("multi_writer spread 9 new connections over %v, want all 3 nodes", seen)
		}
		return err
	}); err != nil {
		return err
	}
	seen, err := nodesAnswering(ctx, st.single, st.password, 9)
	if err != nil {
		return err
	}
	if len(seen) != 1 {
		return fmt.Errorf("single_writer sent 9 new connections to %v, want exactly one node", seen)
	}

	// A node that is not Synced stops getting traffic, and comes back.
	node2 := ""
	for name := range st.nodeIPs {
		if strings.HasSuffix(name, "-2") {
			node2 = name
		}
	}
	direct, err := galeratest.Open(net.JoinHostPort(st.nodeIPs[node2], "3306"), "root", st.password)
	if err != nil {
		return err
	}
	defer direct.Close()
	conn, err := direct.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET GLOBAL wsrep_desync = ON"); err != nil {
		return fmt.Errorf("desync %s: %w", node2, err)
	}
	if err := eventually(ctx, 20*time.Second, func() error {
		seen, err := nodesAnswering(ctx, st.multi, st.password, 9)
		if err == nil && (seen[node2] > 0 || len(seen) != 2) {
			err = fmt.Errorf("with %s desynced, multi_writer still answered from %v", node2, seen)
		}
		return err
	}); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SET GLOBAL wsrep_desync = OFF"); err != nil {
		return fmt.Errorf("resync %s: %w", node2, err)
	}
	return eventually(ctx, 30*time.Second, func() error {
		seen, err := nodesAnswering(ctx, st.multi, st.password, 9)
		if err == nil && seen[node2] == 0 {
			err = fmt.Errorf("%s is Synced again but multi_writer answered only from %v", node2, seen)
		}
		return err
	})
}

// checkFloatingIP connects through the multi_writer pool's floating IP: it
// is not the VIP, and MySQL answers through it.
func checkFloatingIP(s *terraform.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := readLBState(s)
	if err != nil {
		return err
	}
	fip, err := stateAttr(s, "pxc_lb_pool.multi", "floating_ip_address")
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(fip, "3306")
	if addr == st.multi {
		return fmt.Errorf("floating ip %s is the VIP itself", fip)
	}
	seen, err := nodesAnswering(ctx, addr, st.password, 6)
	if err != nil {
		return fmt.Errorf("through floating ip %s: %w", addr, err)
	}
	if len(seen) == 0 {
		return fmt.Errorf("no node answered through floating ip %s", addr)
	}
	return nil
}

// checkFailover kills -9 mysqld on the writer while a client writes through
// the single_writer address: writes must go on from another node within a
// few seconds, and no acknowledged write may be lost. The guests boot
// systemd: mariadb.service's Restart= policy starts mysqld again and the
// node rejoins by itself (IST), Synced with its member back ONLINE, so
// nothing is left for the provider to repair.
func (lc localCloud) checkFailover(t *testing.T, killed *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
		defer cancel()
		st, err := readLBState(s)
		if err != nil {
			return err
		}
		db, err := galeratest.Open(st.single, "root", st.password)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := galeratest.Prepare(ctx, db, "acc.failover"); err != nil {
			return err
		}
		writer, err := galeratest.NodeOf(ctx, db)
		if err != nil {
			return err
		}
		*killed = writer
		unitBefore, err := mariadbUnit(ctx, t, st, writer)
		if err != nil {
			return err
		}
		if unitBefore.restart != "on-abnormal" && unitBefore.restart != "on-abort" && unitBefore.restart != "on-failure" && unitBefore.restart != "always" {
			return fmt.Errorf("%s: mariadb.service has Restart=%s: a crashed mysqld would not be restarted", writer, unitBefore.restart)
		}
		loopCtx, stop := context.WithCancel(ctx)
		logCh := make(chan *galeratest.Log, 1)
		go func() { logCh <- galeratest.RunWrites(loopCtx, db, "acc.failover", 100*time.Millisecond) }()
		time.Sleep(3 * time.Second)

		if _, err := nodeRun(ctx, t, st, writer, "pkill -9 -x mariadbd; pkill -9 -x mysqld; true"); err != nil {
			stop()
			<-logCh
			return fmt.Errorf("kill mysqld on %s: %w", writer, err)
		}
		killedAt := time.Now() // SIGKILL delivered: nothing acknowledged after this can come from the writer
		// Keep writing long enough to see the new writer settle.
		time.Sleep(15 * time.Second)
		stop()
		log := <-logCh
		next, ok := log.FirstAfter(killedAt)
		if !ok {
			return fmt.Errorf("no write through the load balancer succeeded after mysqld on %s was killed (last error: %v)", writer, log.LastErr)
		}
		if next.Node == writer {
			return fmt.Errorf("after killing %s, the next write was acknowledged by %s", writer, next.Node)
		}
		gap, _ := log.LongestGap(killedAt.Add(-time.Second))
		t.Logf("failover: mysqld on %s killed; writes resumed on %s after %s (longest gap without an acknowledged write %s, %d failed attempts)",
			writer, next.Node, next.At.Sub(killedAt).Round(10*time.Millisecond), gap.Round(10*time.Millisecond), len(log.Failed))
		if gap > 12*time.Second {
			return fmt.Errorf("longest gap without an acknowledged write was %s, want a few seconds", gap)
		}
		survivor, err := galeratest.Open(net.JoinHostPort(st.nodeIPs[next.Node], "3306"), "root", st.password)
		if err != nil {
			return err
		}
		defer survivor.Close()
		missing, err := galeratest.MissingAcked(ctx, survivor, "acc.failover", log.Acked)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return fmt.Errorf("%d acknowledged writes are missing after the failover: %v", len(missing), missing)
		}

		// The unit, not the provider, brings the killed node back.
		if err := waitSyncedAgain(ctx, st, writer); err != nil {
			return err
		}
		unitAfter, err := mariadbUnit(ctx, t, st, writer)
		if err != nil {
			return err
		}
		if unitAfter.active != "active" || unitAfter.restarts != unitBefore.restarts+1 || unitAfter.mainPID == unitBefore.mainPID {
			return fmt.Errorf("%s: after the kill mariadb.service is %s with NRestarts %d (was %d) and MainPID %s (was %s): want it active again, restarted once by the unit",
				writer, unitAfter.active, unitAfter.restarts, unitBefore.restarts, unitAfter.mainPID, unitBefore.mainPID)
		}
		since, err := nodeRun(ctx, t, st, writer, fmt.Sprintf("tail -n +%d /var/log/mysql/error.log", unitBefore.logLines+1))
		if err != nil {
			return err
		}
		if !strings.Contains(since, "IST received") {
			return fmt.Errorf("%s did not rejoin by IST after the unit restarted it; its error log since the kill:\n%s", writer, since)
		}
		restarted, err := galeratest.Open(net.JoinHostPort(st.nodeIPs[writer], "3306"), "root", st.password)
		if err != nil {
			return err
		}
		defer restarted.Close()
		if missing, err := galeratest.MissingAcked(ctx, restarted, "acc.failover", log.Acked); err != nil || len(missing) > 0 {
			return fmt.Errorf("%s after its restart: %d acknowledged writes missing (%v): %v", writer, len(missing), err, missing)
		}
		if err := eventually(ctx, time.Minute, func() error {
			return memberOnline(ctx, t, s, "pxc_lb_pool.multi", st.nodeIPs[writer])
		}); err != nil {
			return err
		}
		t.Logf("failover: %s restarted by mariadb.service (Restart=%s), rejoined by IST, Synced, its member ONLINE again", writer, unitAfter.restart)
		return nil
	}
}

// nodeRun runs cmd on one node over SSH (accGuestShell) as root, trusting
// the host keys its console names, dialing until sshd answers (within a
// minute: a loaded machine may be slow to) as the provider does.
func nodeRun(ctx context.Context, t *testing.T, st lbState, node, cmd string) (string, error) {
	console, err := accOpenStackClient(t).ConsoleOutput(ctx, st.serverIDs[node], 0)
	if err != nil {
		return "", fmt.Errorf("console of %s: %w", node, err)
	}
	fps, err := consoleHostKeys(node, console)
	if err != nil {
		return "", err
	}
	sh := &accGuestShell{name: node, ip: st.nodeIPs[node]}
	if err := sh.trust(st.privateKey, fps); err != nil {
		return "", err
	}
	defer sh.close()
	if err := eventually(ctx, time.Minute, sh.connect); err != nil {
		return "", err
	}
	return sh.run(cmd)
}

// unitState is what systemd says of a node's mariadb.service, and how long
// its error log was then.
type unitState struct {
	active, restart, mainPID string
	restarts, logLines       int
}

func mariadbUnit(ctx context.Context, t *testing.T, st lbState, node string) (unitState, error) {
	out, err := nodeRun(ctx, t, st, node, "systemctl show -p ActiveState,Restart,MainPID,NRestarts mariadb && echo LogLines=$(wc -l < /var/log/mysql/error.log)")
	if err != nil {
		return unitState{}, err
	}
	var u unitState
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "ActiveState":
			u.active = v
		case "Restart":
			u.restart = v
		case "MainPID":
			u.mainPID = v
		case "NRestarts":
			u.restarts, err = strconv.Atoi(v)
		case "LogLines":
			u.logLines, err = strconv.Atoi(v)
		}
		if err != nil {
			return u, fmt.Errorf("%s: systemctl show: %q: %w", node, line, err)
		}
	}
	return u, nil
}

// waitSyncedAgain waits until the node answers Synced in a 3-node Primary
// component.
func waitSyncedAgain(ctx context.Context, st lbState, node string) error {
	db, err := galeratest.Open(net.JoinHostPort(st.nodeIPs[node], "3306"), "root", st.password)
	if err != nil {
		return err
	}
	defer db.Close()
	return eventually(ctx, 4*time.Minute, func() error {
		var got []string
		for _, v := range []string{"wsrep_cluster_status", "wsrep_cluster_size", "wsrep_local_state_comment"} {
			var k, val string
			if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE '"+v+"'").Scan(&k, &val); err != nil {
				return fmt.Errorf("%s: %s: %w", node, v, err)
			}
			got = append(got, val)
		}
		if strings.Join(got, " ") != "Primary 3 Synced" {
			return fmt.Errorf("%s: cluster status, size and state %v, want Primary 3 Synced", node, got)
		}
		return nil
	})
}

// memberOnline: Octavia reports the pool's member at address ONLINE.
func memberOnline(ctx context.Context, t *testing.T, s *terraform.State, pool, address string) error {
	poolID, err := stateAttr(s, pool, "pool_id")
	if err != nil {
		return err
	}
	members, err := accOpenStackClient(t).ListPoolMembers(ctx, poolID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Address == address {
			if m.OperatingStatus != "ONLINE" {
				return fmt.Errorf("member %s of %s is %s, want ONLINE", address, pool, m.OperatingStatus)
			}
			return nil
		}
	}
	return fmt.Errorf("%s has no member %s", pool, address)
}

// stopMariaDB stops a node's database cleanly out of band, the way an
// operator would (systemctl stop): unlike a crash, the unit does not
// start it again, and the provider's repair must.
func stopMariaDB(t *testing.T, st lbState, node string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := nodeRun(ctx, t, st, node, "systemctl stop mariadb"); err != nil {
		t.Fatal(err)
	}
}

// Two load balancers in front of one cluster: balancing, a desynced node
// taken out and back, a writer failover without lost writes that the
// guest's unit heals by itself, a load balancer in ERROR replaced in the
// same apply that repairs a node stopped out of band, import, and nothing
// left after destroy.
func TestAccLBPoolResource(t *testing.T) {
	lc := requireLocalCloud(t)
	name := "acclb-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	var multiID, killed, stopped string
	var st lbState
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: lc.lbConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pxc_lb_pool.single", tfjsonpath.New("members"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue("pxc_lb_pool.single", tfjsonpath.New("provisioning_status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue("pxc_lb_pool.single", tfjsonpath.New("timeout_client_data"), knownvalue.Int64Exact(28800000)),
					statecheck.ExpectKnownValue("pxc_lb_pool.multi", tfjsonpath.New("vip_address"), knownvalue.StringRegexp(regexp.MustCompile(`^10\.2\d\d\.`))),
					statecheck.ExpectKnownValue("pxc_lb_pool.multi", tfjsonpath.New("floating_ip_address"), knownvalue.StringRegexp(regexp.MustCompile(`^10\.2\d\d\.`))),
					statecheck.ExpectKnownValue("pxc_lb_pool.single", tfjsonpath.New("floating_ip_address"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(checkBalancing, checkFloatingIP,
					checkTLSThroughVIP("pxc_cluster.test", "pxc_lb_pool.multi"), lc.checkFailover(t, &killed),
					func(s *terraform.State) error {
						id, err := stateAttr(s, "pxc_lb_pool.multi", "id")
						multiID = id
						if err == nil {
							st, err = readLBState(s)
						}
						return err
					}),
				// mariadb.service restarted the killed mysqld and the node
				// rejoined: the refresh finds nothing to repair.
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				// Octavia put the load balancer in ERROR, and an operator
				// stopped a node's database (systemctl stop: the unit does
				// not start it again): the next apply replaces the load
				// balancer and repairs the node.
				PreConfig: func() {
					lc.admin(t, http.MethodPost, "/loadbalancers/"+multiID+"/error", nil)
					stopped = nodeNotWriting(t, st)
					stopMariaDB(t, st, stopped)
				},
				Config: lc.lbConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_lb_pool.multi", plancheck.ResourceActionReplace),
					plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
					// The same apply repairs the stopped node.
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pxc_lb_pool.multi", tfjsonpath.New("provisioning_status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue("pxc_cluster.test", tfjsonpath.New("health"), knownvalue.StringExact("healthy")),
					statecheck.ExpectKnownValue("pxc_cluster.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
				Check: func(*terraform.State) error {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					defer cancel()
					if err := waitSyncedAgain(ctx, st, stopped); err != nil {
						return err
					}
					u, err := mariadbUnit(ctx, t, st, stopped)
					if err == nil && u.active != "active" {
						err = fmt.Errorf("%s: the repair left mariadb.service %s, want active", stopped, u.active)
					}
					return err
				},
			},
			{
				ResourceName:            "pxc_lb_pool.multi",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "members.0.operating_status", "members.1.operating_status", "members.2.operating_status"},
			},
		},
	})
}

// nodeNotWriting names a node the single_writer pool does not send writes
// to now.
func nodeNotWriting(t *testing.T, st lbState) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := galeratest.Open(st.single, "root", st.password)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writer, err := galeratest.NodeOf(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(st.nodeIPs))
	for n := range st.nodeIPs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n != writer {
			return n
		}
	}
	t.Fatalf("no node other than the writer %s in %v", writer, names)
	return ""
}
