package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestPlanKeepsTheLoadBalancerAddressWhileItsModeStays(t *testing.T) {
	lb := func(mode, id, vip types.String) clusterLoadBalancerModel {
		return clusterLoadBalancerModel{Mode: mode, ID: id, VIPAddress: vip}
	}
	built := lb(types.StringValue("single_writer"), types.StringValue("lb-1"), types.StringValue("10.9.0.200"))
	open := func(mode string) clusterLoadBalancerModel {
		return lb(types.StringValue(mode), types.StringUnknown(), types.StringUnknown())
	}
	base := map[string]any{"name": "demo", "node_count": int64(3)}
	with := func(v any) map[string]any {
		return map[string]any{"name": "demo", "node_count": int64(3), "load_balancer": v}
	}
	for _, tc := range []struct {
		name        string
		state, plan map[string]any
		wantID      types.String
	}{
		{"same mode keeps id and address", with(built), with(open("single_writer")), types.StringValue("lb-1")},
		{"another mode is a new load balancer", with(built), with(open("multi_writer")), types.StringUnknown()},
		{"added", base, with(open("single_writer")), types.StringUnknown()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := clusterModifyPlan(t, tc.state, tc.plan)
			if resp.Diagnostics.HasError() {
				t.Fatal(resp.Diagnostics)
			}
			var got clusterModel
			if d := resp.Plan.Get(context.Background(), &got); d.HasError() {
				t.Fatal(d)
			}
			if got.LoadBalancer == nil || !got.LoadBalancer.ID.Equal(tc.wantID) {
				t.Fatalf("planned load_balancer = %+v, want id %s", got.LoadBalancer, tc.wantID)
			}
			if tc.wantID.IsUnknown() != got.LoadBalancer.VIPAddress.IsUnknown() {
				t.Errorf("vip_address %s planned with id %s", got.LoadBalancer.VIPAddress, got.LoadBalancer.ID)
			}
		})
	}
}
