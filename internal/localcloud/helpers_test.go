package localcloud

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/octavia"
)

func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("real hosts: not with -short (make unit)")
	}
	if os.Geteuid() != 0 {
		t.Skip("the local cloud needs root (network namespaces, loop devices, nftables)")
	}
}

// testCloud is a cloud started in-process for one test, with clients.
type testCloud struct {
	*Cloud
	t        *testing.T
	provider *gophercloud.ProviderClient
	compute  *gophercloud.ServiceClient
	network  *gophercloud.ServiceClient
	volume   *gophercloud.ServiceClient
	image    *gophercloud.ServiceClient
	lb       *gophercloud.ServiceClient
}

// startCloud starts a cloud with a temporary state dir; t.Cleanup closes it
// and checks that no host, disk or network object is left.
func startCloud(t *testing.T, mod func(*Config)) *testCloud {
	t.Helper()
	needRoot(t)
	dir, err := os.MkdirTemp("/var/tmp", "localcloud-test-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = host.Sweep(ctx)
	cfg := Config{StateDir: dir, StepDelay: 30 * time.Millisecond, NetPrefix: "lct",
		LoadBalancer: func(d LoadBalancerDeps) (LoadBalancerService, error) {
			return octavia.New(octavia.Deps{Authenticate: d.Authenticate, Network: d.Network,
				SubnetID: d.SubnetID, NetworkID: d.NetworkID, StateDir: d.StateDir,
				EndpointURL: d.EndpointURL, TransitionDelay: 100 * time.Millisecond,
				CreateVIPPort: d.CreateVIPPort, DeleteVIPPort: d.DeleteVIPPort}), nil
		}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := Start(ctx, cfg)
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("start cloud: %v", err)
	}
	bridge := c.Network().Bridge()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close cloud: %v", err)
		}
		if _, err := net.InterfaceByName(bridge); err == nil {
			t.Errorf("bridge %s still exists after Close", bridge)
		}
		if out, err := exec.Command("ip", "netns", "list").Output(); err == nil && strings.Contains(string(out), bridge+"-") {
			t.Errorf("namespaces of %s left after Close:\n%s", bridge, out)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "volumes", "*")); len(left) > 0 {
			t.Errorf("volume files left after Close: %v", left)
		}
		_ = os.RemoveAll(dir)
	})
	tc := &testCloud{Cloud: c, t: t}
	tc.provider = tc.authenticate(ctx)
	eo := gophercloud.EndpointOpts{Region: "RegionOne"}
	must := func(sc *gophercloud.ServiceClient, err error) *gophercloud.ServiceClient {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	tc.compute = must(openstack.NewComputeV2(tc.provider, eo))
	tc.network = must(openstack.NewNetworkV2(tc.provider, eo))
	tc.volume = must(openstack.NewBlockStorageV3(tc.provider, eo))
	tc.image = must(openstack.NewImageV2(tc.provider, eo))
	tc.lb = must(openstack.NewLoadBalancerV2(tc.provider, eo))
	return tc
}

func (tc *testCloud) authOptions() gophercloud.AuthOptions {
	user, pass, project, domain := tc.Credentials()
	return gophercloud.AuthOptions{IdentityEndpoint: tc.AuthURL(), Username: user, Password: pass,
		TenantName: project, DomainName: domain, AllowReauth: true}
}

func (tc *testCloud) authenticate(ctx context.Context) *gophercloud.ProviderClient {
	tc.t.Helper()
	p, err := openstack.AuthenticatedClient(ctx, tc.authOptions())
	if err != nil {
		tc.t.Fatalf("authenticate: %v", err)
	}
	return p
}

// rawDo sends a request with the provider's token and returns code and body.
func (tc *testCloud) rawDo(method, path string, body any, headers map[string]string) (int, http.Header, []byte) {
	tc.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, tc.URL()+path, rd)
	if err != nil {
		tc.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tc.provider.Token())
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (tc *testCloud) admin(method, path string, body any) []byte {
	tc.t.Helper()
	code, _, b := tc.rawDo(method, "/_admin"+path, body, nil)
	if code >= 300 {
		tc.t.Fatalf("admin %s %s: %d %s", method, path, code, b)
	}
	return b
}

// newKey makes an ed25519 key pair for SSH.
func newKey(t *testing.T) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}

// waitServer polls until the server reaches want (or ERROR / timeout).
// waitConsole polls a server's console output until it contains want (a
// real boot prints cloud-init's lines after the server is ACTIVE) and
// returns it; after 2 minutes the test fails with the console's tail.
func (tc *testCloud) waitConsole(id, want string) string {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out string
	for {
		var err error
		out, err = servers.ShowConsoleOutput(ctx, tc.compute, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err == nil && strings.Contains(out, want) {
			return out
		}
		select {
		case <-ctx.Done():
			if len(out) > 3000 {
				out = out[len(out)-3000:]
			}
			tc.t.Fatalf("console of %s never showed %q (last error %v):\n%s", id, want, err, out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (tc *testCloud) waitServer(id, want string) *servers.Server {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		s, err := servers.Get(ctx, tc.compute, id).Extract()
		if err != nil {
			tc.t.Fatalf("get server %s: %v", id, err)
		}
		if s.Status == want {
			return s
		}
		if s.Status == "ERROR" && want != "ERROR" {
			tc.t.Fatalf("server %s went ERROR: %v", id, s.Fault)
		}
		select {
		case <-ctx.Done():
			tc.t.Fatalf("server %s: still %s (task %v), want %s", id, s.Status, s.TaskState, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitGone polls until GET answers 404.
func waitGone(t *testing.T, what string, get func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := get()
		if gophercloud.ResponseCodeIs(err, 404) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there (last error %v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sshRun runs a command on a server's address as root.
func sshRun(t *testing.T, addr string, signer ssh.Signer, hostKey ssh.PublicKey, cmd string) (string, error) {
	t.Helper()
	cb := ssh.InsecureIgnoreHostKey()
	if hostKey != nil {
		cb = ssh.FixedHostKey(hostKey)
	}
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: cb, Timeout: 5 * time.Second}
	client, err := ssh.Dial("tcp", net.JoinHostPort(addr, "22"), cfg)
	if err != nil {
		return "", fmt.Errorf("ssh %s: %w", addr, err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	return string(out), err
}

// assertEmpty checks that the inventory has nothing user-made left.
func (tc *testCloud) assertEmpty() {
	tc.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		inv := tc.Inventory()
		if inv.Empty() {
			return
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(inv)
			tc.t.Fatalf("left behind: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
