package localcloud

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/samples"
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

// TestBulkSecurityGroupRules posts the api-ref's rule sample as Neutron's
// bulk create: all the rules of one group in one call, all or none.
func TestBulkSecurityGroupRules(t *testing.T) {
	dir := samples.Dir(t, "neutron/security-groups")
	tc := startCloud(t, nil)
	ctx := context.Background()
	g, err := groups.Create(ctx, tc.network, groups.CreateOpts{Name: "bulk"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "security-group-rule-create-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The sample's rule, in our group and allowing our group; address
	// groups are not implemented here.
	rule := func(port string) map[string]any {
		r := obj(decode(t, b), "security_group_rule")
		r["security_group_id"], r["remote_group_id"] = g.ID, g.ID
		delete(r, "remote_address_group_id")
		if port != "" {
			r["port_range_min"], r["port_range_max"] = port, port
		}
		return r
	}
	post := func(rs ...map[string]any) (int, []byte) {
		code, _, body := tc.rawDo("POST", "/network/v2.0/security-group-rules", map[string]any{"security_group_rules": rs}, nil)
		return code, body
	}
	countRules := func() int {
		pages, err := rules.List(tc.network, rules.ListOpts{SecGroupID: g.ID, Direction: "ingress"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := rules.ExtractRules(pages)
		return len(got)
	}

	code, body := post(rule(""), rule("3306"))
	if code != 201 {
		t.Fatalf("bulk create: %d %s", code, body)
	}
	var made struct {
		Rules []map[string]any `json:"security_group_rules"`
	}
	if err := json.Unmarshal(body, &made); err != nil || len(made.Rules) != 2 {
		t.Fatalf("bulk create answer: %s (%v)", body, err)
	}
	for _, r := range made.Rules {
		checkShape(t, "neutron/security-groups/security-group-rule-create-response.json", "security_group_rule", r)
	}
	if made.Rules[0]["port_range_min"] != float64(80) || made.Rules[1]["port_range_max"] != float64(3306) || made.Rules[1]["remote_group_id"] != g.ID {
		t.Errorf("bulk created rules: %+v", made.Rules)
	}
	if n := countRules(); n != 2 {
		t.Errorf("%d ingress rules after the bulk create, want 2", n)
	}

	// All or none: one rule that exists makes the call 409 and creates nothing.
	if code, body := post(rule("4444"), rule("")); code != 409 || obj(decode(t, body), "NeutronError")["type"] != "SecurityGroupRuleExists" {
		t.Errorf("bulk with an existing rule: %d %s, want 409 SecurityGroupRuleExists", code, body)
	}
	if code, body := post(rule("5555"), rule("5555")); code != 400 || obj(decode(t, body), "NeutronError")["type"] != "DuplicateSecurityGroupRuleInPost" {
		t.Errorf("bulk with a rule twice: %d %s, want 400 DuplicateSecurityGroupRuleInPost", code, body)
	}
	other := rule("6666")
	tc.Mu.Lock()
	other["security_group_id"] = tc.St.DefaultSGID
	tc.Mu.Unlock()
	if code, body := post(rule("7777"), other); code != 400 || obj(decode(t, body), "NeutronError")["type"] != "SecurityGroupNotSingleGroupRules" {
		t.Errorf("bulk over two groups: %d %s, want 400 SecurityGroupNotSingleGroupRules", code, body)
	}
	if n := countRules(); n != 2 {
		t.Errorf("%d ingress rules after refused bulk creates, want still 2", n)
	}

	if err := groups.Delete(ctx, tc.network, g.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.assertEmpty()
}
