package octavia

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// memberScript starts, inside a host, a TCP server on 3306 that greets
// with the host's name and a clustercheck-like HTTP responder on 9200 that
// answers 200 while /tmp/healthy exists and 503 otherwise.
const memberScript = `touch /tmp/healthy
cat >/tmp/health.sh <<'EOF'
read request
if [ -e /tmp/healthy ]; then printf 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'
else printf 'HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'; fi
EOF
setsid socat TCP-LISTEN:3306,fork,reuseaddr SYSTEM:'hostname' </dev/null >/dev/null 2>&1 &
setsid socat TCP-LISTEN:9200,fork,reuseaddr SYSTEM:'sh /tmp/health.sh' </dev/null >/dev/null 2>&1 &
for i in $(seq 50); do ss -ltn | grep -q ':9200 ' && ss -ltn | grep -q ':3306 ' && exit 0; sleep 0.1; done
echo "responders did not start"; exit 1
`

// TestLoadBalancerOnHostNetwork is the acceptance test: a VIP namespace on a
// real bridge, HAProxy inside it, two VM-like hosts as members. Connections
// are balanced, a failing health check shows the member ERROR and the
// recovery ONLINE, a change during PENDING_UPDATE gets 409, and the cascade
// delete leaves no namespace and no process behind.
func TestLoadBalancerOnHostNetwork(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("socat"); err != nil {
		t.Fatal("socat not installed")
	}
	ctx := context.Background()
	network, err := host.NewNetwork(ctx, host.NetworkOptions{Prefix: "octt", StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := network.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
	})
	e := newEnv(t, network)

	// Hosts boot while the load balancer is being built.
	hosts := make([]*host.Host, 2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := network.StartHost(ctx, host.Options{Name: fmt.Sprintf("n%d", i+1)})
			if err == nil {
				_, err = h.Console(ctx, memberScript)
			}
			hosts[i], errs[i] = h, err
		}()
	}

	lb := e.createLB(t, "galera")
	vip := netip.MustParseAddr(lb.VipAddress)
	if !network.Subnet().Contains(vip) {
		t.Fatalf("VIP %s not in %s", vip, network.Subnet())
	}
	l, err := listeners.Create(ctx, e.a, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolTCP, ProtocolPort: 3306}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	p, err := pools.Create(ctx, e.a, pools.CreateOpts{ListenerID: l.ID, Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	hm, err := monitors.Create(ctx, e.a, monitors.CreateOpts{PoolID: p.ID, Type: monitors.TypeHTTP, Delay: 1, Timeout: 1,
		MaxRetries: 1, MaxRetriesDown: 1, URLPath: "/", ExpectedCodes: "200"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	wg.Wait()
	for i, err := range errs {
		if hosts[i] != nil {
			h := hosts[i]
			t.Cleanup(func() { _ = h.Close() })
		}
		if err != nil {
			t.Fatalf("host n%d: %v", i+1, err)
		}
	}
	// Both members in one batch call, checked on 9200 while traffic goes to 3306.
	var batch []pools.BatchUpdateMemberOpts
	for _, h := range hosts {
		batch = append(batch, pools.BatchUpdateMemberOpts{Name: ptr(h.Name()), Address: h.Addr().String(), ProtocolPort: 3306,
			MonitorPort: ptr(9200), SubnetID: ptr(subnetID)})
	}
	if err := pools.BatchUpdateMembers(ctx, e.a, p.ID, batch).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitActive(t, lb.ID)
	pages, err := pools.ListMembers(e.a, p.ID, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	members, _ := pools.ExtractMembers(pages)
	if len(members) != 2 {
		t.Fatalf("%d members, want 2", len(members))
	}
	byName := map[string]string{}
	for _, m := range members {
		byName[m.Name] = m.ID
	}

	// HAProxy runs inside the VIP's namespace.
	e.svc.mu.Lock()
	amp := e.svc.lbs[lb.ID].amp
	e.svc.mu.Unlock()
	amp.mu.Lock()
	pid := amp.proc.Pid()
	amp.mu.Unlock()
	out, err := exec.Command("ip", "netns", "identify", strconv.Itoa(pid)).Output()
	if err != nil || !strings.Contains(string(out), "lb-"+lb.ID[:8]) {
		t.Fatalf("haproxy %d is in namespace %q (%v), want the load balancer's", pid, out, err)
	}
	nsName := strings.TrimSpace(string(out))

	statusOf := func() map[string]string {
		s, _ := e.memberStatuses(t, lb.ID)
		got := map[string]string{}
		for name, id := range byName {
			got[name] = s[id]
		}
		return got
	}
	waitStatuses := func(n1, n2 string) {
		t.Helper()
		defer func() {
			if t.Failed() { // show what HAProxy saw
				amp.mu.Lock()
				sock := amp.proc.Paths().StatsSocket
				amp.mu.Unlock()
				raw, err := haproxy.Command(ctx, sock, "show stat")
				lg, _ := os.ReadFile(filepath.Join(amp.dir, "haproxy.log"))
				t.Logf("show stat (%v):\n%s\nhaproxy.log:\n%s", err, raw, lg)
			}
		}()
		waitFor(t, fmt.Sprintf("n1 %s, n2 %s", n1, n2), 20*time.Second, func() (bool, error) {
			s := statusOf()
			return s["n1"] == n1 && s["n2"] == n2, nil
		})
	}
	waitStatuses("ONLINE", "ONLINE")
	addr := net.JoinHostPort(lb.VipAddress, "3306")
	seen := map[string]int{}
	for range 6 {
		name, err := greet(addr)
		if err != nil {
			t.Fatal(err)
		}
		seen[name]++
	}
	if seen["n1"] != 3 || seen["n2"] != 3 {
		t.Errorf("round robin over two members: %v, want 3 each", seen)
	}

	if _, err := hosts[0].Console(ctx, "rm /tmp/healthy"); err != nil {
		t.Fatal(err)
	}
	waitStatuses("ERROR", "ONLINE")
	got, _ := loadbalancers.Get(ctx, e.a, lb.ID).Extract()
	if got.OperatingStatus != "DEGRADED" {
		t.Errorf("load balancer with a failing member: %s, want DEGRADED", got.OperatingStatus)
	}
	for range 3 {
		if name, err := greet(addr); err != nil || name != "n2" {
			t.Fatalf("with n1 failing its check: %q %v", name, err)
		}
	}
	if _, err := hosts[0].Console(ctx, "touch /tmp/healthy"); err != nil {
		t.Fatal(err)
	}
	waitStatuses("ONLINE", "ONLINE")

	// A change during PENDING_UPDATE gets 409. (That reloads keep
	// established connections is tested in package haproxy.)
	if _, err := monitors.Update(ctx, e.a, hm.ID, monitors.UpdateOpts{Delay: 2}).Extract(); err != nil {
		t.Fatal(err)
	}
	_, err = pools.UpdateMember(ctx, e.a, p.ID, byName["n1"], pools.UpdateMemberOpts{Weight: ptr(2)}).Extract()
	wantCode(t, err, http.StatusConflict)
	e.waitActive(t, lb.ID)

	if err := loadbalancers.Delete(ctx, e.a, lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.waitGone(t, lb.ID)
	if inv := e.svc.Inventory(); len(inv) != 0 {
		t.Errorf("left behind: %v", inv)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("haproxy %d still exists after delete: %v", pid, err)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), nsName) {
		t.Errorf("namespace %s still exists after delete", nsName)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("VIP still answers after delete")
	}
}
