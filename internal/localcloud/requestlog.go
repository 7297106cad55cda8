package localcloud

import (
	"net/http"
	"strings"
	"sync"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
)

// maxLoggedRequests bounds the request log; counting economy needs the
// requests of one terraform command, not of a cloud's lifetime.
const maxLoggedRequests = 100000

// LoggedRequest is one API request the cloud answered (admin calls are not
// logged): what `make bench` and the economy test count.
type LoggedRequest struct {
	Service string `json:"service"` // identity, compute, image, volume, network, load-balancer
	Method  string `json:"method"`
	Path    string `json:"path"`
	Query   string `json:"query,omitempty"`
	Status  int    `json:"status"`
	// UserAgent tells apart the clients sharing one cloud (a test tags its
	// terraform runs with TF_APPEND_USER_AGENT).
	UserAgent string `json:"user_agent"`
}

// requestLog records API requests until reset.
type requestLog struct {
	mu      sync.Mutex
	entries []LoggedRequest
	dropped int
}

func (l *requestLog) add(r *http.Request, status int) {
	if strings.HasPrefix(r.URL.Path, "/_admin") {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= maxLoggedRequests {
		l.dropped++
		return
	}
	l.entries = append(l.entries, LoggedRequest{Service: serviceName(r.URL.Path), Method: r.Method, Path: r.URL.Path,
		Query: r.URL.RawQuery, Status: status, UserAgent: r.UserAgent()})
}

// take returns the log and, when reset is set, empties it.
func (l *requestLog) take(reset bool) ([]LoggedRequest, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out, dropped := append([]LoggedRequest{}, l.entries...), l.dropped
	if reset {
		l.entries, l.dropped = nil, 0
	}
	return out, dropped
}

// serviceName is the catalog type of the service a path belongs to.
func serviceName(path string) string {
	switch serviceOf(path) {
	case core.Identity:
		return "identity"
	case core.Compute:
		return "compute"
	case core.Image:
		return "image"
	case core.Volume:
		return "volume"
	case core.Network:
		return "network"
	}
	if strings.HasPrefix(path, "/load-balancer") {
		return "load-balancer"
	}
	return "other"
}

// adminRequests answers GET /_admin/requests: every API request since the
// last reset (only those whose User-Agent contains ?user_agent=, when
// given), with counts per "service method", per status, and the polls: GETs
// of a URL already read since the reset. With ?reset=true the log starts
// over after this answer; DELETE only resets.
func (c *Cloud) adminRequests(w http.ResponseWriter, r *http.Request) {
	entries, dropped := c.requests.take(r.Method == http.MethodDelete || r.URL.Query().Get("reset") == "true")
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	agent := r.URL.Query().Get("user_agent")
	byCall := map[string]int{}
	byStatus := map[int]int{}
	polls := map[string]int{}
	seen := map[string]bool{}
	kept := []LoggedRequest{}
	for _, e := range entries {
		if agent != "" && !strings.Contains(e.UserAgent, agent) {
			continue
		}
		kept = append(kept, e)
		byCall[e.Service+" "+e.Method]++
		byStatus[e.Status]++
		if e.Method == http.MethodGet {
			url := e.Path + "?" + e.Query
			if seen[url] {
				polls[e.Service]++
			}
			seen[url] = true
		}
	}
	core.WriteJSON(w, 200, map[string]any{
		"total": len(kept), "dropped": dropped, "by_call": byCall, "by_status": byStatus,
		"polls": polls, "requests": kept,
	})
}
