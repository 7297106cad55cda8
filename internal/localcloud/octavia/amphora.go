package octavia

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// amphora is where one load balancer's HAProxy runs: a network namespace
// holding the VIP (or, without a host network, a loopback address).
type amphora struct {
	dir   string
	vip   netip.Addr
	opts  haproxy.Options
	close func() error // releases the namespace or address
	// crashed, if set, is called when HAProxy exits on its own.
	crashed func()

	applyMu sync.Mutex // one Apply at a time
	mu      sync.Mutex
	proc    *haproxy.Process
	closed  bool
}

var errNotRunning = errors.New("haproxy is not running")

// Apply renders cfg and starts HAProxy, or reloads it gracefully.
func (a *amphora) Apply(ctx context.Context, cfg haproxy.LoadBalancer) error {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	cfg.VIP = a.vip.String()
	_, paths := haproxy.Files(a.dir)
	text, err := haproxy.Render(cfg, paths)
	if err != nil {
		return err
	}
	a.mu.Lock()
	proc, closed := a.proc, a.closed
	a.mu.Unlock()
	if closed {
		return errors.New("amphora closed")
	}
	if proc != nil {
		select {
		case <-proc.Exited(): // crashed or killed: start a new one
			proc = nil
		default:
		}
	}
	if proc != nil {
		return proc.Reload(ctx, text)
	}
	proc, err = haproxy.Start(ctx, a.dir, text, a.opts)
	if err != nil {
		return err
	}
	a.mu.Lock()
	closed = a.closed
	if !closed {
		a.proc = proc
	}
	a.mu.Unlock()
	if closed { // Close ran while haproxy was starting
		_ = proc.Stop()
		return errors.New("amphora closed")
	}
	go a.watch(proc)
	return nil
}

// watch reports a crash: the process exits while it is still the
// amphora's and nobody closed the amphora.
func (a *amphora) watch(proc *haproxy.Process) {
	<-proc.Exited()
	a.mu.Lock()
	crashed := !a.closed && a.proc == proc && !proc.Stopped()
	a.mu.Unlock()
	if crashed && a.crashed != nil {
		a.crashed()
	}
}

// Stats reads `show stat` from the running HAProxy.
func (a *amphora) Stats(ctx context.Context) ([]haproxy.Stat, error) {
	a.mu.Lock()
	proc := a.proc
	a.mu.Unlock()
	if proc == nil {
		return nil, errNotRunning
	}
	select {
	case <-proc.Exited():
		return nil, errNotRunning
	default:
	}
	return haproxy.Stats(ctx, proc.Paths().StatsSocket)
}

// kill SIGKILLs HAProxy and waits until it is gone.
func (a *amphora) kill() error {
	a.mu.Lock()
	proc := a.proc
	a.mu.Unlock()
	if proc == nil {
		return errNotRunning
	}
	return proc.Kill()
}

// Close stops HAProxy, removes the namespace and the state directory.
func (a *amphora) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	proc := a.proc
	a.mu.Unlock()
	var errs []error
	if proc != nil {
		errs = append(errs, proc.Stop())
	}
	if a.close != nil {
		errs = append(errs, a.close())
	}
	errs = append(errs, os.RemoveAll(a.dir))
	return errors.Join(errs...)
}

// driver makes amphorae.
type driver interface {
	// plug reserves the VIP (zero: allocate one) and prepares the place
	// HAProxy runs in. Errors wrapping errAddrInUse mean a 409.
	plug(ctx context.Context, lbID string, vip netip.Addr) (*amphora, error)
	// subnet is the prefix VIPs come from.
	subnet() netip.Prefix
}

var errAddrInUse = errors.New("address already in use")

// hostDriver puts every load balancer into its own namespace on the
// network (what the local cloud runs with).
type hostDriver struct {
	net      *host.Network
	stateDir string
}

func (d *hostDriver) subnet() netip.Prefix { return d.net.Subnet() }

func (d *hostDriver) plug(ctx context.Context, lbID string, vip netip.Addr) (*amphora, error) {
	name := "lb-" + lbID[:8]
	ns, err := d.net.NewNamespace(ctx, name, vip)
	if err != nil {
		if vip.IsValid() {
			return nil, fmt.Errorf("plug vip %s for load balancer %s: %w: %w", vip, lbID, errAddrInUse, err)
		}
		return nil, fmt.Errorf("plug vip for load balancer %s: %w", lbID, err)
	}
	opts := haproxy.Options{Command: ns.Command}
	// Namespace.Start forks from a thread that lives as long as the cloud,
	// so Pdeathsig really fires when the cloud dies.
	if s, ok := any(ns).(interface{ Start(*exec.Cmd) error }); ok {
		opts.Start = s.Start
	}
	return &amphora{
		dir:   lbDir(d.stateDir, lbID),
		vip:   ns.Addr(),
		opts:  opts,
		close: ns.Close,
	}, nil
}

// loopbackDriver binds VIPs to 127.77.x.y on this machine's loopback: for
// tests of the API without a host network.
type loopbackDriver struct {
	stateDir string
	mu       sync.Mutex
	used     map[netip.Addr]bool
}

var loopbackPrefix = netip.MustParsePrefix("127.77.0.0/16")

func (d *loopbackDriver) subnet() netip.Prefix { return loopbackPrefix }

func (d *loopbackDriver) plug(ctx context.Context, lbID string, vip netip.Addr) (*amphora, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.used == nil {
		d.used = map[netip.Addr]bool{}
	}
	if vip.IsValid() {
		if d.used[vip] {
			return nil, fmt.Errorf("plug vip %s: %w", vip, errAddrInUse)
		}
	} else {
		for a := netip.MustParseAddr("127.77.0.10"); loopbackPrefix.Contains(a); a = a.Next() {
			if !d.used[a] {
				vip = a
				break
			}
		}
	}
	d.used[vip] = true
	return &amphora{
		dir: lbDir(d.stateDir, lbID),
		vip: vip,
		close: func() error {
			d.mu.Lock()
			delete(d.used, vip)
			d.mu.Unlock()
			return nil
		},
	}, nil
}

// lbDir is a load balancer's state directory. A unix socket path has at
// most 107 bytes, so a deep StateDir falls back to the temp directory.
func lbDir(stateDir, lbID string) string {
	dir := filepath.Join(stateDir, lbID[:8])
	if len(dir)+len("/stats.sock") > 100 {
		dir = filepath.Join(os.TempDir(), "pxc-octavia-"+lbID)
	}
	return dir
}
