package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

func nodeConfig(extra string) string {
	return fmt.Sprintf(`
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}
resource "pxc_node" "test" {
  cluster_id      = "0d5e8f3a-6a8e-4c6f-9d7e-4a5b2c1d0e9f"
  root_password   = "not-a-real-password-1"
  ssh_private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDj4x4W0Jb6p1Zb1g9M0d0bq1cJt3yHd7J5z3o1mYl5QwAAAJj9yJqC/ciagg\nAAAAtzc2gtZWQyNTUxOQAAACDj4x4W0Jb6p1Zb1g9M0d0bq1cJt3yHd7J5z3o1mYl5Qw\nAAAEB2v1mVwq6nFh3bGcJ8qQ1m9n8R0c2X8hK0g0Lw3u0yQePjHhbQlvqnVlvWD0zR3R\nurVwm3fId3snnPejWZiXlDAAAAEXRlc3RAZXhhbXBsZS5sb2NhbAECAwQ=\n-----END OPENSSH PRIVATE KEY-----\n"
  %s
}
`, extra)
}

// Bad input is refused at plan time, naming the attribute.
func TestNodeResourceRefusesBadInputAtPlanTime(t *testing.T) {
	clearOSEnv(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: nodeConfig(`role = "witness"`), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Attribute role value must be one of.*"data".*"arbitrator"`)},
			{Config: nodeConfig(`name = "Bad_Name"`), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Attribute name.*DNS label`)},
			{Config: nodeConfig(`ssh_host_key_check = "known_hosts"`), PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Attribute ssh_host_key_check value must be one of`)},
		},
	})
}

// The member itself (cluster, role, name, flavor, zone) replaces; how the
// provider reaches the cluster changes in place.
func TestNodeChangesTable(t *testing.T) {
	for _, name := range []string{"cluster_id", "role", "name", "flavor", "availability_zone"} {
		if nodeChanges[name].kind != changeReplace {
			t.Errorf("%s: %s, want replace", name, nodeChanges[name].kind)
		}
	}
	for _, name := range []string{"root_password", "ssh_private_key", "ssh_user", "ssh_host_key_check", "parameters", "install_packages", "timeouts"} {
		if nodeChanges[name].kind != changeInPlace {
			t.Errorf("%s: %s, want in place", name, nodeChanges[name].kind)
		}
	}
	// Every configurable attribute has a row.
	for name, a := range nodeResourceSchema(t.Context()).Attributes {
		if (a.IsOptional() || a.IsRequired()) && name != "timeouts" {
			if _, ok := nodeChanges[name]; !ok {
				t.Errorf("%s has no row in nodeChanges", name)
			}
		}
	}
}

// An arbitrator shows Synced while the data nodes count it; a data node
// shows its own wsrep state.
func TestNodeObservedState(t *testing.T) {
	synced := &cluster.WsrepState{ClusterSize: 3, ClusterStatus: "Primary", LocalState: "Synced"}
	c := &cluster.Cluster{ID: "c", Nodes: []cluster.Node{
		{Name: "db-1", ServerID: "s1", Wsrep: synced}, {Name: "db-2", ServerID: "s2", Wsrep: synced},
		{Name: "db-3", ServerID: "s3", Kind: cluster.KindArbitrator, Extra: true, IP: "10.0.0.3"},
	}}
	var m nodeResourceModel
	m.AvailabilityZone = types.StringUnknown()
	m.setObserved(c, c.Nodes[2])
	if m.Role.ValueString() != "arbitrator" || m.WsrepLocalState.ValueString() != "Synced" || m.VolumeID.ValueString() != "" || m.ID.ValueString() != "s3" {
		t.Errorf("arbitrator: %+v", m)
	}
	c.Nodes[0].Wsrep = &cluster.WsrepState{ClusterSize: 2, ClusterStatus: "Primary", LocalState: "Synced"}
	c.Nodes[1].Wsrep = c.Nodes[0].Wsrep
	m.setObserved(c, c.Nodes[2])
	if m.WsrepLocalState.ValueString() != "" {
		t.Errorf("an arbitrator the data nodes do not count: %q", m.WsrepLocalState.ValueString())
	}
	m.setObserved(c, c.Nodes[0])
	if m.Role.ValueString() != "data" || m.WsrepLocalState.ValueString() != "Synced" || m.WsrepClusterStatus.ValueString() != "Primary" {
		t.Errorf("data node: %+v", m)
	}
}

// An arbitrator is no pool member: the pool's plan ignores it.
func TestPoolMembersIgnoreArbitrators(t *testing.T) {
	c := &cluster.Cluster{Nodes: []cluster.Node{{Name: "db-1", IP: "10.200.0.10"}, {Name: "db-2", IP: "10.200.0.11"},
		{Name: "db-3", IP: "10.200.0.12", Kind: cluster.KindArbitrator}}}
	members := []lbMemberModel{
		{NodeName: types.StringValue("db-1"), Address: types.StringValue("10.200.0.10")},
		{NodeName: types.StringValue("db-2"), Address: types.StringValue("10.200.0.11")},
	}
	if !sameMembers(members, c) {
		t.Error("two data nodes and an arbitrator: the two data members are all the pool needs")
	}
}
