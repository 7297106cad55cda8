package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/nova"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// fault is an injected failure: the next Count requests whose method and
// path match (and, when BodyRegex is set, whose body matches it) answer
// Status in the service's error format. BodyRegex lets tests running side
// by side aim a fault at their own objects, e.g. at the port named "db-2".
type fault struct {
	ID         string `json:"id"`
	Method     string `json:"method"`
	PathRegex  string `json:"path_regex"`
	BodyRegex  string `json:"body_regex,omitempty"`
	Status     int    `json:"status"`
	Count      int    `json:"count"`
	RetryAfter int    `json:"retry_after,omitempty"`
	Message    string `json:"message,omitempty"`
	re         *regexp.Regexp
	bodyRe     *regexp.Regexp
}

func (f *fault) message() string {
	if f.Message != "" {
		return f.Message
	}
	switch f.Status {
	case 409:
		return "Injected conflict (localcloud admin fault)."
	case 429:
		return "This request was rate-limited (localcloud admin fault)."
	case 503:
		return "The server is currently unavailable. Please try again at a later time (localcloud admin fault)."
	}
	return "Unexpected API Error (localcloud admin fault)."
}

// maxFaultBody bounds how much of a request body a body_regex sees.
const maxFaultBody = 1 << 20

func (c *Cloud) matchFault(r *http.Request) *fault {
	var body []byte
	c.Mu.Lock()
	needBody := false
	for _, f := range c.faults {
		needBody = needBody || f.bodyRe != nil
	}
	c.Mu.Unlock()
	if needBody && r.Body != nil {
		// Read the body once and hand the service an identical copy.
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxFaultBody))
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	for i, f := range c.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if !f.re.MatchString(r.URL.Path) {
			continue
		}
		if f.bodyRe != nil && !f.bodyRe.Match(body) {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			c.faults = append(c.faults[:i], c.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func (c *Cloud) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_admin/ready", func(w http.ResponseWriter, r *http.Request) {
		core.WriteJSON(w, 200, map[string]any{"ready": true, "url": c.baseURL})
	})
	mux.HandleFunc("GET /_admin/inventory", c.adminInventory)
	mux.HandleFunc("GET /_admin/faults", c.adminListFaults)
	mux.HandleFunc("POST /_admin/faults", c.adminAddFault)
	mux.HandleFunc("DELETE /_admin/faults", c.adminClearFaults)
	mux.HandleFunc("DELETE /_admin/faults/{id}", c.adminDeleteFault)
	mux.HandleFunc("POST /_admin/next-server-error", c.adminNextServerError)
	mux.HandleFunc("POST /_admin/console/hide-fingerprints", c.adminHideConsoleFingerprints)
	mux.HandleFunc("POST /_admin/delay", c.adminDelay)
	mux.HandleFunc("POST /_admin/tokens/expire", c.adminExpireTokens)
	mux.HandleFunc("POST /_admin/servers/{id}/{op}", c.adminServerOp)
	mux.HandleFunc("GET /_admin/servers/{id}", c.adminServerInfo)
	mux.HandleFunc("POST /_admin/loadbalancers/{id}/{op}", c.adminLoadBalancerOp)
	mux.HandleFunc("POST /_admin/loadbalancers/fail-next-child", c.adminFailNextChild)
	mux.HandleFunc("GET /_admin/requests", c.adminRequests)
	mux.HandleFunc("GET /_admin/package-source", c.adminPackageRequests)
	mux.HandleFunc("DELETE /_admin/requests", c.adminRequests)
	mux.HandleFunc("POST /_admin/reset", c.adminReset)
	mux.HandleFunc("POST /_admin/shutdown", c.adminShutdown)
}

// adminLoadBalancerOp injects Octavia's failures: "error" puts a load
// balancer in provisioning_status ERROR (what a failed amphora build
// leaves), "kill-haproxy" kills its HAProxy (operating_status ERROR).
func (c *Cloud) adminLoadBalancerOp(w http.ResponseWriter, r *http.Request) {
	faults, ok := c.lb.(interface {
		SetLoadBalancerError(id string) error
		KillHAProxy(id string) error
	})
	if !ok {
		adminErr(w, 501, "the load-balancer service cannot inject faults")
		return
	}
	id := r.PathValue("id")
	var err error
	switch op := r.PathValue("op"); op {
	case "error":
		err = faults.SetLoadBalancerError(id)
	case "kill-haproxy":
		err = faults.KillHAProxy(id)
	default:
		adminErr(w, 404, "unknown load balancer operation %q (error, kill-haproxy)", op)
		return
	}
	if err != nil {
		adminErr(w, 404, "%v", err)
		return
	}
	core.WriteJSON(w, 200, map[string]any{"id": id, "done": r.PathValue("op")})
}

// adminFailNextChild arms Octavia's asynchronous child fault:
// {"name_regex": "^db-", "child": "healthmonitor"|"member",
// "member_name_regex": "-2$"}. The next fully populated create of a load
// balancer whose name matches is accepted (201); when it settles, its
// health monitor or the matching member (the first one without
// member_name_regex) is in provisioning_status ERROR and the load balancer
// ACTIVE.
func (c *Cloud) adminFailNextChild(w http.ResponseWriter, r *http.Request) {
	faults, ok := c.lb.(interface {
		FailNextChild(lbName *regexp.Regexp, child string, memberName *regexp.Regexp) error
	})
	if !ok {
		adminErr(w, 501, "the load-balancer service cannot inject faults")
		return
	}
	var req struct {
		NameRegex       string `json:"name_regex"`
		Child           string `json:"child"`
		MemberNameRegex string `json:"member_name_regex"`
	}
	if err := core.ReadJSON(r, &req); err != nil {
		adminErr(w, 400, "%s", err)
		return
	}
	if req.NameRegex == "" {
		adminErr(w, 400, "name_regex is required (the load balancer's name)")
		return
	}
	lbName, err := regexp.Compile(req.NameRegex)
	if err != nil {
		adminErr(w, 400, "name_regex: %s", err)
		return
	}
	var memberName *regexp.Regexp
	if req.MemberNameRegex != "" {
		if memberName, err = regexp.Compile(req.MemberNameRegex); err != nil {
			adminErr(w, 400, "member_name_regex: %s", err)
			return
		}
	}
	if err := faults.FailNextChild(lbName, req.Child, memberName); err != nil {
		adminErr(w, 400, "%v", err)
		return
	}
	core.WriteJSON(w, 201, map[string]any{"armed": req})
}

func adminErr(w http.ResponseWriter, code int, format string, args ...any) {
	core.WriteError(w, core.Admin, core.Errf(code, format, args...))
}

// Inventory lists every resource the APIs know, for "nothing left behind" checks.
type Inventory struct {
	Servers        []InventoryItem `json:"servers"`
	Volumes        []InventoryItem `json:"volumes"`
	Ports          []InventoryItem `json:"ports"`
	SecurityGroups []InventoryItem `json:"security_groups"`
	ServerGroups   []InventoryItem `json:"server_groups"`
	Keypairs       []InventoryItem `json:"keypairs"`
	LoadBalancers  []InventoryItem `json:"load_balancers"`
	FloatingIPs    []InventoryItem `json:"floating_ips"`
	Hosts          int             `json:"hosts"`
	Disks          int             `json:"disks"`
}

// InventoryItem names one resource.
type InventoryItem struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status,omitempty"`
}

// Empty reports whether nothing user-made is left (the default security
// group does not count).
func (i Inventory) Empty() bool {
	return len(i.Servers)+len(i.Volumes)+len(i.Ports)+len(i.SecurityGroups)+len(i.ServerGroups)+
		len(i.Keypairs)+len(i.LoadBalancers)+len(i.FloatingIPs)+i.Hosts+i.Disks == 0
}

// Inventory returns what the cloud holds now.
func (c *Cloud) Inventory() Inventory {
	c.Mu.Lock()
	inv := Inventory{Hosts: len(c.Hosts), Disks: len(c.Disks), Servers: []InventoryItem{},
		Volumes: []InventoryItem{}, Ports: []InventoryItem{}, SecurityGroups: []InventoryItem{},
		ServerGroups: []InventoryItem{}, Keypairs: []InventoryItem{}, FloatingIPs: []InventoryItem{}}
	for _, s := range c.nova.SortedServers() {
		inv.Servers = append(inv.Servers, InventoryItem{s.ID, s.Name, nova.StatusOf(s)})
	}
	for _, v := range c.cinder.SortedVolumes() {
		inv.Volumes = append(inv.Volumes, InventoryItem{v.ID, v.Name, v.Status})
	}
	for _, p := range c.neutron.SortedPorts() {
		inv.Ports = append(inv.Ports, InventoryItem{p.ID, p.Name, c.neutron.PortStatus(p)})
	}
	for _, f := range c.neutron.SortedFloatingIPs() {
		inv.FloatingIPs = append(inv.FloatingIPs, InventoryItem{f.ID, f.Address, f.Status()})
	}
	for _, g := range c.neutron.SortedSecGroups() {
		if g.ID != c.St.DefaultSGID {
			inv.SecurityGroups = append(inv.SecurityGroups, InventoryItem{ID: g.ID, Name: g.Name})
		}
	}
	for _, g := range c.St.ServerGroups {
		inv.ServerGroups = append(inv.ServerGroups, InventoryItem{ID: g.ID, Name: g.Name})
	}
	sort.Slice(inv.ServerGroups, func(i, j int) bool { return inv.ServerGroups[i].ID < inv.ServerGroups[j].ID })
	for _, k := range c.St.Keypairs {
		inv.Keypairs = append(inv.Keypairs, InventoryItem{ID: k.Name, Name: k.Name})
	}
	sort.Slice(inv.Keypairs, func(i, j int) bool { return inv.Keypairs[i].ID < inv.Keypairs[j].ID })
	c.Mu.Unlock()
	inv.LoadBalancers = c.listLoadBalancers()
	if inv.LoadBalancers == nil {
		inv.LoadBalancers = []InventoryItem{}
	}
	return inv
}

// listLoadBalancers asks the load-balancer service, through its own API,
// which load balancers exist.
func (c *Cloud) listLoadBalancers() []InventoryItem {
	if c.lb == nil {
		return nil
	}
	tok := c.keystone.InternalToken()
	req := httptest.NewRequest(http.MethodGet, "/v2/lbaas/loadbalancers", nil)
	req.Header.Set("X-Auth-Token", tok)
	rec := httptest.NewRecorder()
	c.lb.ServeHTTP(rec, req)
	var body struct {
		LBs []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Status string `json:"provisioning_status"`
		} `json:"loadbalancers"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		return []InventoryItem{{ID: "?", Name: fmt.Sprintf("load-balancer list answered %d", rec.Code)}}
	}
	var out []InventoryItem
	for _, lb := range body.LBs {
		out = append(out, InventoryItem{lb.ID, lb.Name, lb.Status})
	}
	return out
}

func (c *Cloud) adminInventory(w http.ResponseWriter, r *http.Request) {
	core.WriteJSON(w, 200, c.Inventory())
}

func (c *Cloud) adminListFaults(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	out := []*fault{}
	out = append(out, c.faults...)
	core.WriteJSON(w, 200, map[string]any{"faults": out})
}

func (c *Cloud) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var f fault
	if err := core.ReadJSON(r, &f); err != nil {
		adminErr(w, 400, "%s", err)
		return
	}
	if f.Status < 400 || f.Status > 599 {
		adminErr(w, 400, "status must be an HTTP error code (400-599), got %d", f.Status)
		return
	}
	if f.PathRegex == "" {
		adminErr(w, 400, "path_regex is required (e.g. \"^/compute/v2.1/servers$\")")
		return
	}
	re, err := regexp.Compile(f.PathRegex)
	if err != nil {
		adminErr(w, 400, "path_regex: %s", err)
		return
	}
	if f.BodyRegex != "" {
		if f.bodyRe, err = regexp.Compile(f.BodyRegex); err != nil {
			adminErr(w, 400, "body_regex: %s", err)
			return
		}
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.Status == 429 && f.RetryAfter <= 0 {
		f.RetryAfter = 1
	}
	f.re = re
	f.ID = core.NewUUID()
	c.Mu.Lock()
	c.faults = append(c.faults, &f)
	c.Mu.Unlock()
	core.WriteJSON(w, 201, map[string]any{"fault": f})
}

func (c *Cloud) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	c.faults = nil
	c.Mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// adminDeleteFault removes one fault (what is left of its count), so tests
// sharing the cloud clear their own faults only.
func (c *Cloud) adminDeleteFault(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	for i, f := range c.faults {
		if f.ID == r.PathValue("id") {
			c.faults = append(c.faults[:i], c.faults[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	adminErr(w, 404, "fault %s not found (used up or cleared)", r.PathValue("id"))
}

func (c *Cloud) adminNextServerError(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Count   int    `json:"count"`
		Message string `json:"message"`
	}
	if r.ContentLength != 0 {
		if err := core.ReadJSON(r, &req); err != nil {
			adminErr(w, 400, "%s", err)
			return
		}
	}
	if req.Count <= 0 {
		req.Count = 1
	}
	c.Mu.Lock()
	c.nova.FailNextBuilds(req.Count, req.Message)
	c.Mu.Unlock()
	core.WriteJSON(w, 200, map[string]any{"next_server_errors": req.Count})
}

// adminHideConsoleFingerprints makes servers whose name starts with
// {"name_prefix": "..."} boot without printing their SSH host key
// fingerprints on the console (cloud-init's ssh.emit_keys_to_console:
// false, or an image without cloud-init).
func (c *Cloud) adminHideConsoleFingerprints(w http.ResponseWriter, r *http.Request) {
	var req struct {
		NamePrefix string `json:"name_prefix"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.NamePrefix == "" {
		adminErr(w, 400, "body must be {\"name_prefix\": \"...\"} with a non-empty prefix")
		return
	}
	c.Mu.Lock()
	c.nova.HideConsoleFingerprints(req.NamePrefix)
	c.Mu.Unlock()
	core.WriteJSON(w, 200, map[string]any{"console_fingerprints_hidden_for": req.NamePrefix})
}

func (c *Cloud) adminDelay(w http.ResponseWriter, r *http.Request) {
	var req struct {
		StepMS int `json:"step_ms"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.StepMS < 0 {
		adminErr(w, 400, "body must be {\"step_ms\": N} with N >= 0")
		return
	}
	c.Mu.Lock()
	c.SetStepDelay(time.Duration(req.StepMS) * time.Millisecond)
	if req.StepMS == 0 {
		c.SetStepDelay(c.cfg.StepDelay)
	}
	d := c.StepDelay()
	c.Mu.Unlock()
	core.WriteJSON(w, 200, map[string]any{"step_ms": d.Milliseconds()})
}

func (c *Cloud) adminExpireTokens(w http.ResponseWriter, r *http.Request) {
	n := c.keystone.RevokeAll()
	core.WriteJSON(w, 200, map[string]any{"expired": n})
}

func (c *Cloud) adminServerInfo(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.St.Servers[r.PathValue("id")]
	if !ok {
		adminErr(w, 404, "server %s not found", r.PathValue("id"))
		return
	}
	info := map[string]any{"id": s.ID, "status": nova.StatusOf(s), "hypervisor": s.Hypervisor, "hostname": s.Hostname}
	h := c.Hosts[s.ID]
	if h != nil {
		info["netns"] = h.NetNS()
		info["addr"] = h.Addr().String()
		info["firewall"] = c.neutron.RenderFirewall(s)
		info["init"] = "none" // an init-less host
		if h.Systemd() {
			info["init"] = "systemd"
		}
	}
	c.Mu.Unlock()
	if h != nil {
		info["running"] = h.Running() // may wait for a host mid-shutdown: not under c.Mu
	}
	c.Mu.Lock() // for the deferred Unlock
	core.WriteJSON(w, 200, info)
}

// Guest faults: what goes wrong inside a VM that the cloud does not see.
const (
	// brokenMySQLConfig is an option file that sorts after every other one
	// in the MariaDB and Percona include directories and names an option
	// the server does not know: mysqld refuses to start, as after a bad
	// config pushed by something else.
	brokenMySQLConfig = `for d in /etc/mysql/mariadb.conf.d /etc/mysql/mysql.conf.d /etc/mysql/percona-xtradb-cluster.conf.d; do
  [ -d "$d" ] && printf '[mysqld]\nlocalcloud_injected_fault = 1\n' > "$d/zzz-localcloud-fault.cnf"
done; true`
	// sstPortTaken holds the SST port (4444) with another program, so an
	// rsync or mariabackup SST to this node fails ("port has been taken").
	sstPortTaken = `setsid socat TCP-LISTEN:4444,reuseaddr,fork /dev/null >/dev/null 2>&1 </dev/null &`
	// killedMySQLD is `kill -9` of the database server as an operator or
	// the OOM killer does it: the wrapper first (mysqld_safe would restart
	// the server), then the server; nothing is cleaned up. It fails when
	// no server ran, so a test cannot believe it killed one.
	killedMySQLD = `pkill -KILL -x mysqld_safe; found=1
for p in mariadbd mysqld; do pkill -KILL -x "$p" && found=0; done
exit $found`
	// stoppedMySQLD is a clean stop of the database server behind the
	// provider's back, as an operator does it: on a systemd guest
	// `systemctl stop` of the unit that runs it (a stop the unit's
	// Restart= policy does not undo), else SIGTERM to the server (its
	// clean shutdown; mysqld_safe then ends too). It waits until no server
	// runs, and fails when none ran.
	stoppedMySQLD = `if [ -d /run/systemd/system ]; then
  units=$(systemctl list-units --plain --no-legend --state=active,activating,reloading 'mariadb*' 'mysql*' | awk '{print $1}')
  [ -n "$units" ] || exit 1
  systemctl stop $units || exit 1
else
  found=1
  for p in mariadbd mysqld; do pkill -TERM -x "$p" && found=0; done
  [ $found = 0 ] || exit 1
fi
for i in $(seq 1 500); do
  pgrep -x mariadbd >/dev/null || pgrep -x mysqld >/dev/null || pgrep -x mysqld_safe >/dev/null || exit 0
  sleep 0.1
done
echo "the server still runs after 50 s" >&2; exit 1`
)

// adminServerOp simulates what happens to a VM behind nova's back: power
// off (nova's power sync then reports SHUTOFF), power on, network partition,
// and guest faults: mysqld that cannot start ("break-mysqld"), an SST
// port held by another program ("take-sst-port"), `kill -9` of the
// database server ("kill-mysqld") and its clean stop ("stop-mysqld").
func (c *Cloud) adminServerOp(w http.ResponseWriter, r *http.Request) {
	id, op := r.PathValue("id"), r.PathValue("op")
	c.Mu.Lock()
	s, ok := c.St.Servers[id]
	h := c.Hosts[id]
	c.Mu.Unlock()
	if !ok || h == nil {
		adminErr(w, 404, "server %s has no host", id)
		return
	}
	_ = s
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	var err error
	switch op {
	case "poweroff", "crash":
		err = h.PowerOff(ctx)
		if err == nil {
			c.nova.FinishAction(id, "stopped", 4, nil)
		}
	case "poweron":
		err = c.nova.PowerOnHost(ctx, id, h)
		if err == nil {
			c.nova.FinishAction(id, "active", 1, nil)
		}
	case "partition":
		var req struct {
			Peers []string `json:"peers"`
		}
		if r.ContentLength != 0 {
			if e := core.ReadJSON(r, &req); e != nil {
				adminErr(w, 400, "%s", e)
				return
			}
		}
		if len(req.Peers) == 0 {
			err = h.CutNetwork(ctx)
		} else {
			var peers []netip.Addr
			for _, p := range req.Peers {
				a, e := netip.ParseAddr(p)
				if e != nil {
					adminErr(w, 400, "peer %q is not an IP address", p)
					return
				}
				peers = append(peers, a)
			}
			err = h.Blackhole(ctx, peers...)
		}
	case "heal":
		var req struct {
			Peers []string `json:"peers"`
		}
		if r.ContentLength != 0 {
			_ = core.ReadJSON(r, &req)
		}
		err = h.HealNetwork(ctx)
		if err == nil && len(req.Peers) > 0 {
			var peers []netip.Addr
			for _, p := range req.Peers {
				if a, e := netip.ParseAddr(p); e == nil {
					peers = append(peers, a)
				}
			}
			err = h.Unblackhole(ctx, peers...)
		}
	case "fail-resize", "fail-rebuild":
		var req struct {
			Message string `json:"message"`
		}
		if r.ContentLength != 0 {
			if e := core.ReadJSON(r, &req); e != nil {
				adminErr(w, 400, "%s", e)
				return
			}
		}
		c.Mu.Lock()
		if op == "fail-resize" {
			c.nova.FailNextResize(id, req.Message)
		} else {
			c.nova.FailNextRebuild(id, req.Message)
		}
		c.Mu.Unlock()
	case "break-mysqld":
		_, err = h.Console(ctx, brokenMySQLConfig)
	case "take-sst-port":
		_, err = h.Console(ctx, sstPortTaken)
	case "kill-mysqld":
		_, err = h.Console(ctx, killedMySQLD)
	case "stop-mysqld":
		_, err = h.Console(ctx, stoppedMySQLD)
	default:
		adminErr(w, 404, "unknown server operation %q (poweroff, poweron, partition, heal, fail-resize, fail-rebuild, break-mysqld, take-sst-port, kill-mysqld, stop-mysqld)", op)
		return
	}
	if err != nil {
		adminErr(w, 500, "%s %s: %v", op, id, err)
		return
	}
	core.WriteJSON(w, 200, map[string]any{"server": id, "op": op, "ok": true})
}

// adminReset deletes every server, volume, port and load balancer now.
func (c *Cloud) adminReset(w http.ResponseWriter, r *http.Request) {
	if err := c.Reset(r.Context()); err != nil {
		adminErr(w, 500, "reset: %v", err)
		return
	}
	core.WriteJSON(w, 200, c.Inventory())
}

// Reset deletes every server, volume, port, load balancer, keypair, server
// group and security group (but the default one), as `localcloud down` does.
func (c *Cloud) Reset(ctx context.Context) error {
	if c.lb != nil {
		for _, lb := range c.listLoadBalancers() {
			req := httptest.NewRequest(http.MethodDelete, "/v2/lbaas/loadbalancers/"+lb.ID+"?cascade=true", nil)
			req.Header.Set("X-Auth-Token", c.keystone.InternalToken())
			rec := httptest.NewRecorder()
			c.lb.ServeHTTP(rec, req)
		}
	}
	// Let running transitions settle, then remove everything.
	if err := c.WaitIdle(ctx); err != nil {
		return err
	}
	if err := c.deleteEverything(ctx); err != nil {
		return err
	}
	if err := c.objects.svc.DeleteAll(); err != nil {
		return err
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	c.St.Keypairs = map[string]*state.Keypair{}
	c.St.ServerGroups = map[string]*state.ServerGroup{}
	for id := range c.St.SecurityGroups {
		if id != c.St.DefaultSGID {
			delete(c.St.SecurityGroups, id)
		}
	}
	for id, rl := range c.St.Rules {
		if rl.GroupID != c.St.DefaultSGID {
			delete(c.St.Rules, id)
		}
	}
	return c.Persist()
}

// ShutdownRequested is closed when POST /_admin/shutdown arrives; the main
// binary then closes the cloud and exits.
func (c *Cloud) ShutdownRequested() <-chan struct{} {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.shutdownReq == nil {
		c.shutdownReq = make(chan struct{})
	}
	return c.shutdownReq
}

func (c *Cloud) adminShutdown(w http.ResponseWriter, r *http.Request) {
	c.Mu.Lock()
	if c.shutdownReq == nil {
		c.shutdownReq = make(chan struct{})
	}
	select {
	case <-c.shutdownReq:
	default:
		close(c.shutdownReq)
	}
	c.Mu.Unlock()
	core.WriteJSON(w, 202, map[string]any{"shutting_down": true})
}
