package cluster

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// healthyNode is the health of a Synced member.
func healthyNode() guest.NodeHealth {
	return guest.NodeHealth{MysqldRunning: true, ResponderUp: true, Status: guest.NodeStatus{
		ClusterSize: 3, StateUUID: "0d5e8f3a-state", LocalState: "Synced", ClusterStatus: "Primary", Ready: true, Connected: true}}
}

func stoppedNode() guest.NodeHealth {
	return guest.NodeHealth{ResponderUp: true, Status: guest.NodeStatus{Err: errors.New("server not running")}}
}

// builtCluster creates a 3-node cluster on the fakes and returns the spec
// a read uses (with the SSH key) and the cluster.
func builtCluster(t *testing.T, r *rig) (Spec, *Cluster) {
	t.Helper()
	spec := testSpec()
	c, err := r.m.Create(testContext(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	return spec, c
}

func repairKinds(h Health) map[string]string {
	out := map[string]string{}
	for _, r := range h.Repairs {
		out[r.Node] = r.Kind
	}
	return out
}

// readWithHealth reads a built cluster whose db-2 probes as h.
func readWithHealth(t *testing.T, h guest.NodeHealth) (*rig, Spec, *Cluster) {
	t.Helper()
	r := newRig()
	spec, c := builtCluster(t, r)
	r.guests.health = map[string]guest.NodeHealth{"db-2": h}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	return r, spec, got
}

func TestReadPlansEachNodeRepair(t *testing.T) {
	for _, tc := range []struct {
		name   string
		health guest.NodeHealth
		kind   string
		line   string
	}{
		{"mysqld killed", stoppedNode(), RepairRejoin, "db-2: mysqld not running -> start, rejoin (IST)"},
		{"responder down", func() guest.NodeHealth { h := healthyNode(); h.ResponderUp = false; return h }(), RepairResponder, "db-2: health responder down -> restart"},
		{"donating", func() guest.NodeHealth { h := healthyNode(); h.Status.LocalState = "Donor/Desynced"; return h }(), RepairWait, "db-2: in a state transfer (Donor/Desynced) -> wait for Synced, not restarted"},
		{"non-Primary", func() guest.NodeHealth {
			h := healthyNode()
			h.Status.ClusterStatus = "non-Primary"
			h.Status.LocalState = "Initialized"
			return h
		}(), RepairRejoin, "db-2: mysqld runs as non-Primary/Initialized -> restart, rejoin (IST)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, spec, got := readWithHealth(t, tc.health)
			if got.Status != StatusDegraded || got.Health.Outage != nil {
				t.Fatalf("status %s, outage %v", got.Status, got.Health.Outage)
			}
			if len(got.Health.Repairs) != 1 || got.Health.Repairs[0].Kind != tc.kind || got.Health.Repairs[0].String() != tc.line {
				t.Fatalf("repairs = %+v, want one %s: %q", got.Health.Repairs, tc.kind, tc.line)
			}
			if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.guests.repaired, []string{"db-2"}) || len(r.guests.recovered) != 0 {
				t.Fatalf("repaired %v, recovered %v", r.guests.repaired, r.guests.recovered)
			}
		})
	}
}

// A node a hot backup holds desynced is read as it is (the cluster
// DEGRADED) but plans no repair, so a plan that meets a scheduled backup
// proposes nothing; a mariabackup SST donor, whose script also runs the
// tool, is still waited for.
func TestReadPlansNoRepairForBackupDesync(t *testing.T) {
	desynced := func(sst bool) guest.NodeHealth {
		h := healthyNode()
		h.Status.LocalState, h.BackingUp, h.Transferring = "Donor/Desynced", true, sst
		return h
	}
	for _, tc := range []struct {
		name    string
		health  guest.NodeHealth
		repairs int
	}{
		{"hot backup", desynced(false), 0},
		{"mariabackup SST donor", desynced(true), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, got := readWithHealth(t, tc.health)
			if got.Status != StatusDegraded || len(got.Health.Repairs) != tc.repairs {
				t.Fatalf("status %s, repairs %+v: want DEGRADED and %d", got.Status, got.Health.Repairs, tc.repairs)
			}
		})
	}
}

func TestReadOfHealthyClusterPlansNothing(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	before := len(r.log.all())
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Health.Healthy() || got.Status != StatusActive {
		t.Fatalf("health %+v, status %s", got.Health, got.Status)
	}
	if calls := r.log.all()[before:]; slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "GuestHealth") || strings.HasPrefix(c, "Survey") }) {
		t.Fatalf("a healthy read probed further: %v", calls)
	}
}

// A server deleted out of band is rebuilt under its name, copying from a
// Synced member.
func TestReadPlansReplacementOfDeletedServer(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	if err := r.cloud.DeleteServer(testContext(t), c.Nodes[2].ServerID); err != nil {
		t.Fatal(err)
	}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusDegraded {
		t.Fatalf("status %s", got.Status)
	}
	if len(got.Health.Repairs) != 1 || got.Health.Repairs[0].Kind != RepairReplace ||
		!strings.HasPrefix(got.Health.Repairs[0].String(), "db-3: server missing -> new server and volume, SST from ") {
		t.Fatalf("repairs = %+v", got.Health.Repairs)
	}
	if w := got.Writer; w != "" && strings.HasSuffix(got.Health.Repairs[0].Action, w) {
		t.Fatalf("the writer %s donates", w)
	}
}

// A node that fails to rejoin twice is replaced, never restarted a third time.
func TestRepairReplacesNodeThatFailsToRejoinTwice(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	r.guests.health = map[string]guest.NodeHealth{"db-2": stoppedNode()}
	r.guests.repairErr = map[string][]error{"db-2": {errors.New("server exited"), errors.New("server exited")}}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	old := got.nodeNamed("db-2")
	before := len(r.log.all())
	if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.guests.repaired, []string{"db-2", "db-2"}) {
		t.Fatalf("repaired %v, want two attempts", r.guests.repaired)
	}
	calls := r.log.all()[before:]
	inOrder(t, calls, "RepairNode db-2", "RepairNode db-2", "DeleteServer db-2", "CreateServer db-2", "JoinMember db-2")
	if count(calls, "CreatePort") != 0 {
		t.Errorf("the member's port (and address) was not kept: %v", calls)
	}
	n := got.nodeNamed("db-2")
	if n.ServerID == old.ServerID || n.VolumeID == old.VolumeID || n.PortID != old.PortID || n.IP != old.IP {
		t.Fatalf("db-2 after the replacement %+v, before %+v", n, old)
	}
}

// A server deleted out of band is rebuilt under its name and address, its
// orphaned data volume deleted, and the next read is healthy.
func TestRepairRebuildsDeletedServer(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	old := c.nodeNamed("db-3")
	if err := r.cloud.DeleteServer(testContext(t), old.ServerID); err != nil {
		t.Fatal(err)
	}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	before := len(r.log.all())
	if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{}); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	inOrder(t, calls, "DeleteVolume", "CreateServer db-3", "JoinMember db-3")
	if count(calls, "CreatePort") != 0 || len(r.guests.repaired) != 0 {
		t.Errorf("port recreated or a member restarted: %v", calls)
	}
	after, err := r.m.Read(testContext(t), c.ID, &spec, got.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Health.Healthy() || after.Status != StatusActive || len(after.Nodes) != 3 || after.nodeNamed("db-3").IP != old.IP {
		t.Fatalf("after the rebuild: status %s, health %+v, nodes %+v", after.Status, after.Health, after.Nodes)
	}
	if left := r.cloud.objects(); left["volumes"] != 3 || left["servers"] != 3 || left["ports"] != 3 {
		t.Errorf("after the rebuild the cloud holds %v, want 3 servers, volumes and ports", left)
	}
}

func outageHealth() map[string]guest.NodeHealth {
	return map[string]guest.NodeHealth{"db-1": stoppedNode(), "db-2": stoppedNode(), "db-3": stoppedNode()}
}

// After a power cut of every server the plan names the node with the
// highest seqno and apply recovers from it.
func TestReadFullOutageDecidesAndRepairRecovers(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	r.guests.health = outageHealth()
	r.guests.survey = []guest.NodeRecovery{
		{Node: "db-1", UUID: "u1", Seqno: 40, Recovered: true},
		{Node: "db-2", UUID: "u1", Seqno: 42, Recovered: true},
		{Node: "db-3", UUID: "u1", Seqno: 41},
	}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	o := got.Health.Outage
	if got.Status != StatusDown || o == nil || o.Ambiguous != nil || o.Decision.Source != "db-2" {
		t.Fatalf("status %s, outage %+v", got.Status, o)
	}
	if k := repairKinds(got.Health); k["db-2"] != RepairBootstrap || k["db-1"] != RepairRecover || k["db-3"] != RepairRecover {
		t.Fatalf("repairs %v", k)
	}
	table := strings.Join(o.Table(), "\n")
	if !strings.Contains(table, "db-2: uuid u1, seqno 42 (--wsrep-recover), safe_to_bootstrap 0 -> BOOTSTRAPS") {
		t.Fatalf("table:\n%s", table)
	}
	if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.guests.recovered, []string{""}) || len(r.guests.repaired) != 0 {
		t.Fatalf("recovered %v repaired %v", r.guests.recovered, r.guests.repaired)
	}
}

func TestReadNoQuorumWhenServersRunOutsideAPrimaryComponent(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	h := healthyNode()
	h.Status.ClusterStatus, h.Status.LocalState = "non-Primary", "Initialized"
	r.guests.health = map[string]guest.NodeHealth{"db-1": h, "db-2": h, "db-3": h}
	r.guests.survey = []guest.NodeRecovery{{Node: "db-1", Running: true}, {Node: "db-2", Running: true}, {Node: "db-3", Running: true}}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusNoQuorum || got.Health.Outage == nil {
		t.Fatalf("status %s outage %+v", got.Status, got.Health.Outage)
	}
}

// An ambiguous survey (a node not surveyed) is refused unless the override
// names a node and carries today's date.
func TestRepairRefusesAmbiguousOutageWithoutAcknowledgement(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	r.guests.health = outageHealth()
	r.guests.survey = []guest.NodeRecovery{
		{Node: "db-1", UUID: "u1", Seqno: 40},
		{Node: "db-2", Err: errors.New("ssh: connection refused")},
		{Node: "db-3", UUID: "u1", Seqno: 41},
	}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Health.Outage == nil || got.Health.Outage.Ambiguous == nil {
		t.Fatalf("outage %+v, want ambiguous", got.Health.Outage)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for _, tc := range []struct {
		ov   RecoveryOverride
		attr string
	}{
		{RecoveryOverride{}, AttrBootstrapNode},
		{RecoveryOverride{BootstrapNode: "db-3"}, AttrDataLossAcknowledgedOn},
		{RecoveryOverride{BootstrapNode: "db-3", DataLossAcknowledgedOn: "2020-01-01"}, AttrDataLossAcknowledgedOn},
		{RecoveryOverride{BootstrapNode: "db-9", DataLossAcknowledgedOn: today}, AttrBootstrapNode},
	} {
		err := r.m.Repair(testContext(t), got, spec, tc.ov)
		var re *RecoveryRefusedError
		if !errors.As(err, &re) || re.Attribute != tc.attr {
			t.Errorf("override %+v: err = %v, want refused naming %s", tc.ov, err, tc.attr)
		}
	}
	if len(r.guests.recovered) != 0 {
		t.Fatalf("recovered %v despite the refusals", r.guests.recovered)
	}
	if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{BootstrapNode: "db-3", DataLossAcknowledgedOn: today}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.guests.recovered, []string{"db-3"}) {
		t.Fatalf("recovered %v, want forced db-3", r.guests.recovered)
	}
}

// A node that does not answer the health probe is not surveyed (its SSH
// would be retried for the whole survey timeout on every plan): the
// outage is ambiguous naming it, and the nodes that answered are surveyed
// through a handle of their own, their positions shown.
func TestReadSurveysOnlyNodesThatAnswered(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	unreachable := stoppedNode()
	unreachable.Err = errors.New("probe: ssh: dial tcp 10.0.0.12:22: i/o timeout")
	r.guests.health = map[string]guest.NodeHealth{"db-1": stoppedNode(), "db-2": unreachable, "db-3": stoppedNode()}
	r.guests.survey = []guest.NodeRecovery{
		{Node: "db-1", UUID: "u1", Seqno: 40},
		{Node: "db-2", UUID: "u1", Seqno: 99},
		{Node: "db-3", UUID: "u1", Seqno: 41},
	}
	opened := len(r.guests.specs)
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	o := got.Health.Outage
	if o == nil || o.Ambiguous == nil || !strings.Contains(o.Ambiguous.Error(), "db-2") {
		t.Fatalf("outage %+v, want ambiguous naming db-2", o)
	}
	var surveyed []string
	for _, s := range r.guests.specs[opened:] {
		if len(s.Nodes) == 2 {
			for _, n := range s.Nodes {
				surveyed = append(surveyed, n.Name)
			}
		}
	}
	if !slices.Equal(surveyed, []string{"db-1", "db-3"}) {
		t.Fatalf("surveyed through a handle of %v, want db-1 and db-3 only", surveyed)
	}
	seqnos := map[string]int64{}
	for _, n := range o.Decision.Nodes {
		seqnos[n.Node] = n.Seqno
	}
	if seqnos["db-1"] != 40 || seqnos["db-2"] != -1 || seqnos["db-3"] != 41 {
		t.Fatalf("positions %v, want db-1 40, db-2 not surveyed (-1), db-3 41", seqnos)
	}
}

// A clear survey takes an override without an acknowledgement: the
// operator picks a known good copy.
func TestCheckRecoveryOverrideOfClearSurvey(t *testing.T) {
	o := &Outage{Decision: guest.Decision{Source: "db-2"}}
	got, err := CheckRecovery(o, RecoveryOverride{BootstrapNode: "db-3"}, []string{"db-1", "db-2", "db-3"}, time.Now())
	if err != nil || got != "db-3" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, err := CheckRecovery(o, RecoveryOverride{}, []string{"db-1", "db-2", "db-3"}, time.Now()); err != nil || got != "" {
		t.Fatalf("no override: got %q, %v", got, err)
	}
}

// The members a read expects are the spec's count: an update reads with
// the count in state, so a grow's new names are not planned as missing,
// while a member numbered within it that the cloud lost is.
func TestExpectedMembersFollowTheSpecCount(t *testing.T) {
	c := &Cluster{Name: "db", Nodes: []Node{{Name: "db-1"}, {Name: "db-2"}, {Name: "db-3"}, {Name: "db-5"}}, Requested: Requested{NodeCount: 3}}
	if got := expectedMembers(c, Spec{NodeCount: 5}); !slices.Equal(got, []string{"db-1", "db-2", "db-3", "db-4", "db-5"}) {
		t.Errorf("5 members: %v", got)
	}
	if got := expectedMembers(c, Spec{NodeCount: 3}); !slices.Equal(got, []string{"db-1", "db-2", "db-3", "db-5"}) {
		t.Errorf("3 members: %v", got)
	}
	if got := expectedMembers(&Cluster{Name: "db", Requested: Requested{NodeCount: 3}}, Spec{}); !slices.Equal(got, []string{"db-1", "db-2", "db-3"}) {
		t.Errorf("no count in the spec: %v", got)
	}
}

// A node in a state transfer whose wait fails is reported, never replaced.
func TestRepairNeverReplacesATransferringNode(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	h := healthyNode()
	h.Status.LocalState = "Joining: receiving State Transfer"
	r.guests.health = map[string]guest.NodeHealth{"db-2": h}
	r.guests.repairErr = map[string][]error{"db-2": {errors.New("not Synced within 10m")}}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	before := len(r.log.all())
	err = r.m.Repair(testContext(t), got, spec, RecoveryOverride{})
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Node != "db-2" {
		t.Fatalf("err = %v, want the failed wait of db-2", err)
	}
	if calls := r.log.all()[before:]; count(calls, "DeleteServer") != 0 || count(calls, "CreateServer") != 0 || len(r.guests.repaired) != 1 {
		t.Fatalf("a joiner was replaced or retried: %v", calls)
	}
}

// shutOff marks the servers of the named nodes SHUTOFF in the fake cloud,
// as Nova reports a powered-off server.
func shutOff(r *rig, c *Cluster, names ...string) {
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	for _, n := range c.Nodes {
		if slices.Contains(names, n.Name) {
			s := r.cloud.servers[n.ServerID]
			s.Status = "SHUTOFF"
			r.cloud.servers[n.ServerID] = s
		}
	}
}

// A powered-off server is powered on by apply and its node rejoins.
func TestRepairPowersOnShutoffServer(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	shutOff(r, c, "db-2")
	r.guests.health = map[string]guest.NodeHealth{"db-2": stoppedNode()}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	want := "db-2: server SHUTOFF -> power on (Nova start), start mysqld, rejoin (IST)"
	if len(got.Health.Repairs) != 1 || got.Health.Repairs[0].Kind != RepairStart || got.Health.Repairs[0].String() != want {
		t.Fatalf("repairs = %+v, want %q", got.Health.Repairs, want)
	}
	if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(r.log.all(), "StartServer db-2") || !slices.Equal(r.guests.repaired, []string{"db-2"}) {
		t.Fatalf("calls %v, repaired %v", r.log.all(), r.guests.repaired)
	}
	if i, j := slices.Index(r.log.all(), "StartServer db-2"), slices.Index(r.log.all(), "RepairNode db-2"); i < 0 || j < i {
		t.Fatalf("the node was repaired before its server started: %v", r.log.all())
	}
}

// With every server powered off nothing holds a primary component: apply
// powers them on and stops, so the next plan surveys them.
func TestRepairOfAllShutoffServersPowersOnAndAsksForTheSurvey(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	shutOff(r, c, "db-1", "db-2", "db-3")
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	err = r.m.Repair(testContext(t), got, spec, RecoveryOverride{})
	if err == nil || !strings.Contains(err.Error(), "apply again") {
		t.Fatalf("err = %v, want the request to apply again", err)
	}
	for _, n := range []string{"db-1", "db-2", "db-3"} {
		if !slices.Contains(r.log.all(), "StartServer "+n) {
			t.Errorf("%s not powered on: %v", n, r.log.all())
		}
	}
	if len(r.guests.repaired) != 0 {
		t.Fatalf("rejoined without a primary component: %v", r.guests.repaired)
	}
}

// After every server lost power, the units of a systemd image started the
// servers, which now wait outside a primary component: the plan is a clear
// recovery (no override needed) that waits for pc.recovery or stops them,
// and the apply runs it with the survey's choice.
func TestRepairRecoversServersStartedByTheirUnits(t *testing.T) {
	r := newRig()
	spec, c := builtCluster(t, r)
	h := healthyNode()
	h.Status.ClusterStatus, h.Status.LocalState = "non-Primary", "Initialized"
	r.guests.health = map[string]guest.NodeHealth{"db-1": h, "db-2": h, "db-3": h}
	r.guests.survey = []guest.NodeRecovery{{Node: "db-1", Running: true, PCRecovery: true}, {Node: "db-2", Running: true}, {Node: "db-3", Running: true}}
	got, err := r.m.Read(testContext(t), c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	o := got.Health.Outage
	if o == nil || o.Ambiguous != nil {
		t.Fatalf("outage %+v, want a clear recovery", o)
	}
	if !strings.Contains(o.Summary(), "pc.recovery") {
		t.Errorf("summary %q does not say what apply does", o.Summary())
	}
	for _, rep := range got.Health.Repairs {
		if rep.Kind != RepairRecover || !strings.Contains(rep.Action, "pc.recovery") {
			t.Errorf("repair %s (%s), want a recovery that waits for pc.recovery", rep, rep.Kind)
		}
	}
	if table := strings.Join(o.Table(), "\n"); !strings.Contains(table, "db-2: server running, primary=false") || !strings.Contains(table, "waits for pc.recovery, else stopped and surveyed") {
		t.Errorf("table:\n%s", table)
	}
	if err := r.m.Repair(testContext(t), got, spec, RecoveryOverride{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.guests.recovered, []string{""}) {
		t.Fatalf("recovered %v, want the survey's choice", r.guests.recovered)
	}
}
