package provider

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const (
	rollPassword     = "Root-pw-of-the-server-roll-test"
	rollUpdatedImage = "debian-12-mariadb-galera-updated" // the local cloud's second MariaDB image
	rollStaticTable  = "acc.roll_static"
	rollStaticRows   = 500
)

// rollConfig is a 3-node cluster on flavor and image behind a single-
// writer pool; root may log in from this machine and the VIP subnet.
func (lc localCloud) rollConfig(name, flavor, image string) string {
	return fmt.Sprintf(`
resource "pxc_cluster" "test" {
  name = %[1]q
  datastore = {
    type    = "mariadb"
    version = "10.11"
  }
  flavor        = %[2]q
  image         = %[3]q
  network       = %[4]q
  volume        = { size = 1 }
  sst_method    = "rsync"
  parameters    = { innodb_buffer_pool_size = "64M" }
  allowed_cidrs = [%[5]q, %[6]q]
  root_password = %[7]q
}

resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`, name, flavor, image, lc.network, lc.gateway+"/32", lc.subnet, rollPassword)
}

// A flavor change and an image change of a running cluster, on one
// cluster behind a single-writer pool with writes through its VIP during
// every apply (no acknowledged write lost, no gap over 2 s, every node
// Synced after, the plan empty after each converged apply). The roll goes
// <name>-2, <name>-3, then the writer <name>-1; the local cloud refuses
// the resize of the second node of the roll (<name>-3): the apply fails
// naming it, it stays on the old flavor and in the cluster, the next plan
// shows the roll unfinished (the prior state's nodes[*].flavor) and the
// next apply resizes only the remaining nodes (Nova's flavor per server;
// <name>-2's mysqld does not restart again). Then an image change rebuilds
// every node, keeping the data (row count and CHECKSUM TABLE on every
// node as before).
func TestAccClusterServerRoll(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	name := "accroll-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	node := func(i int) string { return fmt.Sprintf("%s-%d", name, i) }
	w := &dayTwoWrites{atOnce: true}
	t.Cleanup(func() { w.stop() })
	var applyStarted time.Time
	var static string      // row count and checksum of the static table
	var firstResized int64 // uptime of the node the failed apply resized
	onState := func(check func(st cidrsState) error) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			st, err := readOnlineState(s, rollPassword)
			if err != nil {
				return err
			}
			return check(st)
		}
	}
	startWrites := func(table string) resource.TestCheckFunc {
		return onState(func(st cidrsState) error { return w.start(st, table) })
	}
	checkWrites := func(what string) resource.TestCheckFunc {
		return onState(func(st cidrsState) error { return w.check(t, st, what, applyStarted, 2*time.Second) })
	}
	servers := func(want func(name, flavor, image string) error) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := accOpenStackClient(t).ListServers(ctx, name+"-", nil)
		if err != nil {
			return err
		}
		if len(list) != 3 {
			return fmt.Errorf("%d servers named %s-*, want 3", len(list), name)
		}
		for _, s := range list {
			if err := want(s.Name, s.FlavorName, s.ImageID); err != nil {
				return err
			}
		}
		return nil
	}
	flavors := func(want map[string]string) error {
		return servers(func(n, flavor, _ string) error {
			if flavor != want[n] {
				return fmt.Errorf("Nova has %s on flavor %s, want %s", n, flavor, want[n])
			}
			return nil
		})
	}
	update := []plancheck.PlanCheck{
		plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
		plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
	}
	var imagesBefore map[string]string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: lc.rollConfig(name, "m1.small", lc.image),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("pxc_cluster.test", "writer", node(1)),
					resource.TestCheckResourceAttr("pxc_cluster.test", "nodes.0.flavor", "m1.small"),
					onState(func(st cidrsState) (err error) {
						static, err = seedStaticTable(st)
						return err
					}),
					startWrites("acc.roll_flavor"),
				),
			},
			{
				// The second node of the roll: one node is resized before it.
				PreConfig: func() {
					applyStarted = time.Now()
					lc.admin(t, "POST", "/servers/"+lc.serverID(t, node(3))+"/fail-resize", nil)
				},
				Config:      lc.rollConfig(name, "m1.medium", lc.image),
				ExpectError: regexp.MustCompile(`(?s)Rolling Resize Failed.*stopped\s+at\s+node\s+` + regexp.QuoteMeta(node(3)) + `.*did\s+not\s+resize`),
			},
			{
				PreConfig: func() {
					if err := flavors(map[string]string{node(1): "m1.small", node(2): "m1.medium", node(3): "m1.small"}); err != nil {
						t.Fatalf("after the failed apply: %v", err)
					}
					ip := serverIP(t, node(2))
					up, err := uptimeOf(ip)
					if err != nil {
						t.Fatal(err)
					}
					firstResized = up
				},
				Config: lc.rollConfig(name, "m1.medium", lc.image),
				// The plan shows the roll unfinished: state says where each node is.
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(update, expectPriorNodes{
					"flavor": {node(1): "m1.small", node(2): "m1.medium", node(3): "m1.small"},
				})},
				Check: resource.ComposeTestCheckFunc(
					checkWrites("flavor roll (a refused resize, then the resumed roll)"),
					resource.TestCheckResourceAttr("pxc_cluster.test", "flavor", "m1.medium"),
					func(*terraform.State) error {
						if err := flavors(map[string]string{node(1): "m1.medium", node(2): "m1.medium", node(3): "m1.medium"}); err != nil {
							return err
						}
						// Resized in the failed apply, not again: its mysqld ran on.
						up, err := uptimeOf(serverIP(t, node(2)))
						if err != nil {
							return err
						}
						if up < firstResized {
							return fmt.Errorf("%s restarted during the resumed roll (uptime %d s, was %d s): it was resized again", node(2), up, firstResized)
						}
						imagesBefore = map[string]string{}
						return servers(func(n, _, image string) error { imagesBefore[n] = image; return nil })
					},
					onState(func(st cidrsState) error { return checkStaticTable(st, static) }),
					startWrites("acc.roll_image"),
				),
			},
			{
				PreConfig:        func() { applyStarted = time.Now() },
				Config:           lc.rollConfig(name, "m1.medium", rollUpdatedImage),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: update},
				Check: resource.ComposeTestCheckFunc(
					checkWrites("image roll"),
					func(*terraform.State) error {
						images := map[string]bool{}
						err := servers(func(n, _, image string) error {
							if image == imagesBefore[n] {
								return fmt.Errorf("%s still on image %s: not rebuilt", n, image)
							}
							images[image] = true
							return nil
						})
						if err == nil && len(images) != 1 {
							err = fmt.Errorf("the nodes are on %d images after the roll, want 1", len(images))
						}
						return err
					},
					onState(func(st cidrsState) error { return checkStaticTable(st, static) }),
				),
			},
		},
	})
}

// expectPriorNodes checks the refreshed state the plan starts from: the
// nodes' attribute (by node name) as given.
type expectPriorNodes map[string]map[string]string

func (e expectPriorNodes) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	p := req.Plan
	if p.PriorState == nil || p.PriorState.Values == nil || p.PriorState.Values.RootModule == nil {
		resp.Error = fmt.Errorf("the plan has no prior state")
		return
	}
	for _, r := range p.PriorState.Values.RootModule.Resources {
		if r.Address != "pxc_cluster.test" {
			continue
		}
		nodes, _ := r.AttributeValues["nodes"].([]any)
		var problems []string
		for attr, want := range e {
			for _, raw := range nodes {
				n, _ := raw.(map[string]any)
				name, _ := n["name"].(string)
				if got, _ := n[attr].(string); want[name] != "" && got != want[name] {
					problems = append(problems, fmt.Sprintf("%s.%s = %q, want %q", name, attr, got, want[name]))
				}
			}
		}
		if len(nodes) != 3 {
			problems = append(problems, fmt.Sprintf("%d nodes", len(nodes)))
		}
		if len(problems) > 0 {
			resp.Error = fmt.Errorf("prior state: %s", strings.Join(problems, "; "))
		}
		return
	}
	resp.Error = fmt.Errorf("pxc_cluster.test is not in the plan's prior state")
}

// serverIP is the fixed address Nova gives the server of that name.
func serverIP(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := accOpenStackClient(t).ListServers(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == name {
			return s.FirstIP()
		}
	}
	t.Fatalf("no server is named %s", name)
	return ""
}

// uptimeOf is the mysqld Uptime of the node at ip, in seconds.
func uptimeOf(ip string) (int64, error) {
	up, err := serverUptimes(cidrsState{password: rollPassword, ips: []string{ip}})
	return up[ip], err
}

// seedStaticTable writes a table no write loop touches and returns its
// row count and checksum.
func seedStaticTable(st cidrsState) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := openRoot(net.JoinHostPort(st.ips[0], "3306"), st.password)
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS acc",
		"CREATE TABLE " + rollStaticTable + " (id INT PRIMARY KEY, v VARCHAR(64) NOT NULL)",
		fmt.Sprintf("INSERT INTO %s SELECT seq, SHA2(seq, 256) FROM acc.seq_1_to_%d", rollStaticTable, rollStaticRows),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("%s: %w", q, err)
		}
	}
	return staticSummary(ctx, db)
}

// checkStaticTable: every node has the table as seeded.
func checkStaticTable(st cidrsState, want string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ip := range st.ips {
		db, err := openRoot(net.JoinHostPort(ip, "3306"), st.password)
		if err != nil {
			return err
		}
		got, err := staticSummary(ctx, db)
		db.Close()
		if err != nil {
			return fmt.Errorf("node %s: %w", ip, err)
		}
		if got != want {
			return fmt.Errorf("node %s has %s, want %s", ip, got, want)
		}
	}
	return nil
}

// staticSummary is "<rows> rows, checksum <n>" of the static table, read
// after the node applied every write it has received.
func staticSummary(ctx context.Context, db *sql.DB) (string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
		return "", err
	}
	var rows int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+rollStaticTable).Scan(&rows); err != nil {
		return "", err
	}
	var table string
	var sum sql.NullInt64
	if err := conn.QueryRowContext(ctx, "CHECKSUM TABLE "+rollStaticTable).Scan(&table, &sum); err != nil {
		return "", err
	}
	if rows != rollStaticRows || !sum.Valid {
		return "", fmt.Errorf("%s has %d rows (want %d), checksum %v", rollStaticTable, rows, rollStaticRows, sum)
	}
	return fmt.Sprintf("%d rows, checksum %d", rows, sum.Int64), nil
}
