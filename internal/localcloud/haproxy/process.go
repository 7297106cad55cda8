package haproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Binary is the haproxy executable.
var Binary = "haproxy"

// CommandFunc builds (does not start) a command; a network namespace's
// Command method fits, so HAProxy runs inside the load balancer's namespace.
type CommandFunc func(ctx context.Context, name string, args ...string) *exec.Cmd

// Process is one HAProxy master (master-worker mode, `-W`) and its worker.
// Reload sends SIGUSR2 to the master: a new worker takes over the listening
// ports while the old one finishes its established connections, as Octavia's
// amphora does with systemd's reload.
type Process struct {
	dir   string
	paths Paths
	cmd   *exec.Cmd
	done  chan struct{}

	mu      sync.Mutex // serialises Reload and Stop
	waitErr error
	stopped bool
}

// Files names the files of a process directory.
func Files(dir string) (config string, paths Paths) {
	return filepath.Join(dir, "haproxy.cfg"), Paths{
		StatsSocket:     filepath.Join(dir, "stats.sock"),
		ServerStateFile: filepath.Join(dir, "servers.state"),
	}
}

// Options say how to run haproxy.
type Options struct {
	// Command builds the command; nil: exec.CommandContext (this machine's
	// own network). A namespace's Command runs it inside the namespace.
	Command CommandFunc
	// Start starts it; nil: cmd.Start with Pdeathsig set. A namespace's
	// Start ties the process's life to the owner more robustly.
	Start func(*exec.Cmd) error
}

// Start writes config (rendered with the Paths from Files(dir)) to dir,
// checks it, starts haproxy and waits until the worker answers on the stats
// socket. The process is killed if its owner dies.
func Start(ctx context.Context, dir, config string, opts Options) (*Process, error) {
	cfgPath, paths := Files(dir)
	if len(paths.StatsSocket) > 100 {
		return nil, fmt.Errorf("start haproxy in %s: stats socket path is longer than a unix socket allows", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	// A state file with only its version line keeps haproxy from warning
	// before the first reload.
	if err := os.WriteFile(paths.ServerStateFile, []byte("1\n"), 0o644); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	if err := writeChecked(ctx, cfgPath, config); err != nil {
		return nil, fmt.Errorf("start haproxy in %s: %w", dir, err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "haproxy.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	command := opts.Command
	if command == nil {
		command = exec.CommandContext
	}
	start := opts.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	// The process outlives the request that created it: no cancellation.
	cmd := command(context.WithoutCancel(ctx), Binary, "-W", "-db", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := start(cmd); err != nil {
		return nil, fmt.Errorf("start haproxy in %s: %w", dir, err)
	}
	p := &Process{dir: dir, paths: paths, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	if _, err := p.waitWorker(ctx, 0); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("start haproxy in %s: %w%s", dir, err, p.logTail())
	}
	return p, nil
}

// writeChecked writes config next to path, lets haproxy check it, then
// renames it into place, so a bad config never replaces a good one.
func writeChecked(ctx context.Context, path, config string) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(config), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	out, err := exec.CommandContext(ctx, Binary, "-c", "-q", "-f", tmp).CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("haproxy rejected the config: %w: %s", err, bytes.TrimSpace(out))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install config: %w", err)
	}
	return nil
}

// Stopped reports whether Stop was called (an exit without it is a crash).
func (p *Process) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Paths are the stats socket and state file of this process.
func (p *Process) Paths() Paths { return p.paths }

// Pid is the master's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the master process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Reload installs a new configuration and hands over to a new worker. The
// old worker keeps serving its established connections until they close.
func (p *Process) Reload(ctx context.Context, config string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return errors.New("reload haproxy: process stopped")
	}
	select {
	case <-p.done:
		return fmt.Errorf("reload haproxy in %s: master exited: %v%s", p.dir, p.waitErr, p.logTail())
	default:
	}
	old, err := Info(ctx, p.paths.StatsSocket)
	if err != nil {
		return fmt.Errorf("reload haproxy in %s: read current worker: %w", p.dir, err)
	}
	oldPid, _ := strconv.Atoi(old["Pid"])
	// Keep health states across the reload (a dead member stays DOWN rather
	// than starting UP again in the new worker).
	if state, err := Command(ctx, p.paths.StatsSocket, "show servers state"); err == nil {
		_ = os.WriteFile(p.paths.ServerStateFile, state, 0o644)
	}
	cfgPath, _ := Files(p.dir)
	if err := writeChecked(ctx, cfgPath, config); err != nil {
		return fmt.Errorf("reload haproxy in %s: %w", p.dir, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		return fmt.Errorf("reload haproxy in %s: signal master: %w", p.dir, err)
	}
	if _, err := p.waitWorker(ctx, oldPid); err != nil {
		return fmt.Errorf("reload haproxy in %s: %w%s", p.dir, err, p.logTail())
	}
	return nil
}

// waitWorker waits until a worker other than notPid answers on the stats
// socket and returns its pid.
func (p *Process) waitWorker(ctx context.Context, notPid int) (int, error) {
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if info, err := Info(ctx, p.paths.StatsSocket); err == nil {
			if pid, _ := strconv.Atoi(info["Pid"]); pid != 0 && pid != notPid {
				return pid, nil
			}
		}
		select {
		case <-p.done:
			return 0, fmt.Errorf("haproxy exited: %v", p.waitErr)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-deadline.C:
			return 0, errors.New("no worker answered on the stats socket within 15s")
		case <-tick.C:
		}
	}
}

// Stop terminates the master and its workers and waits for them. Safe to
// call twice.
func (p *Process) Stop() error {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("stop haproxy %d: still running after SIGKILL", p.cmd.Process.Pid)
	}
}

// Kill SIGKILLs the master (its workers notice and exit) and waits for it:
// a crash, for fault injection.
func (p *Process) Kill() error {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("kill haproxy %d: still running", p.cmd.Process.Pid)
	}
}

func (p *Process) logTail() string {
	b, err := os.ReadFile(filepath.Join(p.dir, "haproxy.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return "; haproxy log: " + string(bytes.TrimSpace(b))
}
