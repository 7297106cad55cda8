package swift

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/samples"
)

// The official samples of ../shared/openstack-api/swift (found beside
// the repository by package samples, a failure under CI when absent): our
// answers must have the same keys, value types and headers.
func sample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samples.Dir(t, "swift"), name))
	if err != nil {
		t.Fatalf("read the Swift sample %s: %v", name, err)
	}
	return data
}

// sampleHeaders reads the header names of an HTTP response sample.
func sampleHeaders(t *testing.T, name string) []string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(string(sample(t, name))))
	var out []string
	sc.Scan() // status line
	for sc.Scan() {
		k, _, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			break
		}
		out = append(out, k)
	}
	return out
}

// shape maps each key of a JSON object to the kind of its value.
func shape(t *testing.T, v any) map[string]string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %v", v)
	}
	out := map[string]string{}
	for k, x := range m {
		out[k] = reflect.TypeOf(x).Kind().String()
	}
	return out
}

func firstEntry(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var list []any
	if err := json.Unmarshal(data, &list); err != nil || len(list) == 0 {
		t.Fatalf("listing %s: %v", data, err)
	}
	return shape(t, list[0])
}

func TestConformanceObjectListing(t *testing.T) {
	want := firstEntry(t, sample(t, "objects-list-response.json"))
	e := newEnv(t)
	e.expect(t, 201, "PUT", e.url("/marktwain"), "", "X-Container-Meta-Book", "TomSawyer")
	e.expect(t, 201, "PUT", e.url("/marktwain/goodbye"), string(sample(t, "goodbyeworld.txt")))
	e.expect(t, 201, "PUT", e.url("/marktwain/helloworld"), string(sample(t, "helloworld.txt")))
	resp, body := e.expect(t, 200, "GET", e.url("/marktwain?format=json"), "")
	if got := firstEntry(t, []byte(body)); !reflect.DeepEqual(got, want) {
		t.Errorf("object listing entry shape %v, sample %v", got, want)
	}
	for _, h := range sampleHeaders(t, "objects-list-http-response-json.txt") {
		if resp.Header.Get(h) == "" {
			t.Errorf("object listing lacks header %s (in the sample)", h)
		}
	}
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	var list []map[string]any
	_ = json.Unmarshal([]byte(body), &list)
	if lm, _ := list[0]["last_modified"].(string); len(lm) != len("2014-01-15T16:41:49.390270") || strings.ContainsAny(lm, "Z+") {
		t.Errorf("last_modified %q is not in Swift's format", lm)
	}
}

func TestConformanceAccountListing(t *testing.T) {
	want := firstEntry(t, sample(t, "account-containers-list-response.json"))
	e := newEnv(t)
	e.expect(t, 204, "POST", e.url(""), "", "X-Account-Meta-Subject", "Literature")
	e.expect(t, 201, "PUT", e.url("/janeausten"), "")
	e.expect(t, 201, "PUT", e.url("/marktwain"), "")
	e.expect(t, 201, "PUT", e.url("/marktwain/goodbye"), string(sample(t, "goodbyeworld.txt")))
	resp, body := e.expect(t, 200, "GET", e.url("?format=json"), "")
	if got := firstEntry(t, []byte(body)); !reflect.DeepEqual(got, want) {
		t.Errorf("container listing entry shape %v, sample %v", got, want)
	}
	for _, h := range sampleHeaders(t, "account-containers-list-http-response-json.txt") {
		if resp.Header.Get(h) == "" {
			t.Errorf("account listing lacks header %s (in the sample)", h)
		}
	}
	// The plain-text listing: one name per line.
	resp, body = e.expect(t, 200, "GET", e.url(""), "")
	if body != "janeausten\nmarktwain\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("plain listing %q (%s)", body, resp.Header.Get("Content-Type"))
	}
	for _, h := range sampleHeaders(t, "containers-list-http-response.txt") {
		if resp.Header.Get(h) == "" {
			t.Errorf("plain account listing lacks header %s (in the sample)", h)
		}
	}
}

func TestConformanceCapabilities(t *testing.T) {
	var want map[string]any
	if err := json.Unmarshal(sample(t, "capabilities-list-response.json"), &want); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	_, body := e.expect(t, 200, "GET", e.srv.URL+"/info", "")
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"swift", "slo"} {
		if _, ok := got[section]; !ok {
			t.Errorf("/info lacks %q", section)
		}
	}
	var keys []string
	for k := range want["slo"].(map[string]any) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := got["slo"].(map[string]any)[k]; !ok {
			t.Errorf("/info slo lacks %q", k)
		}
	}
}
