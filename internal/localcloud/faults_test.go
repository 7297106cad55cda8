package localcloud

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A fault with a body_regex hits only the requests that name its target,
// so tests sharing one cloud aim faults at their own objects; DELETE of
// one fault leaves the others.
func TestFaultBodyRegexAndDelete(t *testing.T) {
	tc := startCloud(t, nil)
	keypair := func(name string) int {
		code, _, _ := tc.rawDo("POST", "/compute/v2.1/os-keypairs", map[string]any{"keypair": map[string]any{"name": name}}, nil)
		return code
	}
	var added struct {
		Fault struct {
			ID string `json:"id"`
		} `json:"fault"`
	}
	b := tc.admin("POST", "/faults", map[string]any{
		"method": "POST", "path_regex": "^/compute/v2.1/os-keypairs$", "body_regex": `"kp-b"`, "status": 500, "count": 1,
	})
	if err := json.Unmarshal(b, &added); err != nil || added.Fault.ID == "" {
		t.Fatalf("add fault: %s (%v)", b, err)
	}
	other := tc.admin("POST", "/faults", map[string]any{
		"method": "POST", "path_regex": "^/compute/v2.1/os-keypairs$", "body_regex": `"kp-c"`, "status": 503, "count": 1,
	})
	if code := keypair("kp-a"); code != 200 && code != 201 {
		t.Errorf("keypair kp-a, not named by the fault: %d", code)
	}
	if code := keypair("kp-b"); code != 500 {
		t.Errorf("keypair kp-b, named by the fault: %d, want the injected 500", code)
	}
	if code := keypair("kp-b"); code != 200 && code != 201 {
		t.Errorf("keypair kp-b after the fault was used up: %d", code)
	}
	var second struct {
		Fault struct {
			ID string `json:"id"`
		} `json:"fault"`
	}
	_ = json.Unmarshal(other, &second)
	if code, _, _ := tc.rawDo("DELETE", "/_admin/faults/"+second.Fault.ID, nil, nil); code != 204 {
		t.Fatalf("delete fault: %d", code)
	}
	if code := keypair("kp-c"); code != 200 && code != 201 {
		t.Errorf("keypair kp-c after its fault was deleted: %d", code)
	}
	if code, _, _ := tc.rawDo("DELETE", fmt.Sprintf("/_admin/faults/%s", second.Fault.ID), nil, nil); code != 404 {
		t.Errorf("deleting a deleted fault: %d, want 404", code)
	}
}

// The admin API arms Octavia's child fault only for a known child and a
// load balancer name pattern (the fault's effect is tested in the octavia
// package and by the provider's fault matrix).
func TestAdminFailNextChild(t *testing.T) {
	tc := startCloud(t, nil)
	for _, bad := range []map[string]any{
		{"child": "member"},
		{"name_regex": "^fm-", "child": "listener"},
		{"name_regex": "(", "child": "member"},
		{"name_regex": "^fm-", "child": "member", "member_name_regex": "("},
	} {
		if code, _, b := tc.rawDo("POST", "/_admin/loadbalancers/fail-next-child", bad, nil); code != 400 {
			t.Errorf("%v: %d %s, want 400", bad, code, b)
		}
	}
	for _, ok := range []map[string]any{
		{"name_regex": "^fm-", "child": "healthmonitor"},
		{"name_regex": "^fm-", "child": "member", "member_name_regex": "-2$"},
	} {
		if code, _, b := tc.rawDo("POST", "/_admin/loadbalancers/fail-next-child", ok, nil); code != 201 {
			t.Errorf("%v: %d %s, want 201", ok, code, b)
		}
	}
}
