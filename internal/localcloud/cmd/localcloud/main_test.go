package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// TestUpDown runs the binary as `make localcloud-up/down` do: up in the
// background, a server and a volume through clouds.yaml, then down; nothing
// may be left (process, namespaces, loop devices, files).
func TestUpDown(t *testing.T) {
	if testing.Short() {
		t.Skip("real hosts: not with -short (make unit)")
	}
	if os.Geteuid() != 0 {
		t.Skip("the local cloud needs root")
	}
	tmp, err := os.MkdirTemp("/var/tmp", "localcloud-cmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	bin := filepath.Join(tmp, "localcloud")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "state")
	up := exec.Command(bin, "up", "--dir", dir, "--step-delay", "20ms", "--no-load-balancer")
	up.Stdout, up.Stderr = os.Stderr, os.Stderr
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = up.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = up.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "endpoint")); err == nil {
			if resp, err := http.Get(strings.TrimSpace(string(b)) + "/_admin/ready"); err == nil {
				resp.Body.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("cloud not ready after 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	ctx := context.Background()
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName("local"), clouds.WithLocations(filepath.Join(dir, "clouds.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.NewProviderClient(ctx, ao)
	if err != nil {
		t.Fatal(err)
	}
	compute, _ := openstack.NewComputeV2(p, eo)
	volume, _ := openstack.NewBlockStorageV3(p, eo)
	envB, _ := os.ReadFile(filepath.Join(dir, "env"))
	netID := envValue(string(envB), "LOCALCLOUD_NETWORK_ID")
	imgID := envValue(string(envB), "LOCALCLOUD_IMAGE_ID")
	s, err := servers.Create(ctx, compute, servers.CreateOpts{Name: "left", FlavorRef: "1", ImageRef: imgID,
		Networks: []servers.Network{{UUID: netID}}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := volumes.Create(ctx, volume, volumes.CreateOpts{Size: 1}, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	for {
		got, err := servers.Get(ctx, compute, s.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == "ACTIVE" {
			break
		}
		if got.Status == "ERROR" || time.Now().After(deadline) {
			t.Fatalf("server %s", got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	bridge := envValue(string(envB), "LOCALCLOUD_BRIDGE")
	if bridge == "" {
		t.Fatal("env has no LOCALCLOUD_BRIDGE")
	}

	if out, err := exec.Command(bin, "down", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the up process still runs after down")
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), bridge+"-") {
		t.Errorf("namespaces left:\n%s", out)
	}
	if out, _ := exec.Command("ip", "link", "show", bridge).CombinedOutput(); !strings.Contains(string(out), "does not exist") {
		t.Errorf("bridge %s left: %s", bridge, out)
	}
	if out, _ := exec.Command("losetup", "-a").Output(); strings.Contains(string(out), tmp) {
		t.Errorf("loop devices left:\n%s", out)
	}
	for _, f := range []string{"state.json", "clouds.yaml", "env", "endpoint", "volumes", "hosts"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s left in the state dir", f)
		}
	}
}

func envValue(env, key string) string {
	for _, line := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(line, "export "+key+"="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}
