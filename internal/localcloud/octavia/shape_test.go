package octavia

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/samples"
)

// loadSample reads one of Octavia's api-ref samples; without the samples it
// skips the test (fails it under CI, see package samples).
func loadSample(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples.Dir(t, "octavia"), name))
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return v
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// sameShape reports where got lacks a key the sample has, or has a value of
// another JSON type (null on either side is accepted: the samples and a real
// Octavia use null for unset optional fields).
func sameShape(path string, sample, got any, skip map[string]bool) []string {
	if sample == nil || got == nil || skip[path] {
		return nil
	}
	if kind(sample) != kind(got) {
		return []string{fmt.Sprintf("%s: sample has %s, got %s", path, kind(sample), kind(got))}
	}
	var diffs []string
	switch s := sample.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, sv := range s {
			gv, ok := g[k]
			if !ok {
				if !skip[path+"."+k] {
					diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
				}
				continue
			}
			diffs = append(diffs, sameShape(path+"."+k, sv, gv, skip)...)
		}
	case []any:
		g := got.([]any)
		if len(s) > 0 && len(g) > 0 {
			diffs = append(diffs, sameShape(path+"[]", s[0], g[0], skip)...)
		}
	}
	return diffs
}

// TestShapesMatchSamples compares every answer with the api-ref sample of
// the same call.
func TestShapesMatchSamples(t *testing.T) {
	samples.Dir(t, "octavia") // skip (fail under CI) before building anything
	e := newEnv(t, nil)
	st := buildStack(t, e)
	m := st.members[0]
	get := func(path string) any {
		t.Helper()
		code, body := e.raw(t, "GET", path, "token-a", "")
		if code != 200 {
			t.Fatalf("GET %s: %d %v", path, code, body)
		}
		var v any
		b, _ := json.Marshal(body)
		_ = json.Unmarshal(b, &v)
		return v
	}
	// A real Octavia calls the status tree's monitor "health_monitor".
	tree := loadSample(t, "loadbalancer-status-response.json")
	b, _ := json.Marshal(tree)
	_ = json.Unmarshal([]byte(strings.ReplaceAll(string(b), `"healthmonitor"`, `"health_monitor"`)), &tree)

	for _, c := range []struct {
		sample string
		sv     any
		got    any
		skip   []string
	}{
		{"loadbalancer-show-response.json", nil, get("/v2/lbaas/loadbalancers/" + st.lb.ID), nil},
		{"loadbalancers-list-response.json", nil, get("/v2/lbaas/loadbalancers"), nil},
		// insert_headers is a free-form dict; its keys are the user's.
		{"listener-show-response.json", nil, get("/v2/lbaas/listeners/" + st.listener.ID), []string{"$.listener.insert_headers"}},
		{"listeners-list-response.json", nil, get("/v2/lbaas/listeners"), []string{"$.listeners[].insert_headers"}},
		{"pool-show-response.json", nil, get("/v2/lbaas/pools/" + st.pool.ID), nil},
		{"pools-list-response.json", nil, get("/v2/lbaas/pools"), nil},
		{"member-show-response.json", nil, get("/v2/lbaas/pools/" + st.pool.ID + "/members/" + m.ID), nil},
		{"members-list-response.json", nil, get("/v2/lbaas/pools/" + st.pool.ID + "/members"), nil},
		{"healthmonitor-show-response.json", nil, get("/v2/lbaas/healthmonitors/" + st.monitor.ID), nil},
		{"healthmonitors-list-response.json", nil, get("/v2/lbaas/healthmonitors"), nil},
		// The sample's listener has an L7 policy; this cloud has none.
		{"loadbalancer-status-response.json", tree, get("/v2/lbaas/loadbalancers/" + st.lb.ID + "/status"),
			[]string{"$.statuses.loadbalancer.listeners[].l7policies"}},
		{"versions-get-resp.json", nil, get("/"), nil},
	} {
		sv := c.sv
		if sv == nil {
			sv = loadSample(t, c.sample)
		}
		skip := map[string]bool{}
		for _, s := range c.skip {
			skip[s] = true
		}
		for _, d := range sameShape("$", sv, c.got, skip) {
			t.Errorf("%s: %s", c.sample, d)
		}
	}

	// Create and update answers: the request samples' shapes go back out.
	for _, c := range []struct {
		sample, method, path, body string
	}{
		{"member-create-response.json", "POST", "/v2/lbaas/pools/" + st.pool.ID + "/members",
			`{"member": {"name": "web-server-1", "weight": "20", "admin_state_up": true, "address": "127.0.0.9", "protocol_port": "80", "monitor_port": 8080, "backup": false, "tags": ["test_tag"]}}`},
	} {
		code, body := e.raw(t, c.method, c.path, "token-a", c.body)
		if code != 201 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, code, body)
		}
		var got any
		b, _ := json.Marshal(body)
		_ = json.Unmarshal(b, &got)
		for _, d := range sameShape("$", loadSample(t, c.sample), got, nil) {
			t.Errorf("%s: %s", c.sample, d)
		}
	}
}
