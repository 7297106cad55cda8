package host

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"sync"
	"time"
)

// Namespace is a bare network namespace on the network with one address (a
// load balancer's VIP); processes started in it die when it is closed.
type Namespace struct {
	net  *Network
	name string
	ns   string
	addr netip.Addr

	mu     sync.Mutex
	closed bool
}

// NewNamespace creates a namespace with the given address (zero: allocate).
// name is a DNS label, unique among the network's hosts and namespaces.
func (n *Network) NewNamespace(ctx context.Context, name string, addr netip.Addr) (*Namespace, error) {
	if err := n.claimName(name); err != nil {
		return nil, fmt.Errorf("new namespace: %w", err)
	}
	if addr.IsValid() {
		if err := n.reserveAddr(addr); err != nil {
			n.releaseName(name)
			return nil, fmt.Errorf("new namespace %s: %w", name, err)
		}
	} else {
		var err error
		if addr, err = n.AllocateAddr(); err != nil {
			n.releaseName(name)
			return nil, fmt.Errorf("new namespace %s: %w", name, err)
		}
	}
	s := &Namespace{net: n, name: name, ns: n.netnsName(name), addr: addr}
	n.mu.Lock()
	n.spaces[s] = true
	n.mu.Unlock()
	if err := n.plug(ctx, s.ns, addr); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("new namespace %s: %w", name, err)
	}
	return s, nil
}

// Name is the namespace name (for `ip netns exec`); Addr its address.
func (s *Namespace) Name() string     { return s.ns }
func (s *Namespace) Addr() netip.Addr { return s.addr }

// Command returns a command that runs inside the namespace (not started):
// `ip netns exec <ns> name args...`. Start long-running processes with
// s.Start(cmd) (or Run/Output for short ones): it forks from a thread that
// lives as long as this process, so the child gets SIGKILL when this process
// dies (Pdeathsig), and puts it in its own process group. Whatever way it was
// started, Close kills every process left in the namespace.
func (s *Namespace) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.ns, name}, args...)...)
}

// Start starts a command (usually from Command) so that it dies with this
// process; wait for it with cmd.Wait as usual.
func (s *Namespace) Start(cmd *exec.Cmd) error {
	if err := startOwned(cmd); err != nil {
		return fmt.Errorf("start %s in namespace %s: %w", cmd.Path, s.ns, err)
	}
	return nil
}

// Close kills processes in the namespace and deletes it. Safe to call twice.
func (s *Namespace) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := unplug(ctx, s.ns); err != nil {
		return fmt.Errorf("close namespace %s: %w", s.name, err)
	}
	s.closed = true
	n := s.net
	n.ReleaseAddr(s.addr)
	n.releaseName(s.name)
	n.mu.Lock()
	delete(n.spaces, s)
	delete(n.aliases, s.addr) // they went with the namespace
	n.mu.Unlock()
	return nil
}

// Start starts any command so that it is SIGKILLed when this process dies
// (Pdeathsig from a thread that never exits) and runs in its own process
// group. Use it for long-running helpers whose lifetime must not exceed the
// test or the local cloud.
func Start(cmd *exec.Cmd) error {
	if err := startOwned(cmd); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return nil
}
