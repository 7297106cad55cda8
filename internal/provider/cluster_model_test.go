package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

// applyRead keeps the last known cluster state UUID while no node answers,
// without writing it into the cluster it was given, and adopts recorded
// settings the state lacks (as after an import).
func TestApplyReadKeepsLastStateUUIDWithoutChangingTheCluster(t *testing.T) {
	ctx := context.Background()
	m := clusterModel{
		ClusterStateUUID:  types.StringValue("uuid-before"),
		AvailabilityZones: types.ListNull(types.StringType),
		AllowedCIDRs:      types.ListNull(types.StringType),
	}
	c := &cluster.Cluster{ID: "c1", Name: "demo", Nodes: []cluster.Node{{Name: "demo-1", IP: "10.0.0.1"}}}
	c.Requested.AvailabilityZones = []string{"az1"}
	if d := m.applyRead(ctx, c); d.HasError() {
		t.Fatal(d)
	}
	if got := m.ClusterStateUUID.ValueString(); got != "uuid-before" {
		t.Errorf("cluster_state_uuid %q, want the last known uuid-before", got)
	}
	if c.ClusterStateUUID != "" {
		t.Errorf("applyRead wrote %q into the cluster it was given", c.ClusterStateUUID)
	}
	if m.NodeCount.ValueInt64() != 1 || m.ID.ValueString() != "c1" {
		t.Errorf("node_count %v, id %v", m.NodeCount, m.ID)
	}
	var azs []string
	m.AvailabilityZones.ElementsAs(ctx, &azs, false)
	if len(azs) != 1 || azs[0] != "az1" {
		t.Errorf("availability_zones %v, want the recorded [az1]", azs)
	}

	c.ClusterStateUUID = "uuid-now"
	if d := m.applyRead(ctx, c); d.HasError() {
		t.Fatal(d)
	}
	if got := m.ClusterStateUUID.ValueString(); got != "uuid-now" {
		t.Errorf("cluster_state_uuid %q, want uuid-now", got)
	}
}
