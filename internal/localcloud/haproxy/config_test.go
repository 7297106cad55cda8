package haproxy

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// galeraLB is the shape the provider builds: a TCP listener on 3306, a pool
// with a writer and a backup, checked over HTTP on 9200 (clustercheck).
func galeraLB() LoadBalancer {
	return LoadBalancer{
		ID: "lb-1", VIP: "10.210.0.50", Enabled: true,
		Listeners: []Listener{{
			ID: "listener-1", Protocol: ProtocolTCP, Port: 3306, Enabled: true, ConnectionLimit: -1,
			TimeoutClientData: 3600000, TimeoutMemberData: 3600000,
			DefaultPool: &Pool{
				ID: "pool-1", Protocol: ProtocolTCP, Algorithm: AlgorithmLeastConnections, Enabled: true,
				Monitor: &Monitor{Type: MonitorHTTP, Delay: 2, Timeout: 1, MaxRetries: 2, MaxRetriesDown: 3,
					HTTPMethod: "GET", URLPath: "/", ExpectedCodes: "200", Enabled: true},
				Members: []Member{
					{ID: "m-1", Address: "10.210.0.11", Port: 3306, Weight: 1, Enabled: true, MonitorPort: 9200},
					{ID: "m-2", Address: "10.210.0.12", Port: 3306, Weight: 1, Backup: true, Enabled: true,
						MonitorAddress: "10.210.0.112", MonitorPort: 9200},
					{ID: "m-3", Address: "10.210.0.13", Port: 3306, Weight: 5, Enabled: false},
				},
			},
		}, {
			ID: "listener-2", Protocol: ProtocolTCP, Port: 8080, Enabled: true, ConnectionLimit: 100,
			AllowedCIDRs: []string{"10.210.0.0/24", "192.0.2.7/32"},
			DefaultPool: &Pool{
				ID: "pool-2", Protocol: ProtocolTCP, Algorithm: AlgorithmSourceIP, Enabled: true,
				SessionPersistence: PersistenceSourceIP,
				Monitor:            &Monitor{Type: MonitorTCP, Delay: 5, Timeout: 3, MaxRetries: 1, MaxRetriesDown: 2, Enabled: true},
				Members:            []Member{{ID: "m-4", Address: "10.210.0.14", Port: 80, Weight: 10, Enabled: true}},
			},
		}, {
			ID: "listener-off", Protocol: ProtocolTCP, Port: 9000, Enabled: false,
		}},
	}
}

func TestRenderGolden(t *testing.T) {
	cases := map[string]LoadBalancer{
		"galera": galeraLB(),
		"disabled": func() LoadBalancer {
			lb := galeraLB()
			lb.Enabled = false
			return lb
		}(),
		"http_versions": {
			ID: "lb-2", VIP: "10.210.0.51", Enabled: true,
			Listeners: []Listener{{
				ID: "l-http", Protocol: ProtocolHTTP, Port: 80, Enabled: true, TimeoutTCPInspect: 500,
				DefaultPool: &Pool{
					ID: "p-http", Protocol: ProtocolHTTP, Algorithm: AlgorithmRoundRobin, Enabled: true,
					SessionPersistence: PersistenceHTTPCookie,
					Monitor: &Monitor{Type: MonitorHTTP, Delay: 3, Timeout: 1, MaxRetries: 2, MaxRetriesDown: 3,
						HTTPMethod: "HEAD", URLPath: "/health", ExpectedCodes: "204,200-202", HTTPVersion: "1.1",
						DomainName: "example.test", Enabled: true},
					Members: []Member{{ID: "m-h", Address: "10.210.0.20", Port: 8080, Weight: 1, Enabled: true}},
				},
			}},
		},
	}
	_, paths := Files("/run/lb")
	for name, lb := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Render(lb, paths)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".cfg")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("config differs from %s (run with -update to accept):\n%s", golden, got)
			}
			checkWithHAProxy(t, got)
		})
	}
}

// checkWithHAProxy lets the real haproxy parse the config.
func checkWithHAProxy(t *testing.T, cfg string) {
	t.Helper()
	if _, err := exec.LookPath(Binary); err != nil {
		t.Skip("haproxy not installed")
	}
	f := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(f, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(Binary, "-c", "-f", f).CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// Expected: the state file appears at the first reload, and Octavia
		// itself writes "HTTP/1.1\r\nHost:..." into option httpchk.
		if strings.Contains(line, "[WARNING]") &&
			!strings.Contains(line, "server state file") &&
			!strings.Contains(line, "hiding headers or body at the end of the version string") {
			t.Errorf("haproxy warns about the config: %s", line)
		}
	}
}

func TestRenderOctaviaShape(t *testing.T) {
	_, paths := Files("/run/lb")
	cfg, err := Render(galeraLB(), paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"    option allbackups\n",
		"    balance leastconn\n",
		"    balance source\n",
		"    option httpchk GET /\n",
		"    http-check expect rstatus 200\n",
		"    timeout check 1s\n",
		"    timeout client 3600000\n",
		"    timeout server 3600000\n",
		"    timeout client 50000\n", // listener-2 uses Octavia's default
		"    server m-1 10.210.0.11:3306 weight 1 check inter 2s fall 3 rise 2 port 9200\n",
		"    server m-2 10.210.0.12:3306 weight 1 check inter 2s fall 3 rise 2 addr 10.210.0.112 port 9200 backup\n",
		"    server m-3 10.210.0.13:3306 weight 5 check inter 2s fall 3 rise 2 disabled\n",
		"    default_backend pool-1:listener-1\n",
		"    bind 10.210.0.50:3306\n",
		"    stick on src\n",
		"    tcp-request connection reject if !{ src 10.210.0.0/24 192.0.2.7/32 }\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q", want)
		}
	}
	if strings.Contains(cfg, "listener-off") {
		t.Error("disabled listener rendered")
	}
}

func TestRenderRejectsInjection(t *testing.T) {
	lb := galeraLB()
	lb.Listeners[0].DefaultPool.Monitor.URLPath = "/ x\nlisten evil"
	if _, err := Render(lb, Paths{StatsSocket: "/s"}); err == nil {
		t.Fatal("url_path with a newline rendered")
	}
	lb = galeraLB()
	lb.Listeners[0].DefaultPool.Algorithm = "RANDOM"
	if _, err := Render(lb, Paths{StatsSocket: "/s"}); err == nil {
		t.Fatal("unknown algorithm rendered")
	}
}

func TestExpandExpectedCodes(t *testing.T) {
	for in, want := range map[string][]string{
		"200":          {"200"},
		"200,202":      {"200", "202"},
		"200-204":      {"200", "201", "202", "203", "204"},
		"204, 200-201": {"200", "201", "204"},
		"x":            {},
	} {
		if got := ExpandExpectedCodes(in); !reflect.DeepEqual(got, want) {
			t.Errorf("ExpandExpectedCodes(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseStats(t *testing.T) {
	out := "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status\n" +
		"l1,FRONTEND,,,2,3,5000,7,100,200,0,0,1,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,\n" +
		"p1:l1,m1,0,0,1,1,,4,10,20,,0,,0,0,0,0,UP 1/3,1,1,0,1,0,5,0,,1,3,1,,4,,2,0,,1,L7OK\n" +
		"p1:l1,m2,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,5,,,1,3,2,,0,,2,0,,0,\n\n"
	stats, err := ParseStats([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []Stat{
		{Proxy: "l1", Server: "FRONTEND", Status: "OPEN", CurrentConn: 2, TotalConn: 7, BytesIn: 100, BytesOut: 200, RequestErrs: 1},
		{Proxy: "p1:l1", Server: "m1", Status: "UP 1/3", CheckStatus: "L7OK", CurrentConn: 1, TotalConn: 4, BytesIn: 10, BytesOut: 20},
		{Proxy: "p1:l1", Server: "m2", Status: "no check"},
	}
	if !reflect.DeepEqual(stats, want) {
		t.Errorf("ParseStats:\n got %+v\nwant %+v", stats, want)
	}
	if _, err := ParseStats([]byte("Unknown command\n")); err == nil {
		t.Error("ParseStats accepted an error answer")
	}
}
