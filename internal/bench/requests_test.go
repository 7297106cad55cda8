package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
)

// benchAgent tags the terraform runs of the bench in the local cloud's
// request log (the provider appends TF_APPEND_USER_AGENT to its User-Agent).
const benchAgent = "pxc-bench"

// requestCount is what the local cloud's request log says about one
// terraform command (GET /_admin/requests).
type requestCount struct {
	Total    int            `json:"total"`
	ByCall   map[string]int `json:"by_call"`
	ByStatus map[string]int `json:"by_status"`
	Polls    map[string]int `json:"polls"`
}

// adminRequests asks the local cloud's admin API for its request log of the
// bench's runs, or (method DELETE) starts it over.
func adminRequests(t *testing.T, method string) requestCount {
	t.Helper()
	base := os.Getenv("LOCALCLOUD_ADMIN_URL")
	if base == "" {
		t.Fatal("LOCALCLOUD_ADMIN_URL is not set: tools/bench.sh sources the local cloud's env")
	}
	req, err := http.NewRequest(method, base+"/requests?user_agent="+benchAgent, nil)
	must(t, err)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode >= 300 {
		t.Fatalf("local cloud request log: %s: %s", resp.Status, body)
	}
	var c requestCount
	if method == http.MethodGet {
		must(t, json.Unmarshal(body, &c))
	}
	return c
}

// report prints one command's requests: by service and method, the polls
// (GETs of a URL already read during the command) and the 409 answers.
func (c requestCount) report(b *strings.Builder, command, goal string) {
	polls := 0
	for _, n := range c.Polls {
		polls += n
	}
	fmt.Fprintf(b, "   %-8s %3d requests (%s), %d polls, %d answered 409\n", command, c.Total, goal, polls, c.ByStatus["409"])
	services := map[string][]string{}
	for call, n := range c.ByCall {
		service, method, _ := strings.Cut(call, " ")
		services[service] = append(services[service], fmt.Sprintf("%s %d", method, n))
	}
	names := make([]string, 0, len(services))
	for s := range services {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		sort.Strings(services[s])
		line := fmt.Sprintf("%-14s %s", s, strings.Join(services[s], ", "))
		if p := c.Polls[s]; p > 0 {
			line += fmt.Sprintf("  (%d polls)", p)
		}
		fmt.Fprintf(b, "            %s\n", line)
	}
}
