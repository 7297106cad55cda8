package haproxy

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// backend is a TCP server that greets with its name and echoes lines, plus
// an HTTP health endpoint whose answer the test flips.
type backend struct {
	name    string
	addr    *net.TCPAddr
	health  *net.TCPAddr
	healthy atomic.Bool
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.healthy.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	b.addr = ln.Addr().(*net.TCPAddr)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "%s\n", name)
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "%s:%s\n", name, sc.Text())
				}
			}()
		}
	}()
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.health = hl.Addr().(*net.TCPAddr)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.healthy.Load() {
			w.WriteHeader(200)
		} else {
			w.WriteHeader(503)
		}
	})}
	go srv.Serve(hl)
	t.Cleanup(func() { srv.Close() })
	return b
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func greet(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read greeting from %s: %v", addr, err)
	}
	return line[:len(line)-1]
}

func serverStatus(t *testing.T, socket, proxy, server string) string {
	t.Helper()
	stats, err := Stats(context.Background(), socket)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Proxy == proxy && s.Server == server {
			return s.Status
		}
	}
	t.Fatalf("no stat row %s/%s", proxy, server)
	return ""
}

func waitStatus(t *testing.T, socket, proxy, server, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := serverStatus(t, socket, proxy, server)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s status %q, want %q", proxy, server, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func requireHAProxy(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the rendered config drops privileges to nobody, as Octavia's does")
	}
	if _, err := exec.LookPath(Binary); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("haproxy not installed")
		}
		t.Skip("haproxy not installed")
	}
}

func loopbackLB(port int, b1, b2 *backend, weight1 int) LoadBalancer {
	return LoadBalancer{
		ID: "lbtest", VIP: "127.0.0.1", Enabled: true,
		Listeners: []Listener{{
			ID: "l1", Protocol: ProtocolTCP, Port: port, Enabled: true,
			DefaultPool: &Pool{
				ID: "p1", Protocol: ProtocolTCP, Algorithm: AlgorithmRoundRobin, Enabled: true,
				Monitor: &Monitor{Type: MonitorHTTP, Delay: 1, Timeout: 1, MaxRetries: 1, MaxRetriesDown: 1,
					HTTPMethod: "GET", URLPath: "/", ExpectedCodes: "200", Enabled: true},
				Members: []Member{
					{ID: "m1", Address: "127.0.0.1", Port: b1.addr.Port, Weight: weight1, Enabled: true, MonitorPort: b1.health.Port},
					{ID: "m2", Address: "127.0.0.1", Port: b2.addr.Port, Weight: 1, Enabled: true, MonitorPort: b2.health.Port},
				},
			},
		}},
	}
}

// TestProcessBalancesChecksAndReloads runs the real haproxy on loopback:
// balancing over two members, a failing HTTP check taking a member out and
// its recovery, a reload that keeps an established connection and the
// member's DOWN state, and a clean stop.
func TestProcessBalancesChecksAndReloads(t *testing.T) {
	requireHAProxy(t)
	ctx := context.Background()
	b1, b2 := startBackend(t, "n1"), startBackend(t, "n2")
	port := freePort(t)
	vip := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	_, paths := Files(dir)
	cfg, err := Render(loopbackLB(port, b1, b2, 1), paths)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(ctx, dir, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })

	backend := BackendName("p1", "l1")
	waitStatus(t, paths.StatsSocket, backend, "m1", "UP")
	seen := map[string]int{}
	for range 6 {
		seen[greet(t, vip)]++
	}
	if seen["n1"] == 0 || seen["n2"] == 0 {
		t.Fatalf("round robin did not use both members: %v", seen)
	}

	b1.healthy.Store(false)
	waitStatus(t, paths.StatsSocket, backend, "m1", "DOWN")
	for range 4 {
		if got := greet(t, vip); got != "n2" {
			t.Fatalf("connection went to %s while m1 is DOWN", got)
		}
	}

	// An established connection survives a reload.
	conn, err := net.Dial("tcp", vip)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	if _, err := rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	oldInfo, err := Info(ctx, paths.StatsSocket)
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := Render(loopbackLB(port, b1, b2, 7), paths)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Reload(ctx, cfg2); err != nil {
		t.Fatal(err)
	}
	newInfo, err := Info(ctx, paths.StatsSocket)
	if err != nil {
		t.Fatal(err)
	}
	if newInfo["Pid"] == oldInfo["Pid"] {
		t.Fatal("reload kept the old worker")
	}
	if got := serverStatus(t, paths.StatsSocket, backend, "m1"); got != "DOWN" {
		t.Errorf("m1 status after reload %q, want DOWN kept from the state file", got)
	}
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(conn, "ping\n")
	if line, err := rd.ReadString('\n'); err != nil || line != "n2:ping\n" {
		t.Fatalf("established connection after reload: %q, %v", line, err)
	}

	b1.healthy.Store(true)
	waitStatus(t, paths.StatsSocket, backend, "m1", "UP")

	// A config haproxy rejects leaves the running one in place.
	if err := p.Reload(ctx, "global\n    bogus-keyword\n"); err == nil {
		t.Fatal("reload accepted a bad config")
	}
	if got := greet(t, vip); got != "n1" && got != "n2" {
		t.Fatalf("after a rejected reload: %q", got)
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("master still running after Stop")
	}
	if c, err := net.DialTimeout("tcp", vip, time.Second); err == nil {
		c.Close()
		t.Fatal("listener still accepting after Stop")
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	requireHAProxy(t)
	if _, err := Start(context.Background(), t.TempDir(), "global\n    nonsense\n", Options{}); err == nil {
		t.Fatal("Start accepted a config haproxy rejects")
	}
}
