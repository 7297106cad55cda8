package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// A strict single writer cannot work with a TCP check (Octavia's `option
// allbackups` would make every node a writer): refused before any call.
func TestLBPoolRefusesSingleWriterWithTCPCheck(t *testing.T) {
	clearOSEnv(t)
	cfg := `
provider "pxc" {
  auth_url = "http://127.0.0.1:1/v3"
}
resource "pxc_lb_pool" "test" {
  cluster_id   = "0d5e8f3a-6a8e-4c6f-9d7e-4a5b2c1d0e9f"
  health_check = "tcp"
}
`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg, PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)Single Writer Needs The Galera Check.*allbackups`),
		}},
	})
}

func TestMembersFollowTheClusterNodes(t *testing.T) {
	c := &cluster.Cluster{Nodes: []cluster.Node{{Name: "db-1", IP: "10.200.0.10"}, {Name: "db-2", IP: "10.200.0.11"}, {Name: "db-3", IP: "10.200.0.12"}}}
	member := func(name, ip string) lbMemberModel {
		return lbMemberModel{NodeName: types.StringValue(name), Address: types.StringValue(ip)}
	}
	same := []lbMemberModel{member("db-1", "10.200.0.10"), member("db-2", "10.200.0.11"), member("db-3", "10.200.0.12")}
	if !sameMembers(same, c) {
		t.Fatal("identical members reported as changed")
	}
	for name, members := range map[string][]lbMemberModel{
		"node gone":   same[:2],
		"new address": {member("db-1", "10.200.0.10"), member("db-2", "10.200.0.99"), member("db-3", "10.200.0.12")},
		"renamed":     {member("db-1", "10.200.0.10"), member("db-2", "10.200.0.11"), member("db-4", "10.200.0.12")},
	} {
		if sameMembers(members, c) {
			t.Errorf("%s: members reported unchanged", name)
		}
	}
}
