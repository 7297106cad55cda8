package localcloud

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestRequestLogCounts: the admin request log counts API requests per
// service and method and per status, leaves admin calls out, and resets.
func TestRequestLogCounts(t *testing.T) {
	tc := startCloud(t, nil)
	tc.admin(http.MethodDelete, "/requests", nil)
	tc.rawDo(http.MethodGet, "/compute/v2.1/servers", nil, nil)
	tc.rawDo(http.MethodGet, "/compute/v2.1/servers/no-such-server", nil, nil)
	tc.rawDo(http.MethodGet, "/network/v2.0/ports", nil, nil)
	tc.rawDo(http.MethodGet, "/load-balancer/v2/lbaas/loadbalancers", nil, nil)

	var got struct {
		Total    int            `json:"total"`
		ByCall   map[string]int `json:"by_call"`
		ByStatus map[string]int `json:"by_status"`
		Requests []LoggedRequest
	}
	if err := json.Unmarshal(tc.admin(http.MethodGet, "/requests?reset=true", nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 4 || got.ByCall["compute GET"] != 2 || got.ByCall["network GET"] != 1 || got.ByCall["load-balancer GET"] != 1 {
		t.Errorf("request log = total %d, by call %v; want 4: compute GET 2, network GET 1, load-balancer GET 1", got.Total, got.ByCall)
	}
	if got.ByStatus["404"] != 1 || got.ByStatus["200"] != 3 {
		t.Errorf("by status = %v, want 200: 3, 404: 1", got.ByStatus)
	}
	if err := json.Unmarshal(tc.admin(http.MethodGet, "/requests", nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 0 {
		t.Errorf("after reset the log holds %d requests (%v), want 0", got.Total, got.ByCall)
	}
}
