package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// backups names the backup members of a member batch.
func backups(batch []openstack.MemberSpec) []string {
	var names []string
	for _, m := range batch {
		if m.Backup {
			names = append(names, m.Name)
		}
	}
	return names
}

// liveBackups names the pool's backup members as Octavia lists them.
func liveBackups(t *testing.T, r *rig, p *Pool) []string {
	t.Helper()
	live, err := r.cloud.ListPoolMembers(testContext(t), p.PoolID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range live {
		if m.Backup {
			names = append(names, m.Name)
		}
	}
	return names
}

// withNode is c with one more member, db-<index>.
func withNode(c *Cluster, index int, ip string) *Cluster {
	grown := *c
	grown.Nodes = append(append([]Node(nil), c.Nodes...), Node{Name: "db-" + string(rune('0'+index)), Index: index, IP: ip})
	return &grown
}

// between returns the calls after the first one starting with from and
// before the next one starting with to.
func between(calls []string, from, to string) []string {
	for i, c := range calls {
		if !strings.HasPrefix(c, from) {
			continue
		}
		for j := i + 1; j < len(calls); j++ {
			if strings.HasPrefix(calls[j], to) {
				return calls[i+1 : j]
			}
		}
		return calls[i+1:]
	}
	return nil
}

// HAProxy starts a server it has no state for UP: a new member of a
// single-writer pool is a backup (no connection while the writer is UP)
// until Octavia shows its first check, then a full member, which its check
// keeps down unless it is elected writer. The pool does both while the
// node joins.
func TestAddNodeToSingleWriterPoolWhileItJoins(t *testing.T) {
	r, c, p := membershipRig(t)
	ctx := testContext(t)
	spec := testSpec()
	spec.NodeCount = 4
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	before := len(r.log.all())
	batches := len(r.cloud.batches)
	addedDuringJoin := false
	r.guests.onJoin = func(context.Context, string) error {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			r.cloud.mu.Lock()
			sent := len(r.cloud.batches) - batches
			r.cloud.mu.Unlock()
			if sent == 2 {
				addedDuringJoin = true
				return nil
			}
		}
		return nil
	}
	if err := r.m.AddNode(ctx, c, spec, &Node{Index: 4, Name: "db-4"}); err != nil {
		t.Fatal(err)
	}
	if !addedDuringJoin {
		t.Error("the join ended before the pool had taken db-4")
	}
	calls := r.log.all()[before:]
	if got := count(calls, "SetPoolMembers"); got != 2 {
		t.Fatalf("%d member batches, want two (backup, then promoted)", got)
	}
	sent := r.cloud.batches[batches:]
	if got := backups(sent[0]); len(got) != 1 || got[0] != "db-4" {
		t.Errorf("first batch backups = %v, want only the new db-4", got)
	}
	if got := backups(sent[1]); len(got) != 0 {
		t.Errorf("second batch backups = %v, want none", got)
	}
	// The fake runs a new member's first check after one status tree
	// read: the promotion waits for a second read showing the verdict.
	if got := count(between(calls, "SetPoolMembers", "SetPoolMembers"), "GetLoadBalancerStatus"); got < 2 {
		t.Errorf("%d status reads between the batches, want the promotion after the read showing the first check", got)
	}
	if got := liveBackups(t, r, p); len(got) != 0 {
		t.Errorf("backup members after the add: %v", got)
	}
}

// A join that fails leaves the member in the single-writer pool, checked
// and down (no connection); the next apply repairs or removes the node.
func TestFailedJoinLeavesTheMemberDown(t *testing.T) {
	r, c, p := membershipRig(t)
	spec := testSpec()
	spec.NodeCount = 4
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	r.guests.joinErr = errors.New("state transfer failed")
	err := r.m.AddNode(testContext(t), c, spec, &Node{Index: 4, Name: "db-4"})
	if err == nil || !strings.Contains(err.Error(), "state transfer failed") {
		t.Fatalf("err = %v, want the join's", err)
	}
	live, err := r.cloud.ListPoolMembers(testContext(t), p.PoolID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range live {
		if m.Name == "db-4" && (m.OperatingStatus == "ONLINE" || m.OperatingStatus == "OFFLINE") {
			t.Errorf("db-4 after the failed join: %+v, want judged down", m)
		}
	}
	if !slices.ContainsFunc(live, func(m openstack.Member) bool { return m.Name == "db-4" }) {
		t.Errorf("db-4 is not a member after the failed join: %+v", live)
	}
}

// The members already checked are never staged: a sync that adds nothing
// is one batch, as before.
func TestSyncSingleWriterPoolWithoutNewMemberIsOneBatch(t *testing.T) {
	r, c, p := membershipRig(t)
	before := len(r.log.all())
	if err := r.m.SyncPoolMembers(testContext(t), p, c); err != nil {
		t.Fatal(err)
	}
	if got := count(r.log.all()[before:], "SetPoolMembers"); got != 1 {
		t.Errorf("%d member batches, want one", got)
	}
	if got := backups(r.cloud.batches[len(r.cloud.batches)-1]); len(got) != 0 {
		t.Errorf("backups %v in a sync of checked members", got)
	}
}

func TestAddNodeToMultiWriterPoolIsOneBatchWithoutBackup(t *testing.T) {
	r, c, p := poolRig(t, ModeMultiWriter)
	before := len(r.log.all())
	if err := r.m.SyncPoolMembers(testContext(t), p, withNode(c, 4, "10.0.0.44")); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	if got := count(calls, "SetPoolMembers"); got != 1 {
		t.Errorf("%d member batches, want one", got)
	}
	if got := count(calls, "ListPoolMembers"); got != 0 {
		t.Errorf("%d member listings, want none", got)
	}
	if got := backups(r.cloud.batches[len(r.cloud.batches)-1]); len(got) != 0 {
		t.Errorf("backups %v in a multi-writer pool", got)
	}
}

// A member a change left backup (interrupted before the promotion) is
// promoted by the next sync: at once when Octavia shows its check's
// verdict, after being staged again and checked when it shows none.
func TestSyncPromotesALeftoverBackupMember(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   [][]string // backups of each batch
	}{
		{"ERROR", [][]string{nil}},
		{"OFFLINE", [][]string{{"db-3"}, nil}},
	} {
		t.Run(tc.status, func(t *testing.T) {
			r, c, p := membershipRig(t)
			r.cloud.mu.Lock()
			pool := r.cloud.pools[p.PoolID]
			pool.Members[2].Backup = true
			if tc.status == "OFFLINE" {
				r.cloud.firstCheck[pool.Members[2].ID] = pool.Members[2].OperatingStatus
			}
			pool.Members[2].OperatingStatus = tc.status
			r.cloud.pools[p.PoolID] = pool
			r.cloud.mu.Unlock()
			batches := len(r.cloud.batches)
			if err := r.m.SyncPoolMembers(testContext(t), p, c); err != nil {
				t.Fatal(err)
			}
			var got [][]string
			for _, b := range r.cloud.batches[batches:] {
				got = append(got, backups(b))
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("backups of each batch %q, want %q", got, tc.want)
			}
			if got := liveBackups(t, r, p); len(got) != 0 {
				t.Errorf("backup members after the sync: %v", got)
			}
		})
	}
}

// A first check that never shows ends the wait after firstCheckTimeout,
// with the member still a backup (no connection); the next sync, once the
// checks run, promotes it.
func TestFirstCheckWaitIsBoundedAndTheNextSyncConverges(t *testing.T) {
	r, c, p := membershipRig(t)
	old := firstCheckTimeout
	firstCheckTimeout = 700 * time.Millisecond
	t.Cleanup(func() { firstCheckTimeout = old })
	r.cloud.mu.Lock()
	r.cloud.checksStalled = true
	r.cloud.mu.Unlock()
	grown := withNode(c, 4, "10.0.0.44")
	start := time.Now()
	err := r.m.SyncPoolMembers(testContext(t), p, grown)
	if err == nil || !strings.Contains(err.Error(), "db-4=OFFLINE") {
		t.Fatalf("err = %v, want a timeout naming db-4=OFFLINE", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the wait took %s with a %s bound", d, firstCheckTimeout)
	}
	if got := liveBackups(t, r, p); len(got) != 1 || got[0] != "db-4" {
		t.Fatalf("backup members after the timeout: %v, want db-4 alone", got)
	}
	r.cloud.mu.Lock()
	r.cloud.checksStalled = false
	r.cloud.mu.Unlock()
	if err := r.m.SyncPoolMembers(testContext(t), p, grown); err != nil {
		t.Fatal(err)
	}
	if got := liveBackups(t, r, p); len(got) != 0 {
		t.Errorf("backup members after the next sync: %v", got)
	}
}

// A new member whose first check passes because it became the writer
// meanwhile is promoted: ONLINE is a verdict once it is the only one.
func TestNewMemberThatBecameTheWriterIsPromoted(t *testing.T) {
	r, c, p := membershipRig(t)
	r.cloud.mu.Lock()
	r.cloud.writerName = "db-4"
	r.cloud.mu.Unlock()
	batches := len(r.cloud.batches)
	if err := r.m.SyncPoolMembers(testContext(t), p, withNode(c, 4, "10.0.0.44")); err != nil {
		t.Fatal(err)
	}
	if sent := r.cloud.batches[batches:]; len(sent) != 2 || len(backups(sent[1])) != 0 {
		t.Errorf("batches %+v, want the backup stage then none", sent)
	}
	for _, m := range p.Members {
		if want := m.NodeName == "db-4"; (m.OperatingStatus == "ONLINE") != want {
			t.Errorf("member %s %s after the sync", m.NodeName, m.OperatingStatus)
		}
	}
}
