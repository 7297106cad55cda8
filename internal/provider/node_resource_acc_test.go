package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

const nodeAccTable = "acc.nodes"

// nodeAccConfig is a 2-data-node cluster behind a single-writer pool with
// a pxc_node arbitrator, and with reader, a data pxc_node of another
// flavor.
func (lc localCloud) nodeAccConfig(name string, reader bool) string {
	// Soft anti-affinity: the local cloud has 3 hypervisors for 4 servers.
	cfg := lc.accClusterConfig(name, "  node_count = 2\n  anti_affinity = \"soft-anti-affinity\"") + `
resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}

resource "pxc_node" "witness" {
  cluster_id      = pxc_cluster.test.id
  role            = "arbitrator"
  flavor          = "m1.tiny"
  root_password   = pxc_cluster.test.root_password
  ssh_private_key = pxc_cluster.test.generated_private_key
  parameters      = pxc_cluster.test.parameters
  ca_certificate  = pxc_cluster.test.ca_certificate
  ca_key          = pxc_cluster.test.generated_ca_key
}
`
	if reader {
		cfg += `
resource "pxc_node" "reader" {
  cluster_id      = pxc_cluster.test.id
  flavor          = "m1.medium"
  root_password   = pxc_cluster.test.root_password
  ssh_private_key = pxc_cluster.test.generated_private_key
  parameters      = pxc_cluster.test.parameters
  ca_certificate  = pxc_cluster.test.ca_certificate
  ca_key          = pxc_cluster.test.generated_ca_key
  depends_on      = [pxc_node.witness, pxc_lb_pool.single]
}
`
	}
	return cfg
}

// pxc_node (issue 11), on one cluster of 2 data nodes behind a
// single-writer pool, with continuous writes through the VIP:
//   - an arbitrator pxc_node makes 3 voting members (every data node counts
//     it) with no volume;
//   - a data pxc_node of another flavor joins and leaves again: 0
//     acknowledged writes lost, every data node Synced, an empty plan after
//     each apply (the test framework's own post-apply plan);
//   - then the writer's host is powered off: the other data node keeps a
//     Primary component with the arbitrator and takes writes through the VIP.
func TestAccNodeResource(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	name := "accnode-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	// The arbitrator votes but holds no data: it is no node the checks reach.
	w := &dayTwoWrites{arbitrators: 1}
	t.Cleanup(func() { w.stop() })
	var applyStarted time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: lc.nodeAccConfig(name, false),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("pxc_cluster.test", "node_count", "2"),
					resource.TestCheckResourceAttr("pxc_node.witness", "role", "arbitrator"),
					resource.TestCheckResourceAttr("pxc_node.witness", "name", name+"-3"),
					resource.TestCheckResourceAttr("pxc_node.witness", "volume_id", ""),
					resource.TestCheckResourceAttr("pxc_node.witness", "wsrep_local_state", "Synced"),
					checkDataNodes(3),
					onDataNodes(func(st cidrsState) error { return w.start(st, nodeAccTable+"1") }),
				),
			},
			{
				// Import by server id: the cluster is found from the
				// server's metadata; the credentials come from the
				// configuration, so live state is not read on import.
				ResourceName: "pxc_node.witness", ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"root_password", "ssh_private_key", "parameters", "timeouts", "wsrep_local_state", "wsrep_cluster_status", "ca_certificate", "ca_key"},
			},
			{
				PreConfig: func() { applyStarted = time.Now() },
				Config:    lc.nodeAccConfig(name, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_node.reader", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("pxc_node.witness", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("pxc_node.reader", "name", name+"-4"),
					resource.TestCheckResourceAttr("pxc_node.reader", "role", "data"),
					resource.TestCheckResourceAttr("pxc_node.reader", "flavor", "m1.medium"),
					resource.TestCheckResourceAttr("pxc_node.reader", "wsrep_local_state", "Synced"),
					resource.TestCheckResourceAttrSet("pxc_node.reader", "volume_id"),
					checkDataNodes(4, "pxc_node.reader"),
					onDataNodes(func(st cidrsState) error {
						if err := w.check(t, st, "data pxc_node joining", applyStarted, 0); err != nil {
							return err
						}
						return w.start(st, nodeAccTable+"2")
					}, "pxc_node.reader"),
				),
			},
			{
				PreConfig: func() { applyStarted = time.Now() },
				Config:    lc.nodeAccConfig(name, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_node.reader", plancheck.ResourceActionDestroy),
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeTestCheckFunc(
					checkDataNodes(3),
					onDataNodes(func(st cidrsState) error {
						if err := w.check(t, st, "data pxc_node leaving", applyStarted, 0); err != nil {
							return err
						}
						return w.start(st, nodeAccTable+"3")
					}),
				),
			},
			{
				// No apply: the writer's host goes down under a refreshed
				// state. The degraded cluster may plan a repair afterwards,
				// which this step tolerates; its assertions are the check's.
				RefreshState:       true,
				Check:              func(s *terraform.State) error { return killWriterHost(t, lc, s, w) },
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// dataNodeIPs are the addresses of the cluster's own data nodes (its
// first two ips) and of the given data pxc_nodes.
func dataNodeIPs(s *terraform.State, extra ...string) ([]string, error) {
	var ips []string
	for i := 0; i < 2; i++ {
		ip, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("ips.%d", i))
		if err != nil {
			return nil, err
		}
		ips = append(ips, ip)
	}
	for _, r := range extra {
		ip, err := stateAttr(s, r, "ip")
		if err != nil {
			return nil, err
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

// checkDataNodes: every data node (the cluster's two and the given data
// pxc_nodes) is Synced, Primary and sees size members (arbitrator included).
func checkDataNodes(size int, extra ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		password, err := stateAttr(s, "pxc_cluster.test", "root_password")
		if err != nil {
			return err
		}
		ips, err := dataNodeIPs(s, extra...)
		if err != nil {
			return err
		}
		for _, ip := range ips {
			db, err := openRoot(net.JoinHostPort(ip, "3306"), password)
			if err != nil {
				return err
			}
			defer db.Close()
			for q, want := range map[string]string{
				"SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'": "Synced",
				"SHOW GLOBAL STATUS LIKE 'wsrep_cluster_status'":      "Primary",
				"SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'":        fmt.Sprint(size),
			} {
				var k, v string
				if err := db.QueryRowContext(ctx, q).Scan(&k, &v); err != nil {
					return fmt.Errorf("node %s: %w", ip, err)
				}
				if v != want {
					return fmt.Errorf("node %s: %s = %s, want %s", ip, k, v, want)
				}
			}
		}
		return nil
	}
}

// onDataNodes runs check on the cluster's data nodes (its own two and the
// given data pxc_nodes) and its pool's VIP.
func onDataNodes(check func(st cidrsState) error, extra ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		password, err := stateAttr(s, "pxc_cluster.test", "root_password")
		if err != nil {
			return err
		}
		vip, err := stateAttr(s, "pxc_lb_pool.single", "vip_address")
		if err != nil {
			return err
		}
		ips, err := dataNodeIPs(s, extra...)
		if err != nil {
			return err
		}
		return check(cidrsState{password: password, vip: net.JoinHostPort(vip, "3306"), ips: ips})
	}
}

// killWriterHost powers off the host of the node the VIP writes to; the
// other data node, with the arbitrator, must keep a Primary component of
// 2 and take writes through the VIP again (w's loop), and stay Synced
// with every write any loop acknowledged.
func killWriterHost(t *testing.T, lc localCloud, s *terraform.State, w *dayTwoWrites) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	vip, err := stateAttr(s, "pxc_lb_pool.single", "vip_address")
	if err != nil {
		return err
	}
	db, err := galeratest.Open(net.JoinHostPort(vip, "3306"), cidrsAppUser, cidrsAppPass)
	if err != nil {
		return err
	}
	defer db.Close()
	writer, err := galeratest.NodeOf(ctx, db)
	if err != nil {
		return err
	}
	var serverID, survivorIP string
	for i := 0; i < 2; i++ {
		n, _ := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.name", i))
		id, _ := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.id", i))
		ip, _ := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("nodes.%d.ip", i))
		if n == writer {
			serverID = id
		} else {
			survivorIP = ip
		}
	}
	if serverID == "" || survivorIP == "" {
		return fmt.Errorf("writer %q is not one of the cluster's two data nodes", writer)
	}
	killedAt := time.Now()
	lc.admin(t, http.MethodPost, "/servers/"+serverID+"/poweroff", nil)
	password, err := stateAttr(s, "pxc_cluster.test", "root_password")
	if err != nil {
		return err
	}
	survivor, err := openRoot(net.JoinHostPort(survivorIP, "3306"), password)
	if err != nil {
		return err
	}
	defer survivor.Close()
	if err := eventually(ctx, time.Minute, func() error {
		var k, status, size string
		if err := survivor.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_status'").Scan(&k, &status); err != nil {
			return err
		}
		if err := survivor.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'").Scan(&k, &size); err != nil {
			return err
		}
		if status != "Primary" || size != "2" {
			return fmt.Errorf("survivor %s: %s, size %s; want Primary of 2 (itself and the arbitrator)", survivorIP, status, size)
		}
		return nil
	}); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // writes through the VIP after the failover
	log := w.stop()
	if log == nil {
		return fmt.Errorf("the write loop was not running")
	}
	last, ok := log.FirstAfter(time.Now().Add(-3 * time.Second))
	if !ok {
		return fmt.Errorf("no write acknowledged through the VIP in the 3 s before the check, after powering off %s (last error: %v)", writer, log.LastErr)
	}
	gap, _ := log.LongestGap(killedAt)
	t.Logf("writer %s powered off: the survivor keeps Primary; writes resumed through the VIP on %s, longest gap %s", writer, last.Node, gap.Round(10*time.Millisecond))
	if err := w.checkNode(ctx, survivorIP, password, 2); err != nil {
		return fmt.Errorf("the survivor, after powering off %s: %w", writer, err)
	}
	return nil
}
