package provider

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// maxShrinkGap bounds the longest time without an acknowledged write
// through the VIP while a shrink removes the writer's node.
const maxShrinkGap = 2 * time.Second

// node_count 3 -> 5 -> 3 on one cluster behind a single-writer pxc_lb_pool
// (and its own multi-writer load balancer on the same subnet, whose rules
// the pool shares) with writes through the pool's VIP all along (issue
// 11): the grow adds name-4 and name-5, the shrink removes them; before
// the shrink the writer is moved to name-5, so the shrink must move it
// away first. After each apply: both load balancers have exactly the live
// members, every node is Synced and
// holds every acknowledged write, the plan is empty; after the shrink the
// removed servers and volumes are gone from the cloud and no write waited
// longer than maxShrinkGap.
func TestAccClusterGrowAndShrinkBehindLoadBalancer(t *testing.T) {
	t.Parallel()
	lc := requireLocalCloud(t)
	name := "accgrow-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	config := func(count int) string {
		// The local cloud has three hypervisors: five nodes share them.
		// The cluster has a multi-writer load balancer of its own too.
		return lc.cidrsConfigWith(name, fmt.Sprintf("  node_count    = %d\n  anti_affinity = \"soft-anti-affinity\"\n  load_balancer = { mode = \"multi_writer\" }\n", count))
	}
	run := &membershipRun{t: t}
	t.Cleanup(run.stop)
	var growStarted, shrinkStarted time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{
			{
				Config: config(3),
				Check:  func(s *terraform.State) error { return run.startWrites(s, "acc.grow") },
			},
			{
				PreConfig: func() { growStarted = time.Now() },
				Config:    config(5),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pxc_lb_pool.single", plancheck.ResourceActionNoop),
				}},
				Check: func(s *terraform.State) error {
					if err := run.check(s, 5, growStarted, 0); err != nil {
						return err
					}
					if err := run.checkOnlyWriter("acc.grow", name+"-1"); err != nil {
						return err
					}
					if err := run.checkNoBackupMember(s); err != nil {
						return err
					}
					return run.startWrites(s, "acc.shrink")
				},
			},
			{
				PreConfig: func() {
					run.moveWriterTo(name + "-5")
					shrinkStarted = time.Now()
				},
				Config: config(3),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pxc_cluster.test", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if err := run.check(s, 3, shrinkStarted, maxShrinkGap); err != nil {
						return err
					}
					return run.checkNodesGone(s, name, 4, 5)
				},
			},
		},
	})
}

// cidrsConfigWith is cidrsConfig with extra lines in the cluster block.
func (lc localCloud) cidrsConfigWith(name, extra string) string {
	cluster := lc.accClusterConfig(name, extra)
	return cluster + `
resource "pxc_lb_pool" "single" {
  cluster_id = pxc_cluster.test.id
  mode       = "single_writer"
}
`
}

// vipState is what the checks read from state: the VIP, the load
// balancer, the root password and every node's address.
type vipState struct {
	vip, lbID, password string
	ips                 []string
}

// cidrs is the part dayTwoWrites needs.
func (st vipState) cidrs() cidrsState {
	return cidrsState{password: st.password, vip: st.vip, ips: st.ips}
}

func readVIPState(s *terraform.State) (vipState, error) {
	var st vipState
	var err error
	if st.password, err = stateAttr(s, "pxc_cluster.test", "root_password"); err != nil {
		return st, err
	}
	if st.lbID, err = stateAttr(s, "pxc_lb_pool.single", "id"); err != nil {
		return st, err
	}
	vip, err := stateAttr(s, "pxc_lb_pool.single", "vip_address")
	if err != nil {
		return st, err
	}
	st.vip = net.JoinHostPort(vip, "3306")
	n, err := stateAttr(s, "pxc_cluster.test", "ips.#")
	if err != nil {
		return st, err
	}
	count, _ := strconv.Atoi(n)
	for i := 0; i < count; i++ {
		ip, err := stateAttr(s, "pxc_cluster.test", fmt.Sprintf("ips.%d", i))
		if err != nil {
			return st, err
		}
		st.ips = append(st.ips, ip)
	}
	return st, nil
}

// membershipRun is the scenario's write loops through the VIP (one per
// step, each into its own table) and the cluster as the last check saw it.
type membershipRun struct {
	t     *testing.T
	state vipState
	w     dayTwoWrites
}

// startWrites lets the test's application account log in through the VIP
// and starts writing into table.
func (r *membershipRun) startWrites(s *terraform.State, table string) error {
	st, err := readVIPState(s)
	if err != nil {
		return err
	}
	r.state = st
	return r.w.start(st.cidrs(), table)
}

func (r *membershipRun) stop() { r.w.stop() }

// moveWriterTo records node as the writer, as a failover would (the
// responders follow on their next checks), and waits until new
// connections through the VIP land there.
func (r *membershipRun) moveWriterTo(node string) {
	t := r.t
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := r.state
	addr := ""
	for _, ip := range st.ips {
		db, err := openRoot(net.JoinHostPort(ip, "3306"), st.password)
		if err != nil {
			t.Fatal(err)
		}
		name, err := queryString(ctx, db, "SELECT @@wsrep_node_name")
		db.Close()
		if err != nil {
			t.Fatalf("node %s: %v", ip, err)
		}
		if name == node {
			addr = ip
		}
	}
	if addr == "" {
		t.Fatalf("no node named %s among %v", node, st.ips)
	}
	db, err := openRoot(net.JoinHostPort(st.ips[0], "3306"), st.password)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "UPDATE pxc_guest.writer SET address = ? WHERE id = 1", addr); err != nil {
		t.Fatalf("move the writer to %s: %v", node, err)
	}
	vip, err := galeratest.Open(st.vip, cidrsAppUser, cidrsAppPass)
	if err != nil {
		t.Fatal(err)
	}
	defer vip.Close()
	if err := eventually(ctx, time.Minute, func() error {
		got, err := galeratest.NodeOf(ctx, vip)
		if err == nil && got != node {
			err = fmt.Errorf("the VIP answers from %s, want %s", got, node)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // writes acknowledged by the new writer
}

// check: the pool's members are exactly the cluster's nodes; writes were
// acknowledged through the VIP after the apply, with no gap longer than
// maxGap since it began (0: only logged); every node is Synced in a
// cluster of want and holds every write any loop acknowledged.
func (r *membershipRun) check(s *terraform.State, want int, since time.Time, maxGap time.Duration) error {
	t := r.t
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := readVIPState(s)
	if err != nil {
		return err
	}
	if len(st.ips) != want {
		return fmt.Errorf("state has %d node addresses, want %d", len(st.ips), want)
	}
	r.state = st
	ownLB, err := stateAttr(s, "pxc_cluster.test", "load_balancer.id")
	if err != nil {
		return err
	}
	ips := slices.Clone(st.ips)
	slices.Sort(ips)
	// Both load balancers, on one subnet: they share their security group
	// rules, and each must still follow the nodes.
	for what, id := range map[string]string{"pxc_lb_pool": st.lbID, "the cluster's load balancer": ownLB} {
		lb, err := accOpenStackClient(t).GetLoadBalancerStatus(ctx, id)
		if err != nil {
			return err
		}
		_, pool := lb.FirstPool()
		var members []string
		for _, m := range pool.Members {
			members = append(members, m.Address)
		}
		slices.Sort(members)
		if !slices.Equal(members, ips) {
			return fmt.Errorf("members of %s %v, want exactly the nodes %v", what, members, ips)
		}
	}
	return r.w.check(t, st.cidrs(), fmt.Sprintf("node_count -> %d", want), since, maxGap)
}

// checkOnlyWriter: every write of the finished loop into table was
// acknowledged by writer. A single-writer pool sends no connection to a
// member it adds before the member's first health check has failed.
func (r *membershipRun) checkOnlyWriter(table, writer string) error {
	seen := map[string]int{}
	for _, w := range r.w.acked[table] {
		seen[w.Node]++
	}
	if len(seen) != 1 || seen[writer] == 0 {
		return fmt.Errorf("writes into %s acknowledged by node %v, want all by the writer %s", table, seen, writer)
	}
	return nil
}

// checkNoBackupMember: the pool's members all ended non-backup (a new
// member is a backup only until its first health check).
func (r *membershipRun) checkNoBackupMember(s *terraform.State) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	poolID, err := stateAttr(s, "pxc_lb_pool.single", "pool_id")
	if err != nil {
		return err
	}
	members, err := accOpenStackClient(r.t).ListPoolMembers(ctx, poolID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Backup {
			return fmt.Errorf("pool member %s (%s) is still a backup", m.Name, m.Address)
		}
	}
	return nil
}

// checkNodesGone asks the cloud: the removed nodes' servers and volumes
// no longer exist, and three servers of the cluster do.
func (r *membershipRun) checkNodesGone(s *terraform.State, name string, indexes ...int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := accOpenStackClient(r.t)
	servers, err := cl.ListServers(ctx, name+"-", nil)
	if err != nil {
		return err
	}
	volumes, err := cl.ListVolumes(ctx, name+"-", nil)
	if err != nil {
		return err
	}
	for _, i := range indexes {
		node := fmt.Sprintf("%s-%d", name, i)
		for _, sv := range servers {
			if sv.Name == node {
				return fmt.Errorf("server %s (%s) still exists", node, sv.ID)
			}
		}
		for _, v := range volumes {
			if v.Name == node+"-data" {
				return fmt.Errorf("volume %s (%s) still exists", v.Name, v.ID)
			}
		}
	}
	if len(servers) != 3 || len(volumes) != 3 {
		return fmt.Errorf("%d servers and %d volumes named %s-*, want 3 of each", len(servers), len(volumes), name)
	}
	return nil
}
