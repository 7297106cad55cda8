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
	tc.rawDo(http.MethodGet, "/load-balancer/v2/lbaas/loadbalancers", nil, nil)
	tc.rawDo(http.MethodGet, "/network/v2.0/ports", nil, map[string]string{"User-Agent": "someone-else"})

	var got struct {
		Total    int            `json:"total"`
		ByCall   map[string]int `json:"by_call"`
		ByStatus map[string]int `json:"by_status"`
		Polls    map[string]int `json:"polls"`
		Requests []LoggedRequest
	}
	if err := json.Unmarshal(tc.admin(http.MethodGet, "/requests?user_agent=Go-http-client", nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 5 || got.ByCall["compute GET"] != 2 || got.ByCall["network GET"] != 1 || got.ByCall["load-balancer GET"] != 2 {
		t.Errorf("request log = total %d, by call %v; want 5: compute GET 2, network GET 1, load-balancer GET 2", got.Total, got.ByCall)
	}
	if got.ByStatus["404"] != 1 || got.ByStatus["200"] != 4 {
		t.Errorf("by status = %v, want 200: 4, 404: 1", got.ByStatus)
	}
	if len(got.Polls) != 1 || got.Polls["load-balancer"] != 1 {
		t.Errorf("polls = %v, want load-balancer: 1 (the second GET of the same list)", got.Polls)
	}
	if err := json.Unmarshal(tc.admin(http.MethodGet, "/requests?reset=true", nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 6 {
		t.Errorf("unfiltered request log holds %d requests (%v), want 6", got.Total, got.ByCall)
	}
	if err := json.Unmarshal(tc.admin(http.MethodGet, "/requests", nil), &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != 0 {
		t.Errorf("after reset the log holds %d requests (%v), want 0", got.Total, got.ByCall)
	}
}
