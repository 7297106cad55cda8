// Package host creates VM-like hosts on this machine: each host has its own
// network, mount, UTS and PID namespaces, a real sshd as its first process,
// private copies of the directories a database server writes, and optional
// loop-device disks. Tests and the local cloud use it as their "hypervisor".
package host

// API CONTRACT (fixed; other packages code against it). The implementation is
// being written; every body below is a placeholder that returns errNotYet.

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"

	"golang.org/x/crypto/ssh"
)

var errNotYet = errors.New("host: not implemented yet")

// NetworkOptions configures NewNetwork.
type NetworkOptions struct {
	// Prefix starts every kernel object name made for this network (bridge,
	// namespaces, veths); at most 5 characters, e.g. "pxct". A unique suffix is
	// added, so concurrent test packages never collide.
	Prefix string
	// StateDir holds per-host directories (keys, private dirs, disk files).
	// Empty: a new directory under /var/lib/pxc-hosts.
	StateDir string
}

// Network is a Linux bridge with a /24 inside 10.200.0.0/13..10.255 (10.2xx.y.0/24)
// that is unique on this machine. The machine itself has the .1 address on the
// bridge, so tests and the local cloud reach hosts directly.
type Network struct{}

// NewNetwork creates a bridge and allocates a unique subnet.
func NewNetwork(ctx context.Context, opts NetworkOptions) (*Network, error) { return nil, errNotYet }

// Bridge is the bridge interface name.
func (n *Network) Bridge() string { return "" }

// Subnet is the network's /24.
func (n *Network) Subnet() netip.Prefix { return netip.Prefix{} }

// Gateway is the machine's address on the bridge (the .1).
func (n *Network) Gateway() netip.Addr { return netip.Addr{} }

// AllocateAddr reserves a free address in the subnet (.10 upwards).
func (n *Network) AllocateAddr() (netip.Addr, error) { return netip.Addr{}, errNotYet }

// ReleaseAddr returns an address to the pool.
func (n *Network) ReleaseAddr(a netip.Addr) {}

// Close powers off and removes every host and namespace on the network, then
// the bridge and the state directory it created. Safe to call twice.
func (n *Network) Close() error { return errNotYet }

// Options configures a host.
type Options struct {
	// Name is the hostname (a DNS label) and part of the namespace name.
	Name string
	// Addr is the host's address on the network; zero means allocate one.
	Addr netip.Addr
	// AuthorizedKeys are authorized_keys lines for root.
	AuthorizedKeys []string
}

// Host is one VM-like host.
type Host struct{}

// StartHost creates and boots a host. It returns once sshd accepts TCP
// connections on Addr():22.
func (n *Network) StartHost(ctx context.Context, opts Options) (*Host, error) {
	return nil, errNotYet
}

// Name is the hostname.
func (h *Host) Name() string { return "" }

// Addr is the host's IP address on its network.
func (h *Host) Addr() netip.Addr { return netip.Addr{} }

// SSHAddr is "ip:22".
func (h *Host) SSHAddr() string { return "" }

// NetNS is the name of the host's network namespace (for `ip netns exec`).
func (h *Host) NetNS() string { return "" }

// HostKey is the host's own ed25519 host key (public part).
func (h *Host) HostKey() ssh.PublicKey { return nil }

// Running reports whether the host is powered on.
func (h *Host) Running() bool { return false }

// PowerOff kills everything in the host at once (a hard power-off or crash).
// Private directories and attached disks keep their contents.
func (h *Host) PowerOff(ctx context.Context) error { return errNotYet }

// Shutdown stops the host cleanly: SIGTERM to every process in it, a grace
// period, then power off.
func (h *Host) Shutdown(ctx context.Context) error { return errNotYet }

// PowerOn boots a powered-off host again (same keys, same private directories,
// same disks) and waits for sshd.
func (h *Host) PowerOn(ctx context.Context) error { return errNotYet }

// CutNetwork sets the host's link down; HealNetwork sets it up again.
func (h *Host) CutNetwork(ctx context.Context) error  { return errNotYet }
func (h *Host) HealNetwork(ctx context.Context) error { return errNotYet }

// Blackhole drops traffic from the host to the given peers (a partition that
// keeps the management path from the machine working); Unblackhole undoes it.
func (h *Host) Blackhole(ctx context.Context, peers ...netip.Addr) error   { return errNotYet }
func (h *Host) Unblackhole(ctx context.Context, peers ...netip.Addr) error { return errNotYet }

// Console runs a shell command inside all of the host's namespaces, like a
// serial console: it works while the network is cut.
func (h *Host) Console(ctx context.Context, script string) ([]byte, error) { return nil, errNotYet }

// ApplyFirewall loads an nftables ruleset (nft -f syntax) in the host's
// network namespace, replacing the previous one.
func (h *Host) ApplyFirewall(ctx context.Context, ruleset string) error { return errNotYet }

// AttachDisk makes the disk visible inside the host as
// /dev/disk/by-id/virtio-<serial, at most 20 characters> (a symlink to the
// loop device). DetachDisk removes it.
func (h *Host) AttachDisk(ctx context.Context, d *Disk, serial string) error { return errNotYet }
func (h *Host) DetachDisk(ctx context.Context, serial string) error          { return errNotYet }

// Close powers the host off and removes its namespaces and state. Attached
// disks are detached, not deleted. Safe to call twice.
func (h *Host) Close() error { return errNotYet }

// Disk is a sparse file on a loop device.
type Disk struct{}

// NewDisk creates a sparse file of size bytes in dir and attaches a loop device.
func NewDisk(ctx context.Context, dir string, size int64) (*Disk, error) { return nil, errNotYet }

// Device is the loop device path, e.g. /dev/loop3.
func (d *Disk) Device() string { return "" }

// Size is the current size in bytes.
func (d *Disk) Size() int64 { return 0 }

// Resize grows the file and tells the loop device (losetup -c), so the guest
// sees the new size online.
func (d *Disk) Resize(ctx context.Context, size int64) error { return errNotYet }

// Close detaches the loop device and removes the file. Safe to call twice.
func (d *Disk) Close() error { return errNotYet }

// Namespace is a bare network namespace on the network with one address (a
// load balancer's VIP); processes started in it die when it is closed.
type Namespace struct{}

// NewNamespace creates a namespace with the given address (zero: allocate).
func (n *Network) NewNamespace(ctx context.Context, name string, addr netip.Addr) (*Namespace, error) {
	return nil, errNotYet
}

// Name is the namespace name; Addr its address.
func (s *Namespace) Name() string     { return "" }
func (s *Namespace) Addr() netip.Addr { return netip.Addr{} }

// Command returns a command that runs inside the namespace (not started).
func (s *Namespace) Command(ctx context.Context, name string, args ...string) *exec.Cmd { return nil }

// Close kills processes in the namespace and deletes it. Safe to call twice.
func (s *Namespace) Close() error { return errNotYet }

// Sweep removes bridges, namespaces, loop devices, mounts and processes left
// by owners that are no longer alive (a test binary killed by a timeout).
func Sweep(ctx context.Context) error { return errNotYet }
