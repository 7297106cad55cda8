package provider

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// The plan's warning names the nodes a stopped roll left on the old flavor.
func TestRollPlannedNamesPendingNodes(t *testing.T) {
	nodes := []nodeModel{
		{Name: types.StringValue("db-1"), Flavor: types.StringValue("m1.small")},
		{Name: types.StringValue("db-2"), Flavor: types.StringValue("m1.medium")},
		{Name: types.StringValue("db-3"), Flavor: types.StringValue("m1.small")},
	}
	pending, finished := pendingNodes(nodes, func(n nodeModel) bool { return n.Flavor.ValueString() == "m1.medium" })
	d := rollPlannedDiagnostic("flavor", "m1.medium", "resized", pending, finished)
	for _, want := range []string{"2 of 3 nodes are resized", "Still on the old flavor: db-1, db-3.", "Already on it (a roll that stopped part way): db-2."} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
	if d.Summary() != "Rolling Flavor Change" {
		t.Errorf("summary %q", d.Summary())
	}
}

// A failed roll names the node, the attribute and where every node is.
func TestRollFailedNamesNodeAndAttribute(t *testing.T) {
	c := &cluster.Cluster{Nodes: []cluster.Node{
		{Name: "db-1", Flavor: "m1.small"}, {Name: "db-2", Flavor: "m1.medium"}, {Name: "db-3", Flavor: "m1.small"},
		{Name: "db-4", Flavor: "m1.large", Extra: true},
	}}
	err := &cluster.PhaseError{Phase: cluster.PhaseResize, Node: "db-3", Err: errors.New("flavor: Nova did not resize")}
	d := rollFailed("flavor", "m1.medium", "c-1", c, err)
	for _, want := range []string{"stopped at node db-3", "db-1 on m1.small, db-2 on m1.medium, db-3 on m1.small", "Nova did not resize", "old flavor"} {
		if !strings.Contains(d.Detail(), want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail())
		}
	}
	if strings.Contains(d.Detail(), "db-4") {
		t.Errorf("a pxc_node member is listed:\n%s", d.Detail())
	}
	if d.Summary() != "Rolling Resize Failed" {
		t.Errorf("summary %q", d.Summary())
	}
}
