package provider

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// cidrsConfig is a cluster root may reach from this machine and from the
// given extra network, with a single-writer load balancer in front. The
// load balancer opens MySQL to its VIP subnet with a rule of its own.
func (lc localCloud) cidrsConfig(name string, extraCIDRs ...string) string {
	cidrs := []string{fmt.Sprintf("%q", lc.gateway+"/32")}
	for _, c := range extraCIDRs {
		cidrs = append(cidrs, fmt.Sprintf("%q", c))
	}
	cluster := strings.Replace(lc.accClusterConfig(name, ""), fmt.Sprintf("[%q]", lc.gateway+"/32"), "["+strings.Join(cidrs, ", ")+"]", 1)
	return cluster + `
resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`
}

// vipWrites is a write loop through the load balancer that runs across
// test steps.
type vipWrites struct {
	mu   sync.Mutex
	stop context.CancelFunc
	done chan *galeratest.Log
	db   interface{ Close() error }
	// table is where the loop writes; empty: cidrsTable. A loop started
	// again needs a new table (its sequence numbers start at 1).
	table string
	// maxGap bounds the longest time without an acknowledged write during
	// a change; zero: 10 s.
	maxGap time.Duration
}

func (w *vipWrites) tableName() string {
	if w.table == "" {
		return cidrsTable
	}
	return w.table
}

const (
	cidrsTable    = "acc.cidrs"
	cidrsAppUser  = "app"
	cidrsAppPass  = "app-Pa55word-for-the-test"
	removedCIDR   = "192.0.2.0/24"
	removedRootAt = "192.0.2.0/255.255.255.0"
)

// Changing allowed_cidrs on a cluster behind a pxc_lb_pool: the load
// balancer's access stays, so SQL through the VIP keeps working during
// and after the apply, no acknowledged write is lost, every node stays
// Synced, the root accounts the provider made for the removed networks are
// dropped (and no other), and the next plan is empty (issue 10 defects 1
// and 6). allowed_cidrs first holds the load balancer's VIP subnet too, so
// the one MySQL rule for that subnet is the cluster's (Neutron refuses a
// second); narrowing it away must leave that access to the load balancer.
func TestAccClusterAllowedCIDRsBehindLoadBalancer(t *testing.T) {
	lc := requireLocalCloud(t)
	name := "acccidr-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	logPath := t.TempDir() + "/debug.log"
	t.Setenv("TF_LOG", "DEBUG")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	w := &vipWrites{}
	t.Cleanup(func() { w.finish() })
	var applyStarted time.Time
	vipSubnetRootAt := rootHostOf(t, lc.subnet)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeft(t),
		Steps: []resource.TestStep{
			{
				Config: lc.cidrsConfig(name, removedCIDR, lc.subnet),
				Check: resource.ComposeTestCheckFunc(
					checkNoRuleConflicts(t, logPath),
					checkRootAccounts([]string{lc.gateway, removedRootAt, vipSubnetRootAt}, nil),
					w.start,
				),
			},
			{
				PreConfig: func() { applyStarted = time.Now() },
				Config:    lc.cidrsConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error { return w.check(t, s, applyStarted) },
					checkRootAccounts([]string{lc.gateway}, []string{removedRootAt, vipSubnetRootAt}),
				),
			},
		},
	})
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

// start creates an application account (the test's, not the provider's)
// that may log in through the VIP and starts writing through it.
func (w *vipWrites) start(s *terraform.State) error {
	st, err := readCIDRsState(s)
	if err != nil {
		return err
	}
	return w.startOn(st)
}

// startOn is start with the cluster's addresses and root password given.
func (w *vipWrites) startOn(st cidrsState) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := openVIPApp(ctx, st.ips[0], st.password, st.vip, w.tableName())
	if err != nil {
		return err
	}
	loopCtx, stop := context.WithCancel(context.Background())
	w.mu.Lock()
	w.stop, w.db, w.done = stop, db, make(chan *galeratest.Log, 1)
	done := w.done
	w.mu.Unlock()
	table := w.tableName()
	go func() { done <- galeratest.RunWrites(loopCtx, db, table, 200*time.Millisecond) }()
	time.Sleep(3 * time.Second)
	return nil
}

// finish stops the write loop, if it runs, and returns its log.
func (w *vipWrites) finish() *galeratest.Log {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop == nil {
		return nil
	}
	w.stop()
	log := <-w.done
	w.db.Close()
	w.stop = nil
	return log
}

// check: writes were acknowledged through the VIP after the apply began
// and a new connection through it works now; then every acknowledged write
// is on every node and every node is Synced.
func (w *vipWrites) check(t *testing.T, s *terraform.State, applyStarted time.Time) error {
	st, err := readCIDRsState(s)
	if err != nil {
		return err
	}
	return w.checkOn(t, st, applyStarted, "allowed_cidrs change")
}

// checkOn is check with the cluster's addresses and root password given;
// what names the change in messages.
func (w *vipWrites) checkOn(t *testing.T, st cidrsState, applyStarted time.Time, what string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	time.Sleep(3 * time.Second) // writes after the apply, through new connections
	checkedAt := time.Now()
	time.Sleep(2 * time.Second)
	log := w.finish()
	if log == nil {
		return fmt.Errorf("the write loop was not running")
	}
	if _, ok := log.FirstAfter(checkedAt); !ok {
		return fmt.Errorf("no write through the VIP was acknowledged after the %s (%d acked, %d failed, last error: %v)",
			what, len(log.Acked), len(log.Failed), log.LastErr)
	}
	gap, from := log.LongestGap(applyStarted)
	t.Logf("%s: %d writes acknowledged through the VIP, %d failed; longest gap %s, %s after the loop started",
		what, len(log.Acked), len(log.Failed), gap.Round(10*time.Millisecond), from.Sub(log.Started).Round(time.Second))
	if limit := cmp.Or(w.maxGap, 10*time.Second); gap > limit {
		return fmt.Errorf("no write acknowledged through the VIP for %s during the %s, more than %s (last error: %v)", gap, what, limit, log.LastErr)
	}
	fresh, err := galeratest.Open(st.vip, cidrsAppUser, cidrsAppPass)
	if err != nil {
		return err
	}
	defer fresh.Close()
	if _, err := galeratest.NodeOf(ctx, fresh); err != nil {
		return fmt.Errorf("a new connection through the VIP %s fails after the change: %w", st.vip, err)
	}
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
		missing, err := galeratest.MissingAcked(ctx, db, w.tableName(), log.Acked)
		if err != nil {
			return fmt.Errorf("node %s: %w", ip, err)
		}
		if len(missing) > 0 {
			return fmt.Errorf("node %s misses %d acknowledged writes: %v", ip, len(missing), missing)
		}
	}
	return nil
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
