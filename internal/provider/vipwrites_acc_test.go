package provider

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pxc-provider/terraform-provider-pxc/internal/galeratest"
)

// dayTwoWrites is the day-2 rule's write loop: numbered writes through the
// load balancer's VIP (internal/galeratest) while a running cluster is
// changed, one loop per change, each in a table of its own, with every
// loop's log kept. Its check, after each change, finds every write any
// loop had acknowledged on every node, and every node Synced. Every
// acceptance test that writes through a VIP during a change uses it.
type dayTwoWrites struct {
	// atOnce: a new connection through the VIP must work at its first try
	// seconds after the apply, for changes that must never cut the load
	// balancer off (allowed_cidrs, TLS, parameters, rolls); otherwise the
	// pool's health checks get up to 2 minutes to see returning members
	// (repairs, outages).
	atOnce bool
	// arbitrators are voting members the check does not reach (pxc_node
	// arbitrators): a node's wsrep_cluster_size counts them too.
	arbitrators int

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan *galeratest.Log
	db     *sql.DB
	table  string
	tables []string                      // every table written, in order
	acked  map[string][]galeratest.Write // by table, of finished loops
}

// start lets the test's application account log in through the VIP and
// writes into table (a new one per change: sequence numbers start at 1)
// until stop or check.
func (w *dayTwoWrites) start(st cidrsState, table string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := openVIPApp(ctx, st.ips[0], st.password, st.vip, table)
	if err != nil {
		return fmt.Errorf("start writes into %s: %w", table, err)
	}
	loopCtx, halt := context.WithCancel(context.Background())
	done := make(chan *galeratest.Log, 1)
	w.mu.Lock()
	w.cancel, w.done, w.db, w.table = halt, done, db, table
	w.tables = append(w.tables, table)
	w.mu.Unlock()
	go func() { done <- galeratest.RunWrites(loopCtx, db, table, 200*time.Millisecond) }()
	time.Sleep(3 * time.Second) // a few writes before the change
	return nil
}

// startState is start as a step's check, on the cluster state names
// (pxc_cluster.test behind pxc_lb_pool.single).
func (w *dayTwoWrites) startState(table string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		st, err := readCIDRsState(s)
		if err != nil {
			return err
		}
		return w.start(st, table)
	}
}

// stop ends the running loop, if any, keeps and returns its log.
func (w *dayTwoWrites) stop() *galeratest.Log {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	log := <-w.done
	w.db.Close()
	w.cancel = nil
	if w.acked == nil {
		w.acked = map[string][]galeratest.Write{}
	}
	w.acked[w.table] = log.Acked
	return log
}

// check ends the running loop after a change (what) that began at since:
// a new connection through the VIP reaches a node (see atOnce) and writes
// were acknowledged through it after the change; no gap without an
// acknowledged write exceeded maxGap (0: the gap is only logged, e.g. an
// outage of every node); every node is Synced in a cluster of all of
// them (and the arbitrators) and holds every write any loop acknowledged.
func (w *dayTwoWrites) check(t *testing.T, st cidrsState, what string, since time.Time, maxGap time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	probe := func() error {
		db, err := galeratest.Open(st.vip, cidrsAppUser, cidrsAppPass)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = galeratest.NodeOf(ctx, db)
		return err
	}
	if w.atOnce {
		time.Sleep(3 * time.Second) // writes after the apply, through new connections
		if err := probe(); err != nil {
			return fmt.Errorf("a new connection through the VIP %s fails after the %s: %w", st.vip, what, err)
		}
	} else if err := eventually(ctx, 2*time.Minute, probe); err != nil {
		// The pool's health checks see returning members within seconds.
		return fmt.Errorf("no connection through the VIP %s after the %s: %w", st.vip, what, err)
	}
	checkedAt := time.Now()
	time.Sleep(3 * time.Second)
	log := w.stop()
	if log == nil {
		return fmt.Errorf("the write loop was not running during the %s", what)
	}
	if _, ok := log.FirstAfter(checkedAt); !ok {
		return fmt.Errorf("no write through the VIP was acknowledged after the %s (%d acked, %d failed, last error: %v)",
			what, len(log.Acked), len(log.Failed), log.LastErr)
	}
	gap, from := log.LongestGap(since)
	before, _ := log.LastUpTo(from)
	after, _ := log.FirstAfter(from)
	t.Logf("%s: %d writes acknowledged through the VIP, %d failed; longest gap %s from %s (%s) to %s; by node %v",
		what, len(log.Acked), len(log.Failed), gap.Round(10*time.Millisecond), from.Format("15:04:05.000"), nodeOrNone(before.Node), nodeOrNone(after.Node), log.NodesSeen())
	if len(log.Failed) > 0 {
		t.Logf("%s: failed writes from %s to %s, by error: %v", what, log.Failed[0].Format("15:04:05.000"),
			log.Failed[len(log.Failed)-1].Format("15:04:05.000"), errorCounts(log.Errors))
	}
	if maxGap > 0 && gap > maxGap {
		return fmt.Errorf("no write acknowledged through the VIP for %s during the %s, want at most %s (last error: %v)", gap, what, maxGap, log.LastErr)
	}
	for _, ip := range st.ips {
		if err := w.checkNode(ctx, ip, st.password, len(st.ips)+w.arbitrators); err != nil {
			return fmt.Errorf("after the %s: %w", what, err)
		}
	}
	return nil
}

// checkState is check as a step's check, on the cluster state names
// (pxc_cluster.test behind pxc_lb_pool.single); *since is read when it runs.
func (w *dayTwoWrites) checkState(t *testing.T, what string, since *time.Time, maxGap time.Duration) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		st, err := readCIDRsState(s)
		if err != nil {
			return err
		}
		return w.check(t, st, what, *since, maxGap)
	}
}

// checkNode: the node at ip is Synced in a cluster of size and holds
// every acknowledged write of every finished loop (MissingAcked reads
// with wsrep_sync_wait).
func (w *dayTwoWrites) checkNode(ctx context.Context, ip, password string, size int) error {
	db, err := openRoot(net.JoinHostPort(ip, "3306"), password)
	if err != nil {
		return err
	}
	defer db.Close()
	var k, state, got string
	if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'").Scan(&k, &state); err != nil {
		return fmt.Errorf("node %s: %w", ip, err)
	}
	if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'").Scan(&k, &got); err != nil {
		return fmt.Errorf("node %s: %w", ip, err)
	}
	if state != "Synced" || got != strconv.Itoa(size) {
		return fmt.Errorf("node %s is %s in a cluster of %s, want Synced in %d", ip, state, got, size)
	}
	w.mu.Lock()
	tables, acked := append([]string(nil), w.tables...), w.acked
	w.mu.Unlock()
	for _, table := range tables {
		missing, err := galeratest.MissingAcked(ctx, db, table, acked[table])
		if err != nil {
			return fmt.Errorf("node %s: %w", ip, err)
		}
		if len(missing) > 0 {
			return fmt.Errorf("node %s misses %d acknowledged writes of %s: %v", ip, len(missing), table, missing)
		}
	}
	return nil
}

// errorCounts counts the write loop's errors by message.
func errorCounts(errs []error) map[string]int {
	counts := map[string]int{}
	for _, err := range errs {
		counts[err.Error()]++
	}
	return counts
}

// nodeOrNone is node, or "none" for a write that names none.
func nodeOrNone(node string) string {
	if node == "" {
		return "none"
	}
	return node
}
