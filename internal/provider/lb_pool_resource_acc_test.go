package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
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
	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
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

// checkFailover kills mysqld on the writer while a client writes through
// the single_writer address: writes must go on from another node within a
// few seconds, and no acknowledged write may be lost.
func (lc localCloud) checkFailover(t *testing.T) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
		loopCtx, stop := context.WithCancel(ctx)
		logCh := make(chan *galeratest.Log, 1)
		go func() { logCh <- galeratest.RunWrites(loopCtx, db, "acc.failover", 100*time.Millisecond) }()
		time.Sleep(3 * time.Second)

		if err := lc.killMySQL(ctx, t, st, writer); err != nil {
			stop()
			<-logCh
			return err
		}
		killed := time.Now() // SIGKILL delivered: nothing acknowledged after this can come from the writer
		// Keep writing long enough to see the new writer settle.
		time.Sleep(15 * time.Second)
		stop()
		log := <-logCh
		next, ok := log.FirstAfter(killed)
		if !ok {
			return fmt.Errorf("no write through the load balancer succeeded after mysqld on %s was killed (last error: %v)", writer, log.LastErr)
		}
		if next.Node == writer {
			return fmt.Errorf("after killing %s, the next write was acknowledged by %s", writer, next.Node)
		}
		gap, _ := log.LongestGap(killed.Add(-time.Second))
		t.Logf("failover: mysqld on %s killed; writes resumed on %s after %s (longest gap without an acknowledged write %s, %d failed attempts)",
			writer, next.Node, next.At.Sub(killed).Round(10*time.Millisecond), gap.Round(10*time.Millisecond), len(log.Failed))
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
		return nil
	}
}

// killMySQL kills -9 the database server of one node over SSH, trusting
// the host key its console shows.
func (lc localCloud) killMySQL(ctx context.Context, t *testing.T, st lbState, node string) error {
	cl := accOpenStackClient(t)
	console, err := cl.ConsoleOutput(ctx, st.serverIDs[node], 0)
	if err != nil {
		return err
	}
	fps := regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`).FindAllString(console, -1)
	ssh, err := guest.DialSSH(ctx, guest.SSHTarget{Addr: st.nodeIPs[node], User: "root", PrivateKey: []byte(st.privateKey), HostKeyFingerprints: fps}, nil)
	if err != nil {
		return fmt.Errorf("ssh to %s: %w", node, err)
	}
	defer ssh.Close()
	if _, err := ssh.Run(ctx, "pkill -9 -x mariadbd; pkill -9 -x mysqld; true", nil); err != nil {
		return fmt.Errorf("kill mysqld on %s: %w", node, err)
	}
	return nil
}

// Two load balancers in front of one cluster: balancing, a desynced node
// taken out and back, a writer failover without lost writes, import, and
// nothing left after destroy.
func TestAccLBPoolResource(t *testing.T) {
	lc := requireLocalCloud(t)
	name := "acclb-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	var multiID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeft(t),
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
					checkTLSThroughVIP("pxc_cluster.test", "pxc_lb_pool.multi"), lc.checkFailover(t),
					func(s *terraform.State) error {
						id, err := stateAttr(s, "pxc_lb_pool.multi", "id")
						multiID = id
						return err
					}),
				// The failover killed the old writer's mysqld: the refresh
				// finds it down and plans the cluster's repair (and only that).
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("pxc_lb_pool.multi", plancheck.ResourceActionNoop),
				}},
			},
			{
				// Octavia put the load balancer in ERROR: the next apply
				// replaces it.
				PreConfig: func() { lc.admin(t, http.MethodPost, "/loadbalancers/"+multiID+"/error", nil) },
				Config:    lc.lbConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_lb_pool.multi", plancheck.ResourceActionReplace),
					plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
					// The same apply repairs the node the failover killed.
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pxc_lb_pool.multi", tfjsonpath.New("provisioning_status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue("pxc_cluster.test", tfjsonpath.New("health"), knownvalue.StringExact("healthy")),
					statecheck.ExpectKnownValue("pxc_cluster.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
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
