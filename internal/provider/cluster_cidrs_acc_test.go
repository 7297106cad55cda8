package provider

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// cidrsCluster is a cluster root may reach from this machine and from the
// given extra networks.
func (lc localCloud) cidrsCluster(name string, extraCIDRs ...string) string {
	cidrs := []string{fmt.Sprintf("%q", lc.gateway+"/32")}
	for _, c := range extraCIDRs {
		cidrs = append(cidrs, fmt.Sprintf("%q", c))
	}
	return strings.Replace(lc.accClusterConfig(name, ""), fmt.Sprintf("[%q]", lc.gateway+"/32"), "["+strings.Join(cidrs, ", ")+"]", 1)
}

// cidrsConfig is cidrsCluster with a single-writer pxc_lb_pool in front.
// The load balancer opens MySQL to its VIP subnet with a rule of its own.
func (lc localCloud) cidrsConfig(name string, extraCIDRs ...string) string {
	return lc.cidrsCluster(name, extraCIDRs...) + `
resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`
}

// ownLBConfig is cidrsCluster with its own single-writer load balancer
// (the load_balancer block) instead of a pxc_lb_pool.
func (lc localCloud) ownLBConfig(name string, extraCIDRs ...string) string {
	return strings.Replace(lc.cidrsCluster(name, extraCIDRs...), `resource "pxc_cluster" "test" {`,
		"resource \"pxc_cluster\" \"test\" {\n  load_balancer = { mode = \"single_writer\" }", 1)
}

// loadBalancersNaming counts the load balancers whose fields name cluster.
func (lc localCloud) loadBalancersNaming(t *testing.T, cluster string) int {
	var inv inventory
	if err := json.Unmarshal(lc.admin(t, http.MethodGet, "/inventory", nil), &inv); err != nil {
		t.Fatalf("read local cloud inventory: %v", err)
	}
	n := 0
	for _, lb := range inv.LoadBalancers {
		if strings.Contains(string(lb), cluster) {
			n++
		}
	}
	return n
}

const (
	cidrsTable    = "acc.cidrs"
	cidrsAppUser  = "app"
	cidrsAppPass  = "app-Pa55word-for-the-test"
	removedCIDR   = "192.0.2.0/24"
	removedRootAt = "192.0.2.0/255.255.255.0"
	// vipMaxGap bounds the longest time without a write acknowledged
	// through the VIP during a change that must not interrupt the load
	// balancer's access (allowed_cidrs, TLS, online changes).
	vipMaxGap = 10 * time.Second
)

// Changing allowed_cidrs on a cluster behind its own load balancer (the
// load_balancer block): the load balancer's access stays, so SQL through
// the VIP keeps working during and after the apply, no acknowledged write
// is lost, every node stays Synced, the root accounts the provider made
// for the removed networks are dropped (and no other), and the next plan
// is empty (issue 10 defects 1 and 6). allowed_cidrs first holds the load
// balancer's VIP subnet too, so the one MySQL rule for that subnet is the
// cluster's (Neutron refuses a second); narrowing it away must leave that
// access to the load balancer. An import restores the block. Then the
// block goes: the load balancer is deleted in place, the nodes stay.
func TestAccClusterAllowedCIDRsBehindLoadBalancer(t *testing.T) {
	lc := requireLocalCloud(t)
	name := "acccidr-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	logPath := t.TempDir() + "/debug.log"
	t.Setenv("TF_LOG", "DEBUG")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	w := &dayTwoWrites{atOnce: true}
	t.Cleanup(func() { w.stop() })
	var applyStarted time.Time
	var serverIDs []string
	vipSubnetRootAt := rootHostOf(t, lc.subnet)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: lc.ownLBConfig(name, removedCIDR, lc.subnet),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttrSet("pxc_cluster.test", "load_balancer.id"),
					resource.TestCheckResourceAttrSet("pxc_cluster.test", "load_balancer.vip_address"),
					checkNoRuleConflicts(t, logPath),
					checkRootAccounts([]string{lc.gateway, removedRootAt, vipSubnetRootAt}, nil),
					w.startState(cidrsTable),
				),
			},
			{
				PreConfig: func() { applyStarted = time.Now() },
				// The data source finds the cluster's load balancer too.
				Config: lc.ownLBConfig(name) + `
data "pxc_cluster" "lookup" {
  name = pxc_cluster.test.name
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("pxc_cluster.test", tfjsonpath.New("load_balancer").AtMapKey("vip_address"), knownvalue.NotNull()),
				}},
				Check: resource.ComposeTestCheckFunc(
					w.checkState(t, "allowed_cidrs change", &applyStarted, vipMaxGap),
					resource.TestCheckResourceAttrPair("data.pxc_cluster.lookup", "load_balancer.vip_address", "pxc_cluster.test", "load_balancer.vip_address"),
					resource.TestCheckResourceAttr("data.pxc_cluster.lookup", "load_balancer.mode", "single_writer"),
					checkRootAccounts([]string{lc.gateway}, []string{removedRootAt, vipSubnetRootAt}),
					func(s *terraform.State) error { serverIDs = stateServerIDs(s); return nil },
				),
			},
			{
				// An import finds the load balancer and restores the block.
				ResourceName:            "pxc_cluster.test",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: clusterImportVerifyIgnore,
			},
			{
				Config: lc.cidrsCluster(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckNoResourceAttr("pxc_cluster.test", "load_balancer.id"),
					func(s *terraform.State) error {
						if n := lc.loadBalancersNaming(t, name); n != 0 {
							return fmt.Errorf("%d load balancers of cluster %s left after the load_balancer block went", n, name)
						}
						if got := stateServerIDs(s); !slices.Equal(got, serverIDs) {
							return fmt.Errorf("servers changed with the load balancer: %v, were %v", got, serverIDs)
						}
						return nil
					},
				),
			},
		},
	})
}

// stateServerIDs are the servers of pxc_cluster.test, as state lists them.
func stateServerIDs(s *terraform.State) []string {
	var ids []string
	for i := 0; ; i++ {
		id, ok := s.RootModule().Resources["pxc_cluster.test"].Primary.Attributes[fmt.Sprintf("nodes.%d.id", i)]
		if !ok {
			return ids
		}
		ids = append(ids, id)
	}
}

// rootHostOf is the host part MySQL keeps for a root account of the
// network cidr: "10.0.0.0/255.255.255.0".
func rootHostOf(t *testing.T, cidr string) string {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatalf("local cloud subnet %q: %v", cidr, err)
	}
	return p.Masked().Addr().String() + "/" + net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

// checkRootAccounts: root may log in from each of present and from none of
// gone (hosts as in mysql.user).
func checkRootAccounts(present, gone []string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := readCIDRsState(s)
		if err != nil {
			return err
		}
		db, err := openRoot(net.JoinHostPort(st.ips[0], "3306"), st.password)
		if err != nil {
			return err
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, "SELECT host FROM mysql.user WHERE user = 'root'")
		if err != nil {
			return err
		}
		defer rows.Close()
		var hosts []string
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			hosts = append(hosts, h)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, h := range present {
			if !slices.Contains(hosts, h) {
				return fmt.Errorf("no root@%s account; root accounts: %v", h, hosts)
			}
		}
		for _, h := range gone {
			if slices.Contains(hosts, h) {
				return fmt.Errorf("root@%s is still there after its network left allowed_cidrs; root accounts: %v", h, hosts)
			}
		}
		return nil
	}
}

// checkNoRuleConflicts reads the provider's own request log (TF_LOG=DEBUG:
// "OpenStack response" with method, url and status per attempt): no
// security group rule request was answered 409 (issue 17 item 5).
func checkNoRuleConflicts(t *testing.T, logPath string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		log, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		status := regexp.MustCompile(`\bstatus=(\d+)`)
		posts := 0
		for _, line := range strings.Split(string(log), "\n") {
			if !strings.Contains(line, "OpenStack response") || !strings.Contains(line, "/security-group-rules") {
				continue
			}
			if strings.Contains(line, "method=POST") {
				posts++
			}
			if m := status.FindStringSubmatch(line); m != nil && m[1] == "409" {
				return fmt.Errorf("a security group rule request was answered 409: %s", line)
			}
		}
		if posts == 0 {
			return fmt.Errorf("the provider's request log (%s) shows no security group rule POST", logPath)
		}
		t.Logf("%d security group rule POSTs, none answered 409", posts)
		return nil
	}
}

type cidrsState struct {
	password string
	vip      string
	ips      []string
}

func readCIDRsState(s *terraform.State) (cidrsState, error) {
	password, err := stateAttr(s, "pxc_cluster.test", "root_password")
	if err != nil {
		return cidrsState{}, err
	}
	return readOnlineState(s, password)
}

// openVIPApp creates the application account on the first node and opens
// it through the VIP once the table is ready there: members come ONLINE
// after their first health checks.
func openVIPApp(ctx context.Context, firstIP, rootPassword, vip, table string) (*sql.DB, error) {
	node, err := openRoot(net.JoinHostPort(firstIP, "3306"), rootPassword)
	if err != nil {
		return nil, err
	}
	defer node.Close()
	for _, q := range []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", cidrsAppUser, cidrsAppPass),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON acc.* TO '%s'@'%%'", cidrsAppUser),
	} {
		if _, err := node.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	db, err := galeratest.Open(vip, cidrsAppUser, cidrsAppPass)
	if err != nil {
		return nil, err
	}
	if err := eventually(ctx, time.Minute, func() error { return galeratest.Prepare(ctx, db, table) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("through the VIP %s: %w", vip, err)
	}
	return db, nil
}
