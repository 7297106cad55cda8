package localcloud

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
)

// TestSecurityGroupsEnforced: a port without a rule is closed between two
// servers; remote_group_id and remote_ip_prefix open it.
func TestSecurityGroupsEnforced(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	cluster, err := groups.Create(ctx, tc.network, groups.CreateOpts{Name: "galera"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	both := func(o *servers.CreateOpts) { o.SecurityGroups = []string{fx.sgName, "galera"} }
	id1 := tc.createServer(ctx, fx, "sg-a", both)
	id2 := tc.createServer(ctx, fx, "sg-b", both)
	a1 := serverAddr(t, tc.waitServer(id1, "ACTIVE"))
	a2 := serverAddr(t, tc.waitServer(id2, "ACTIVE"))

	if _, err := sshRun(t, a2, fx.signer, nil, "nohup socat TCP-LISTEN:4567,fork,reuseaddr SYSTEM:'echo galera' >/dev/null 2>&1 &"); err != nil {
		t.Fatal(err)
	}
	probe := func() bool {
		t.Helper()
		out, _ := sshRun(t, a1, fx.signer, nil, "timeout 2 socat -u TCP:"+a2+":4567,connect-timeout=1 - 2>/dev/null")
		return strings.TrimSpace(out) == "galera"
	}
	fromMachine := func() bool {
		conn, err := net.DialTimeout("tcp", a2+":4567", time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
	// The listener is up (checked from inside) but the port is closed.
	if out, err := sshRun(t, a2, fx.signer, nil, "for i in 1 2 3 4 5 6 7 8 9 10; do socat -u TCP:127.0.0.1:4567 - 2>/dev/null && break; sleep 0.2; done"); err != nil || !strings.Contains(out, "galera") {
		t.Fatalf("listener on sg-b not up: %q %v", out, err)
	}
	if probe() {
		t.Fatalf("port 4567 open between servers without a rule")
	}

	rule, err := rules.Create(ctx, tc.network, rules.CreateOpts{SecGroupID: cluster.ID, Direction: rules.DirIngress,
		EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 4567, PortRangeMax: 4567,
		RemoteGroupID: cluster.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !probe() {
		t.Errorf("remote_group_id rule does not open 4567 between members")
	}
	if fromMachine() {
		t.Errorf("remote_group_id rule opened 4567 to the machine, which is not a member")
	}
	if err := rules.Delete(ctx, tc.network, rule.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if probe() {
		t.Errorf("port 4567 still open after its rule was deleted")
	}
	_, err = rules.Create(ctx, tc.network, rules.CreateOpts{SecGroupID: cluster.ID, Direction: rules.DirIngress,
		EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 4560, PortRangeMax: 4570,
		RemoteIPPrefix: a1 + "/32"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !probe() {
		t.Errorf("remote_ip_prefix rule for %s does not open 4567", a1)
	}
	if fromMachine() {
		t.Errorf("remote_ip_prefix rule for %s opened 4567 to the machine", a1)
	}
	for _, id := range []string{id1, id2} {
		if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
}
