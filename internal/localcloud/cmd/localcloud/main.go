// Command localcloud runs the local OpenStack-compatible cloud.
//
//	localcloud up     [flags]  serve in the foreground until SIGINT/SIGTERM
//	localcloud down   [--dir]  delete everything a running cloud holds, stop it, sweep leftovers
//	localcloud env    [--dir]  print the OS_* exports of the running cloud
//	localcloud status [--dir]  print the running cloud's inventory (JSON)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/octavia"
)

const pidFile = "localcloud.pid"

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	case "env":
		err = printFile(os.Args[2:], localcloud.EnvFile)
	case "status":
		err = status(os.Args[2:])
	case "-h", "--help", "help":
		usage(os.Stdout)
		return
	default:
		usage(os.Stderr)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: localcloud <command> [flags]

  up      serve the cloud in the foreground (Ctrl-C or SIGTERM removes everything and exits)
  down    ask a running cloud to delete everything and stop, then sweep leftovers and its state
  env     print the OS_* exports of the running cloud
  status  print the running cloud's inventory (JSON)

Run "localcloud <command> -h" for the flags of a command.
`)
}

func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", ".localcloud", "state directory (state.json, clouds.yaml, env, volumes, hosts)")
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := dirFlag(fs)
	listen := fs.String("listen", "127.0.0.1:0", "API listen address (loopback only; port 0 picks a free one)")
	user := fs.String("user", "admin", "seeded user name")
	project := fs.String("project", "admin", "seeded project name")
	domain := fs.String("domain", "Default", "seeded domain name")
	password := fs.String("password", "", "seeded password (empty: generated at first start and kept in the state file)")
	hypervisors := fs.Int("hypervisors", 3, "simulated compute hosts for server group policies")
	zones := fs.String("availability-zones", "nova", "comma-separated availability zones")
	step := fs.Duration("step-delay", 150*time.Millisecond, "pause between the steps of a status transition")
	tokenTTL := fs.Duration("token-ttl", time.Hour, "Keystone token lifetime")
	noLB := fs.Bool("no-load-balancer", false, "do not serve the Octavia API")
	initLess := fs.Bool("init-less", os.Getenv("LOCALCLOUD_INIT_LESS") == "1", "boot servers as init-less hosts (sshd as PID 1 over the machine's filesystem) instead of their image with systemd (default from LOCALCLOUD_INIT_LESS=1)")
	verbose := fs.Bool("v", false, "log every API request")
	_ = fs.Parse(args)

	if os.Geteuid() != 0 {
		return errors.New("up needs root (network namespaces, loop devices, nftables)")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	if pid := readPid(*dir); pid != os.Getpid() && alive(pid) {
		return fmt.Errorf("a local cloud (pid %d) already runs with state dir %s; use it, or run `localcloud down --dir %s` first", pid, *dir, *dir)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := localcloud.Config{
		Listen: *listen, StateDir: *dir, User: *user, Project: *project, Domain: *domain,
		Password: *password, Hypervisors: *hypervisors, AvailabilityZones: splitList(*zones),
		StepDelay: *step, TokenTTL: *tokenTTL, InitLessServers: *initLess, Logger: logger,
	}
	if !*noLB {
		cfg.LoadBalancer = func(d localcloud.LoadBalancerDeps) (localcloud.LoadBalancerService, error) {
			return octavia.New(octavia.Deps{
				Authenticate: d.Authenticate, Network: d.Network, SubnetID: d.SubnetID,
				NetworkID: d.NetworkID, StateDir: d.StateDir, EndpointURL: d.EndpointURL,
				CreateVIPPort: d.CreateVIPPort, DeleteVIPPort: d.DeleteVIPPort,
				Logf: func(format string, a ...any) { logger.Warn(fmt.Sprintf(format, a...), "service", "octavia") },
			}), nil
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	// Remove what a killed predecessor left (bridges, namespaces, loops of dead owners).
	if err := host.Sweep(startCtx); err != nil {
		logger.Warn("sweep leftovers", "err", err)
	}
	c, err := localcloud.Start(startCtx, cfg)
	cancel()
	if err != nil {
		return err
	}
	if err := c.WriteClientFiles(*dir); err != nil {
		_ = c.Close()
		return err
	}
	pidPath := filepath.Join(*dir, pidFile)
	_ = os.WriteFile(pidPath, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
	fmt.Printf("localcloud ready at %s (clouds.yaml and env in %s)\n", c.URL(), *dir)

	select {
	case <-ctx.Done():
	case <-c.ShutdownRequested():
	case <-c.Done():
	}
	fmt.Println("localcloud: removing every server, volume, load balancer and the network")
	err = c.Close()
	_ = os.Remove(filepath.Join(*dir, localcloud.EndpointFile))
	_ = os.Remove(pidPath)
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// endpoint reads the running cloud's URL, if it answers.
func endpoint(dir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, localcloud.EndpointFile))
	if err != nil {
		return "", false
	}
	url := strings.TrimSpace(string(b))
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url + "/_admin/ready")
	if err != nil {
		return url, false
	}
	resp.Body.Close()
	return url, resp.StatusCode == 200
}

func readPid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0
	}
	var pid int
	_, _ = fmt.Sscanf(string(b), "%d", &pid)
	return pid
}

// alive reports whether pid is a running localcloud process (a stale pid
// file may name a reused pid).
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	// /proc/PID/stat: "pid (comm) state ..."; a zombie (Z) is dead.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(stat)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open || close+2 >= len(s) {
		return true
	}
	return s[open+1:close] == "localcloud" && s[close+2] != 'Z' && s[close+2] != 'X'
}

func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	dir := dirFlag(fs)
	_ = fs.Parse(args)
	pid := readPid(*dir)
	if url, ok := endpoint(*dir); ok {
		fmt.Println("localcloud: asking", url, "to delete everything and stop")
		client := &http.Client{Timeout: 2 * time.Minute}
		if resp, err := client.Post(url+"/_admin/reset", "application/json", nil); err == nil {
			resp.Body.Close()
		}
		if resp, err := client.Post(url+"/_admin/shutdown", "application/json", nil); err == nil {
			resp.Body.Close()
		}
	} else if alive(pid) {
		fmt.Println("localcloud: API not answering; sending SIGTERM to", pid)
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if alive(pid) {
		fmt.Println("localcloud: still running after 2 minutes; killing", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		time.Sleep(time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := host.Sweep(ctx); err != nil {
		return fmt.Errorf("sweep leftovers: %w", err)
	}
	// Nothing the state described exists any more.
	if err := localcloud.RemoveState(*dir); err != nil {
		return err
	}
	for _, name := range []string{localcloud.CloudsFile, localcloud.EnvFile, localcloud.EndpointFile, pidFile, "volumes", "hosts", "octavia", "swift"} {
		_ = os.RemoveAll(filepath.Join(*dir, name))
	}
	fmt.Println("localcloud: down; nothing left")
	return nil
}

func printFile(args []string, name string) error {
	fs := flag.NewFlagSet("env", flag.ExitOnError)
	dir := dirFlag(fs)
	_ = fs.Parse(args)
	if _, ok := endpoint(*dir); !ok {
		return fmt.Errorf("no local cloud answers for %s; run `make localcloud-up`", *dir)
	}
	b, err := os.ReadFile(filepath.Join(*dir, name))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}

func status(args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	dir := dirFlag(fs)
	_ = fs.Parse(args)
	url, ok := endpoint(*dir)
	if !ok {
		return fmt.Errorf("no local cloud answers for %s", *dir)
	}
	resp, err := http.Get(url + "/_admin/inventory")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(os.Stdout, resp.Body)
	fmt.Println()
	return err
}
