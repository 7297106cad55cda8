package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

func testSpec() Spec {
	return Spec{
		Name: "db", Datastore: Datastore{Type: "mariadb", Version: "10.11"}, NodeCount: 3,
		Flavor: "m1.small", Image: "debian-12", Network: "private",
		Volume: VolumeSpec{SizeGiB: 1}, AntiAffinity: "anti-affinity",
		SSH: SSHSpec{
			User: "root", HostKeyCheck: HostKeyConsole,
			SourceCIDRs: []netip.Prefix{netip.MustParsePrefix("198.51.100.4/32")},
		},
		AllowedCIDRs:     []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		RootPassword:     "root-secret",
		FailureDetection: 5 * time.Second,
	}
}

type rig struct {
	log    *callLog
	cloud  *fakeCloud
	guests *fakeGuests
	m      *Manager
}

func newRig() *rig {
	log := &callLog{}
	r := &rig{log: log, cloud: newFakeCloud(log), guests: newFakeGuests(log)}
	r.m = newManager(r.cloud, r.guests, nil)
	return r
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stage places a call in the create sequence; calls of one stage may run
// in parallel, stages must not overlap.
func createStage(call string) int {
	method, arg, _ := strings.Cut(call, " ")
	switch method {
	case "ResolveFlavor", "ResolveImage", "ResolveNetwork":
		return 0
	case "ImportKeyPair", "GetKeyPair":
		return 1
	case "CreateSecurityGroup":
		return 2
	case "CreateSecurityGroupRules":
		if strings.HasPrefix(arg, "tcp/22 ") {
			return 6
		}
		return 3
	case "CreateServerGroup":
		return 4
	case "CreatePort":
		return 5
	// The servers and the guests' create go together: a node's host key
	// is verified once its server is ACTIVE, beside the attach of its
	// volume, and the guests prepare it then (the per-node order is
	// checked below).
	case "CreateServer", "CreateVolume", "WaitServerActive", "AttachVolume", "ConsoleOutput", "HostKey",
		"OpenGuests", "GuestCreate", "GuestPrepare", "VolumeAttached":
		return 7
	}
	return -1
}

func TestCreateProvisionsInOrder(t *testing.T) {
	r := newRig()
	c, err := r.m.Create(testContext(t), testSpec())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	calls := r.log.all()
	last := 0
	for _, call := range calls {
		s := createStage(call)
		if s < 0 {
			t.Errorf("unexpected call %q during create", call)
			continue
		}
		if s == 100 {
			continue
		}
		if s < last {
			t.Errorf("call %q came after a later stage of the create:\n%s", call, strings.Join(calls, "\n"))
		}
		last = max(last, s)
	}
	// The guests open once every volume exists, and prepare each node once
	// its server is ACTIVE and its host key verified.
	open := slices.Index(calls, "OpenGuests "+galeraName(c.Name, c.ID))
	if guestCreate := slices.Index(calls, "GuestCreate "+galeraName(c.Name, c.ID)); open < 0 || guestCreate < open {
		t.Errorf("guests opened at %d, their create at %d", open, guestCreate)
	}
	for i, n := range c.Nodes {
		if made := slices.Index(calls, "CreateVolume "+volumeName("db", i+1)); made > open {
			t.Errorf("%s: volume made at %d, after the guests opened at %d", n.Name, made, open)
		}
		verified := slices.Index(calls, "HostKey "+n.IP)
		if prepared := slices.Index(calls, "GuestPrepare "+n.Name); verified < 0 || prepared < verified {
			t.Errorf("%s: prepared at %d, its host key verified at %d", n.Name, prepared, verified)
		}
	}
	// Per node: server, then ACTIVE, then the volume attached.
	for i := 1; i <= 3; i++ {
		name := NodeName("db", i)
		create := slices.Index(calls, "CreateServer "+name)
		active := slices.Index(calls, "WaitServerActive "+name)
		attach := slices.Index(calls, "AttachVolume "+name)
		attached := slices.Index(calls, "VolumeAttached "+name)
		if create < 0 || !(create < active && active < attach && attach < attached) {
			t.Errorf("%s: CreateServer at %d, WaitServerActive at %d, AttachVolume at %d, in-use at %d", name, create, active, attach, attached)
		}
		if console := slices.Index(calls, "ConsoleOutput "+name); console < active {
			t.Errorf("%s: console read for the host key at %d, before the server was ACTIVE at %d", name, console, active)
		}
		if !slices.Contains(calls, "CreateVolume "+volumeName("db", i)) || !slices.Contains(calls, "CreatePort "+name) {
			t.Errorf("%s: no volume or port created", name)
		}
	}
	if c.Status != StatusActive || len(c.Nodes) != 3 || c.ClusterStateUUID == "" {
		t.Fatalf("cluster = %+v", c)
	}
	for _, n := range c.Nodes {
		if n.ServerID == "" || n.PortID == "" || n.VolumeID == "" || n.IP == "" || n.Wsrep == nil {
			t.Errorf("node %+v misses an object or its live state", n)
		}
		if c.HostKeys[n.ServerID] == "" {
			t.Errorf("no verified host key recorded for %s", n.Name)
		}
	}
	if !c.KeyPairGenerated || c.GeneratedPrivateKey == "" || c.ServerGroupID == "" || c.SecurityGroupID == "" {
		t.Errorf("cluster objects not recorded: %+v", c)
	}
	// Console mode: the host key is checked against the console's fingerprints.
	for _, tg := range r.guests.targets {
		if len(tg.HostKeyFingerprints) != 1 || !strings.HasPrefix(tg.HostKeyFingerprints[0], "SHA256:fake-") {
			t.Errorf("host key of %s checked against %v, want the console's fingerprint", tg.Addr, tg.HostKeyFingerprints)
		}
	}
	// The guests get the clustercheck responder and root from the allowed network.
	gs := r.guests.specs[0]
	if gs.Clustercheck == nil || gs.Clustercheck.Port != ClustercheckPort || gs.Clustercheck.Password == testSpec().RootPassword {
		t.Errorf("clustercheck = %+v", gs.Clustercheck)
	}
	if u := r.guests.users[0]; len(u) != 1 || u[0].Host != "192.0.2.0/255.255.255.0" {
		t.Errorf("users = %+v", u)
	}
	if gs.Nodes[0].DataVolume.IDPrefix == "" {
		t.Error("the data volume is not handed to the guest library")
	}
}

// Every security group rule is sent once: Neutron answers a repeat with
// 409 SecurityGroupRuleExists (issue 17). They go in two bulk requests: the
// group's rules, then SSH once the ports say where the nodes are.
// The guests are prepared while the volumes attach: Cinder calls them
// in-use only once the guests' create has begun, which deadlocks (and
// times out) a create that waits for the volumes first.
func TestCreatePreparesGuestsWhileVolumesAttach(t *testing.T) {
	r := newRig()
	guestsBegan := make(chan struct{})
	var once sync.Once
	r.guests.createHook = func(context.Context) error {
		once.Do(func() { close(guestsBegan) })
		return nil
	}
	r.cloud.attachWait = func(ctx context.Context) error {
		select {
		case <-guestsBegan:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Second)
	defer cancel()
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if c.Status != StatusActive {
		t.Errorf("status %s", c.Status)
	}
}

// Each node is prepared as soon as its own server is up: the first one
// while the last server still boots. A create that waits for every server
// first never gets there (the last boots only once the first was
// prepared) and times out.
func TestCreatePreparesEachNodeOnceItsServerIsUp(t *testing.T) {
	r := newRig()
	r.cloud.activeWait = func(ctx context.Context, name string) error {
		if name != NodeName("db", 3) {
			return nil
		}
		return r.log.waitFor(ctx, "GuestPrepare "+NodeName("db", 1))
	}
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Second)
	defer cancel()
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if c.Status != StatusActive || len(c.HostKeys) != 3 {
		t.Errorf("status %s, host keys %v", c.Status, c.HostKeys)
	}
}

// A create that runs out of time while a server still builds names the
// servers phase and that server, not the guests waiting for it.
func TestCreateTimeoutWhileAServerBuildsNamesIt(t *testing.T) {
	r := newRig()
	r.cloud.activeWait = func(ctx context.Context, name string) error {
		if name != NodeName("db", 3) {
			return nil
		}
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
	defer cancel()
	_, err := r.m.Create(ctx, testSpec())
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseServers || pe.Node != NodeName("db", 3) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Create = %v, want the servers phase of %s and the deadline", err, NodeName("db", 3))
	}
}

func TestCreateSendsEachRuleOnce(t *testing.T) {
	r := newRig()
	c, err := r.m.Create(testContext(t), testSpec())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	var rules []string
	posts := 0
	for _, call := range r.log.all() {
		if strings.HasPrefix(call, "CreateSecurityGroupRule ") {
			t.Errorf("a rule was sent on its own: %s", call)
		}
		if bulk, ok := strings.CutPrefix(call, "CreateSecurityGroupRules "); ok {
			posts++
			rules = append(rules, strings.Split(bulk, "; ")...)
		}
	}
	if posts != 2 {
		t.Errorf("%d bulk rule requests, want 2", posts)
	}
	sg, _ := r.cloud.GetSecurityGroup(testContext(t), c.SecurityGroupID)
	for _, rule := range sg.Rules {
		if !ownsRule(c.ID, rule) || !strings.HasPrefix(rule.Description, "pxc_cluster "+c.ID+" ") {
			t.Errorf("rule %s is not marked as the cluster's: %q", fakeRuleString(rule), rule.Description)
		}
	}
	var want []string
	for _, rule := range ingressRules(testSpec().AllowedCIDRs, testSpec().SSH.SourceCIDRs) {
		want = append(want, rule.String())
	}
	if strings.Join(rules, "; ") != strings.Join(want, "; ") {
		t.Fatalf("rules sent:\n got %v\nwant %v", rules, want)
	}
}

func TestCreateRecordsRequestInMetadata(t *testing.T) {
	r := newRig()
	spec := testSpec()
	spec.AvailabilityZones = []string{"az1", "az2"}
	c, err := r.m.Create(testContext(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.m.Read(testContext(t), c.ID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Requested{
		NodeCount: 3, Flavor: "m1.small", Image: "debian-12", Network: "private", Volume: spec.Volume,
		AntiAffinity: "anti-affinity", AvailabilityZones: []string{"az1", "az2"}, FailureDetection: 5 * time.Second,
		TLSMode: TLSRequired, // issue 14: encrypted by default
	}
	if fmt.Sprint(got.Requested) != fmt.Sprint(want) {
		t.Errorf("requested = %+v, want %+v", got.Requested, want)
	}
	if got.Name != "db" || got.Datastore != spec.Datastore || got.KeyPairName != c.KeyPairName || !got.KeyPairGenerated {
		t.Errorf("read = %+v", got)
	}
	if got.Nodes[1].AvailabilityZone != "az2" || got.Nodes[2].AvailabilityZone != "az1" {
		t.Errorf("zones not round-robin: %+v", got.Nodes)
	}
	if got.Status != StatusUnknown {
		t.Errorf("a read without a spec asks no guest, status = %s", got.Status)
	}
	if len(got.AllowedCIDRs) != 1 || got.AllowedCIDRs[0].String() != "192.0.2.0/24" {
		t.Errorf("allowed cidrs = %v", got.AllowedCIDRs)
	}
}

var errInjected = errors.New("injected failure")

// After a failure in any phase, Delete with what Create returned removes
// every object the create made, and nothing of it is left.
func TestCreateFailureCleanup(t *testing.T) {
	cases := []struct {
		name      string
		fail      func(r *rig)
		phase     string
		node      string
		made      []string // kinds of objects that exist after the failure
		noCluster bool     // nothing was made, no cluster is returned
	}{
		{name: "flavor", fail: func(r *rig) { r.cloud.failOn["ResolveFlavor"] = errInjected }, phase: PhaseValidate, noCluster: true},
		{name: "keypair", fail: func(r *rig) { r.cloud.failOn["ImportKeyPair"] = errInjected }, phase: PhaseCloud},
		{name: "security group", fail: func(r *rig) { r.cloud.failOn["CreateSecurityGroup"] = errInjected }, phase: PhaseCloud,
			made: []string{"keypairs"}},
		{name: "member rule", fail: func(r *rig) { r.cloud.failOn["CreateSecurityGroupRules tcp/4567 from members"] = errInjected }, phase: PhaseCloud,
			made: []string{"keypairs", "security groups"}},
		{name: "server group", fail: func(r *rig) { r.cloud.failOn["CreateServerGroup"] = errInjected }, phase: PhaseCloud,
			made: []string{"keypairs", "security groups"}},
		{name: "port", fail: func(r *rig) { r.cloud.failOn["CreatePort db-2"] = errInjected }, phase: PhaseServers, node: "db-2",
			made: []string{"keypairs", "security groups", "server groups", "ports"}}, // the other nodes' ports
		{name: "ssh rule", fail: func(r *rig) { r.cloud.failOn["CreateSecurityGroupRules tcp/22 from 198.51.100.4/32"] = errInjected }, phase: PhaseCloud,
			made: []string{"keypairs", "security groups", "server groups", "ports"}},
		{name: "server", fail: func(r *rig) { r.cloud.failOn["CreateServer db-3"] = errInjected }, phase: PhaseServers, node: "db-3",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}}, // the other nodes' servers
		{name: "server error", fail: func(r *rig) { r.cloud.failOn["WaitServerActive db-1"] = errInjected }, phase: PhaseServers, node: "db-1",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		// A server that fails while the guests prepare the others.
		{name: "late server error", fail: func(r *rig) {
			r.cloud.activeWait = func(ctx context.Context, name string) error {
				if name != "db-3" {
					return nil
				}
				if err := r.log.waitFor(ctx, "GuestPrepare db-1"); err != nil {
					return err
				}
				return errInjected
			}
		}, phase: PhaseServers, node: "db-3",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		{name: "volume", fail: func(r *rig) { r.cloud.failOn["CreateVolume db-2-data"] = errInjected }, phase: PhaseVolumes, node: "db-2",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		{name: "attach", fail: func(r *rig) { r.cloud.failOn["AttachVolume db-3"] = errInjected }, phase: PhaseVolumes, node: "db-3",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		// Cinder never calls the volume in-use while the guests wait for
		// its disk: the attach's failure is the create's, not the guests'
		// cancellation.
		{name: "attach in-use", fail: func(r *rig) {
			r.cloud.failOn["VolumeAttached db-2"] = errInjected
			r.guests.createHook = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		}, phase: PhaseVolumes, node: "db-2",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		{name: "ssh", fail: func(r *rig) { r.guests.hostKeyErr["*"] = errInjected }, phase: PhaseSSH, node: "*",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		{name: "bootstrap", fail: func(r *rig) {
			r.guests.createErr = &guest.NodeError{Phase: guest.PhaseBootstrap, Node: "db-1", Err: errInjected}
		}, phase: PhaseBootstrap, node: "db-1",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		{name: "gate", fail: func(r *rig) {
			r.guests.createErr = &guest.NodeError{Phase: guest.PhaseGate, Node: "db-2, db-3", Err: errInjected}
		}, phase: PhaseGate, node: "db-2, db-3",
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
		{name: "clustercheck", fail: func(r *rig) {
			r.guests.createErr = &guest.NodeError{Phase: guest.PhaseClustercheck, Node: "db-2", Err: errInjected}
		}, phase: PhaseUsers,
			made: []string{"keypairs", "security groups", "server groups", "ports", "servers", "volumes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig()
			tc.fail(r)
			ctx := testContext(t)
			c, err := r.m.Create(ctx, testSpec())
			var pe *PhaseError
			if !errors.As(err, &pe) || !errors.Is(err, errInjected) {
				t.Fatalf("Create err = %v, want a PhaseError wrapping the injected failure", err)
			}
			if pe.Phase != tc.phase || (pe.Node != tc.node && !(tc.node == "*" && pe.Node != "")) {
				t.Errorf("failed in phase %q node %q, want %q node %q", pe.Phase, pe.Node, tc.phase, tc.node)
			}
			var made []string
			for kind := range r.cloud.objects() {
				made = append(made, kind)
			}
			slices.Sort(made)
			want := slices.Clone(tc.made)
			slices.Sort(want)
			if !slices.Equal(made, want) {
				t.Errorf("objects after the failure: %v, want %v", made, want)
			}
			if tc.noCluster {
				if c != nil {
					t.Errorf("a create refused before any object returned cluster %+v", c)
				}
				return
			}
			if c == nil || c.ID == "" || c.Status != "ERROR" {
				t.Fatalf("create returned %+v, want the cluster id with status ERROR", c)
			}
			if err := r.m.Delete(ctx, c.ID, *c); err != nil {
				t.Fatalf("Delete after failure: %v", err)
			}
			if left := r.cloud.objects(); len(left) != 0 {
				t.Errorf("left behind after Delete: %v", left)
			}
		})
	}
}

// deleteStage is the order Delete must keep: servers (which frees volumes
// and ports) and the cluster's own load balancer before volumes and ports,
// the groups and keypair last.
func deleteStage(call string) int {
	method, _, _ := strings.Cut(call, " ")
	switch method {
	case "ListServers", "ListVolumes", "ListPorts", "ListSecurityGroups", "ListServerGroups", "ListKeyPairs":
		return 0
	case "DetachVolume", "DeleteServer", "ListLoadBalancers", "DeleteLoadBalancer":
		return 1
	case "DeleteVolume":
		return 2
	case "DeletePort":
		return 3
	case "DeleteServerGroup", "DeleteSecurityGroup", "DeleteKeyPair":
		return 4
	}
	return -1
}

func TestDeleteOrderAndIdempotence(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	before := len(r.log.all())
	// Delete knows only the id, as after an import.
	if err := r.m.Delete(ctx, c.ID, Cluster{}); err != nil {
		t.Fatal(err)
	}
	calls := r.log.all()[before:]
	last := 0
	deletes := map[string]int{}
	for _, call := range calls {
		s := deleteStage(call)
		if s < 0 {
			t.Errorf("unexpected call %q during delete", call)
		}
		if s < last {
			t.Errorf("%q came after a later stage of the delete:\n%s", call, strings.Join(calls, "\n"))
		}
		last = max(last, s)
		method, _, _ := strings.Cut(call, " ")
		deletes[method]++
	}
	// No DetachVolume: deleting a server detaches its volume.
	want := map[string]int{"DeleteServer": 3, "DetachVolume": 0, "DeleteVolume": 3, "DeletePort": 3, "DeleteServerGroup": 1, "DeleteSecurityGroup": 1, "DeleteKeyPair": 1, "DeleteLoadBalancer": 0}
	for k, n := range want {
		if deletes[k] != n {
			t.Errorf("%s called %d times, want %d", k, deletes[k], n)
		}
	}
	if left := r.cloud.objects(); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	// Again: nothing to do, no error.
	before = len(r.log.all())
	if err := r.m.Delete(ctx, c.ID, *c); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	for _, call := range r.log.all()[before:] {
		if s := deleteStage(call); (s == 1 || s == 2 || s == 3) && !strings.HasPrefix(call, "List") {
			t.Errorf("second Delete deleted %q again", call)
		}
	}
	if _, err := r.m.Read(ctx, c.ID, nil, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read after Delete = %v, want ErrNotFound", err)
	}
}

func TestDeleteKeepsAUsersKeyPair(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	r.cloud.keyPairs["mine"] = openstack.KeyPair{Name: "mine"}
	spec := testSpec()
	spec.KeyPair, spec.SSH.PrivateKey = "mine", "-----BEGIN OPENSSH PRIVATE KEY-----\n..."
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyPairGenerated || c.KeyPairName != "mine" || c.GeneratedPrivateKey != "" {
		t.Fatalf("cluster took over the user's keypair: %+v", c)
	}
	if err := r.m.Delete(ctx, c.ID, *c); err != nil {
		t.Fatal(err)
	}
	if left := r.cloud.objects(); left["keypairs"] != 1 || len(left) != 1 {
		t.Fatalf("after Delete: %v, want only the user's keypair", left)
	}
}

func TestDeleteReportsAFailedDeletion(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	c, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	r.cloud.failOn["DeleteServer db-2"] = errInjected
	var pe *PhaseError
	if err := r.m.Delete(ctx, c.ID, *c); !errors.As(err, &pe) || pe.Phase != PhaseDelete || !errors.Is(err, errInjected) {
		t.Fatalf("Delete = %v, want a delete PhaseError", err)
	}
	delete(r.cloud.failOn, "DeleteServer db-2")
	if err := r.m.Delete(ctx, c.ID, *c); err != nil {
		t.Fatalf("retried Delete: %v", err)
	}
	if left := r.cloud.objects(); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func TestReadAsksTheGuests(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	got, err := r.m.Read(ctx, c.ID, &spec, c.HostKeys)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusActive || got.Nodes[0].Wsrep == nil || got.Nodes[0].Wsrep.LocalState != "Synced" {
		t.Fatalf("read = %+v", got)
	}
	// An imported cluster has no recorded host keys: the console's fingerprints are used.
	imported := Spec{SSH: SSHSpec{PrivateKey: c.GeneratedPrivateKey}, RootPassword: spec.RootPassword}
	got, err = r.m.Read(ctx, c.ID, &imported, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusActive || got.Name != "db" {
		t.Fatalf("imported read = %+v", got)
	}
	// Without a private key nothing can be asked.
	if got, _ := r.m.Read(ctx, c.ID, &Spec{}, nil); got.Status != StatusUnknown {
		t.Fatalf("read without a key: status %s", got.Status)
	}
	// One server gone: degraded.
	if err := r.cloud.DeleteServer(ctx, c.Nodes[2].ServerID); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.m.Read(ctx, c.ID, &spec, c.HostKeys); got.Status != StatusDegraded {
		t.Fatalf("read with a server gone: status %s", got.Status)
	}
}

func TestListAndFind(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	a, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.m.Create(ctx, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	all, err := r.m.List(ctx)
	if err != nil || len(all) != 2 || all[0].Status != "ACTIVE" || len(all[0].IPs) != 3 {
		t.Fatalf("List = %+v, %v", all, err)
	}
	if id, err := r.m.Find(ctx, b.ID, ""); err != nil || id != b.ID {
		t.Errorf("Find by id = %s, %v", id, err)
	}
	if _, err := r.m.Find(ctx, "", "db"); err == nil || !strings.Contains(err.Error(), a.ID) {
		t.Errorf("Find of a shared name = %v, want both ids", err)
	}
	if _, err := r.m.Find(ctx, "", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find of a missing name = %v", err)
	}
}

func TestSetAllowedCIDRs(t *testing.T) {
	r := newRig()
	ctx := testContext(t)
	spec := testSpec()
	c, err := r.m.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.SSH.PrivateKey = c.GeneratedPrivateKey
	spec.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	before := len(r.log.all())
	if err := r.m.SetAllowedCIDRs(ctx, c, spec); err != nil {
		t.Fatal(err)
	}
	got, err := r.m.Read(ctx, c.ID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AllowedCIDRs) != 1 || got.AllowedCIDRs[0].String() != "203.0.113.0/24" {
		t.Fatalf("allowed = %v", got.AllowedCIDRs)
	}
	if !slices.Contains(r.log.all()[before:], "EnsureUsers db") {
		t.Error("root was not allowed in from the new network")
	}
	// Members keep their rules.
	sg, _ := r.cloud.GetSecurityGroup(ctx, c.SecurityGroupID)
	members := 0
	for _, rule := range sg.Rules {
		if rule.RemoteGroupID != "" {
			members++
		}
	}
	if members != 4 {
		t.Errorf("%d member rules left, want 4", members)
	}
}

func TestCreateRefusesBadSpecs(t *testing.T) {
	for name, mutate := range map[string]func(*Spec){
		"name":          func(s *Spec) { s.Name = "Bad_Name" },
		"one node":      func(s *Spec) { s.NodeCount = 1 },
		"volume":        func(s *Spec) { s.Volume.SizeGiB = 0 },
		"keypair alone": func(s *Spec) { s.KeyPair = "mine" },
		"host key":      func(s *Spec) { s.SSH.HostKeyCheck = "trust-me" },
		"known hosts":   func(s *Spec) { s.SSH.HostKeyCheck = HostKeyKnownHosts },
		"sst":           func(s *Spec) { s.SSTMethod = "xtrabackup-v2" },
		"parameter":     func(s *Spec) { s.Parameters = map[string]string{"wsrep_on": "OFF"} },
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig()
			spec := testSpec()
			mutate(&spec)
			c, err := r.m.Create(testContext(t), spec)
			var pe *PhaseError
			if !errors.As(err, &pe) || pe.Phase != PhaseValidate || c != nil {
				t.Fatalf("Create = %+v, %v; want a validate PhaseError", c, err)
			}
			if calls := r.log.all(); len(calls) != 0 {
				t.Errorf("a refused spec reached the cloud: %v", calls)
			}
		})
	}
}
