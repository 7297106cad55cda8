package provider

import (
	"context"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/cluster"
)

func TestSetObservedReportsWriterAndRoles(t *testing.T) {
	ctx := context.Background()
	c := &cluster.Cluster{ID: "id", Status: cluster.StatusDegraded, Writer: "db-2", Nodes: []cluster.Node{
		{Index: 1, Name: "db-1", IP: "10.0.0.11", Role: cluster.RoleUnavailable},
		{Index: 2, Name: "db-2", IP: "10.0.0.12", Role: cluster.RoleWriter},
		{Index: 3, Name: "db-3", IP: "10.0.0.13", Role: cluster.RoleReader},
	}}
	var m clusterModel
	if d := m.setObserved(ctx, c); d.HasError() {
		t.Fatal(d)
	}
	if m.Writer.ValueString() != "db-2" {
		t.Fatalf("writer = %s, want db-2", m.Writer)
	}
	var nodes []nodeModel
	if d := m.Nodes.ElementsAs(ctx, &nodes, false); d.HasError() {
		t.Fatal(d)
	}
	for i, want := range []string{"unavailable", "writer", "reader"} {
		if got := nodes[i].Role.ValueString(); got != want {
			t.Errorf("node %d role = %q, want %q", i+1, got, want)
		}
	}
}

func TestWriterIsComputedWithoutPlanModifiers(t *testing.T) {
	// A failover changes the writer outside Terraform: a read refreshes it,
	// and it must not be Optional (a config value would fight the cluster)
	// nor kept from state on update (Update writes the observed value).
	s := clusterResourceSchema(context.Background())
	a, ok := s.Attributes["writer"]
	if !ok {
		t.Fatal("pxc_cluster has no writer attribute")
	}
	if !a.IsComputed() || a.IsOptional() || a.IsRequired() {
		t.Fatal("writer must be computed only")
	}
	if ds := clusterDataSourceSchema(); ds.Attributes["writer"] == nil {
		t.Fatal("the pxc_cluster data source has no writer attribute")
	}
}
