package haproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("PXC_HAPROXY_OWNER_DIR"); dir != "" {
		ownerHelper(dir)
		return
	}
	os.Exit(m.Run())
}

// ownerHelper starts haproxy, prints the master's and the worker's pids and
// waits to be killed.
func ownerHelper(dir string) {
	_, paths := Files(dir)
	cfg, err := Render(LoadBalancer{ID: "owner", VIP: "127.0.0.1", Enabled: true}, paths)
	if err == nil {
		var p *Process
		if p, err = Start(context.Background(), dir, cfg, Options{}); err == nil {
			var info map[string]string
			if info, err = Info(context.Background(), paths.StatsSocket); err == nil {
				fmt.Printf("PIDS %d %s\n", p.Pid(), info["Pid"])
				select {}
			}
		}
	}
	fmt.Println("ERR", err)
	os.Exit(1)
}

// TestHAProxyDiesWithOwner: when the process that started haproxy is
// SIGKILLed, master and worker go too.
func TestHAProxyDiesWithOwner(t *testing.T) {
	requireHAProxy(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PXC_HAPROXY_OWNER_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "PIDS ") {
		t.Fatalf("helper: %q %v", line, err)
	}
	var pids []int
	for _, f := range strings.Fields(line)[1:] {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("haproxy process %d outlived its owner", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
