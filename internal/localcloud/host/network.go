package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// NetworkOptions configures NewNetwork.
type NetworkOptions struct {
	// Prefix starts every kernel object name made for this network (bridge,
	// namespaces, veths); at most 5 characters, e.g. "pxct". A unique suffix is
	// added, so concurrent test packages never collide. Empty: "pxh".
	Prefix string
	// StateDir is where the network keeps its state: a directory
	// <StateDir>/<ID> holding one directory per host (keys, private dirs),
	// created by NewNetwork and removed by Close. Empty: /var/lib/pxc-hosts.
	// It must be absolute; it may be under /tmp (e.g. t.TempDir()): hosts
	// mount their own /tmp, but only after everything else.
	StateDir string
}

// Network is a Linux bridge with a /24 inside 10.200.0.0/13..10.255 (10.2xx.y.0/24)
// that is unique on this machine. The machine itself has the .1 address on the
// bridge, so tests and the local cloud reach hosts directly. Hosts have no
// default route: they reach only the subnet.
type Network struct {
	rec    netRecord
	subnet netip.Prefix

	mu     sync.Mutex
	used   map[netip.Addr]bool
	names  map[string]bool // host and namespace names in use
	hosts  map[*Host]bool
	spaces map[*Namespace]bool
	// aliases are the extra addresses per member address (AddAlias).
	aliases map[netip.Addr]map[netip.Addr]bool
	veths   int // veths made, for unique names (vethName)
	closed  bool
	// vendorData is the cloud's cloud-init vendor-data (vendordata.go).
	vendorData string
}

var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,4}$`)

// NewNetwork creates a bridge and allocates a unique subnet.
func NewNetwork(ctx context.Context, opts NetworkOptions) (*Network, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "pxh"
	}
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("new network: prefix %q must be 1-5 lowercase letters or digits, starting with a letter", prefix)
	}
	if sd := opts.StateDir; sd != "" && !filepath.IsAbs(sd) {
		return nil, fmt.Errorf("new network: state dir %q must be an absolute path", sd)
	}
	if err := prepareMachine(ctx); err != nil {
		return nil, fmt.Errorf("new network: %w", err)
	}
	rec, err := allocateNetwork(ctx, prefix, opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("new network: allocate: %w", err)
	}
	n := &Network{
		rec:     rec,
		subnet:  netip.MustParsePrefix(rec.Subnet),
		used:    map[netip.Addr]bool{},
		names:   map[string]bool{},
		hosts:   map[*Host]bool{},
		spaces:  map[*Namespace]bool{},
		aliases: map[netip.Addr]map[netip.Addr]bool{},
	}
	fail := func(err error) (*Network, error) {
		_ = n.Close()
		return nil, fmt.Errorf("new network %s: %w", rec.ID, err)
	}
	if err := os.MkdirAll(rec.StateDir, 0o755); err != nil {
		return fail(err)
	}
	if err := os.Chmod(rec.StateDir, 0o755); err != nil {
		return fail(err)
	}
	gw := n.Gateway()
	for _, args := range [][]string{
		{"link", "add", rec.ID, "type", "bridge"},
		{"addr", "add", netip.PrefixFrom(gw, 24).String(), "dev", rec.ID},
		{"link", "set", rec.ID, "up"},
	} {
		if _, err := run(ctx, "", "ip", args...); err != nil {
			return fail(err)
		}
	}
	// IPv6 on the bridge only adds link-local noise (DAD, router solicitations).
	_ = os.WriteFile(filepath.Join("/proc/sys/net/ipv6/conf", rec.ID, "disable_ipv6"), []byte("1"), 0o644)
	return n, nil
}

// prepareMachine creates the directories sshd and the hosts' bind mounts
// need on the machine (Debian's packages leave some to systemd).
func prepareMachine(ctx context.Context) error {
	for _, d := range []string{"/run/sshd", "/var/log/mysql", "/run/mysqld", "/etc/mysql", "/var/lib/mysql", "/dev/disk", "/mnt", "/run/netns"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// ID is the unique name of the network (also its bridge's name).
func (n *Network) ID() string { return n.rec.ID }

// Bridge is the bridge interface name.
func (n *Network) Bridge() string { return n.rec.ID }

// Subnet is the network's /24.
func (n *Network) Subnet() netip.Prefix { return n.subnet }

// Gateway is the machine's address on the bridge (the .1).
func (n *Network) Gateway() netip.Addr { return n.subnet.Addr().Next() }

// StateDir is the network's own state directory,
// <NetworkOptions.StateDir or /var/lib/pxc-hosts>/<ID>; each host's state is
// in <StateDir>/<host name>. Disks made by callers may live here too: Close
// detaches and removes whatever is left in it.
func (n *Network) StateDir() string { return n.rec.StateDir }

// AllocateAddr reserves a free address in the subnet (.10 upwards).
func (n *Network) AllocateAddr() (netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.subnet.Addr()
	for i := 0; i < 10; i++ {
		a = a.Next()
	}
	for ; n.subnet.Contains(a) && a.As4()[3] < 255; a = a.Next() {
		// An address given back while its host still runs (a port deleted
		// under a server that is still being torn down) is left for later:
		// the lowest free address would otherwise go straight to the next
		// host, and probes of it would reach the old one.
		if _, held := n.memberNetnsLocked(a); !n.used[a] && !held {
			n.used[a] = true
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("allocate address in %s: none free", n.subnet)
}

// ReserveAddr takes a caller-chosen address out of the pool.
func (n *Network) ReserveAddr(a netip.Addr) error { return n.reserveAddr(a) }

func (n *Network) isUsed(a netip.Addr) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.used[a]
}

// reserveAddr marks a caller-chosen address as used.
func (n *Network) reserveAddr(a netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.subnet.Contains(a) || a == n.Gateway() || a == n.subnet.Addr() || a.As4()[3] == 255 {
		return fmt.Errorf("address %s is not a usable host address in %s", a, n.subnet)
	}
	if n.used[a] {
		return fmt.Errorf("address %s is already in use", a)
	}
	if ns, held := n.memberNetnsLocked(a); held {
		// Asked for by name while a host that lost it still runs: that
		// host's link goes, as a deleted port's tap leaves the bridge.
		if err := unplugLink(ns); err != nil {
			return fmt.Errorf("reserve address %s: %w", a, err)
		}
	}
	n.used[a] = true
	return nil
}

// unplugLink sets the link of netns ns down (nothing to do when the
// namespace is gone).
func unplugLink(ns string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := run(ctx, "", "ip", "-n", ns, "link", "set", "eth0", "down"); err != nil {
		if _, statErr := os.Stat(filepath.Join("/run/netns", ns)); errors.Is(statErr, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("unplug the link of %s: %w: %s", ns, err, out)
	}
	return nil
}

// ReleaseAddr returns an address to the pool.
func (n *Network) ReleaseAddr(a netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.used, a)
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// claimName reserves a host or namespace name within the network.
func (n *Network) claimName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("name %q is not a lowercase DNS label", name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("network is closed")
	}
	if n.names[name] {
		return fmt.Errorf("name %q is already used on network %s", name, n.rec.ID)
	}
	n.names[name] = true
	return nil
}

func (n *Network) releaseName(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.names, name)
}

// netnsName is the network namespace name of a host or namespace.
func (n *Network) netnsName(name string) string { return n.rec.ID + "-" + name }

// vethName is a fresh machine-side veth name (at most 9+1+5 characters,
// within IFNAMSIZ). It is not derived from the member's address: a cloud
// port deleted under a running server gives its address back while the
// server's host keeps its veth until it is closed, and a new host on that
// address then needs a name of its own (named after the address, its
// `ip link add` failed with "File exists": "Failed to spawn the guest").
func (n *Network) vethName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.veths++
	return fmt.Sprintf("%sv%d", n.rec.ID, n.veths%100000)
}

// plug creates netns ns with a veth on the bridge: eth0 inside with addr/24,
// loopback up, no default route. Then every neighbour on the network
// forgets what it knew of addr, as a guest's announcement at boot (the
// gratuitous ARP of its DHCP client) makes them: an address given back and
// handed out again has a new MAC behind it, and a neighbour still holding
// the old one (this machine, which waits for sshd; the other hosts; a load
// balancer) would send there until its entry went stale and failed its
// probes, some 20 s in which the new host looked dead. The kernel's own
// announcement (arp_notify) goes out as eth0 comes up, before the bridge
// forwards from the new port, and is lost.
func (n *Network) plug(ctx context.Context, ns string, addr netip.Addr) error {
	veth := n.vethName()
	cmds := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", n.rec.ID, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", netip.PrefixFrom(addr, 24).String(), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"neigh", "flush", "to", addr.String(), "dev", n.rec.ID},
	}
	for _, args := range cmds {
		if _, err := run(ctx, "", "ip", args...); err != nil {
			return fmt.Errorf("plug %s into %s: %w", ns, n.rec.ID, err)
		}
	}
	for _, other := range n.otherNetns(ns) {
		// Best effort: a neighbour may be going away meanwhile.
		_, _ = run(ctx, "", "ip", "-n", other, "neigh", "flush", "to", addr.String(), "dev", "eth0")
	}
	return nil
}

// otherNetns lists the netns of the network's hosts and namespaces but ns.
func (n *Network) otherNetns(ns string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for h := range n.hosts {
		if h.ns != ns {
			out = append(out, h.ns)
		}
	}
	for s := range n.spaces {
		if s.ns != ns {
			out = append(out, s.ns)
		}
	}
	return out
}

// unplug kills what still runs in netns ns and deletes it with its veth.
// The veth is deleted first, explicitly: a deleted namespace is torn down by
// the kernel asynchronously, and until then its veth stays on the bridge.
func unplug(ctx context.Context, ns string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := killNetnsPids(ctx, ns); err != nil {
		return err
	}
	if err := removeGuestCgroups(ns); err != nil {
		return err
	}
	if out, err := run(ctx, "", "ip", "-n", ns, "link", "delete", "eth0"); err != nil && !strings.Contains(string(out), "Cannot find device") {
		return fmt.Errorf("delete the veth of netns %s: %w", ns, err)
	}
	if _, err := run(ctx, "", "ip", "netns", "delete", ns); err != nil {
		return fmt.Errorf("delete netns %s: %w", ns, err)
	}
	return nil
}

// Close powers off and removes every host and namespace on the network, then
// the bridge and the state directory it created. Safe to call twice.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	hosts := make([]*Host, 0, len(n.hosts))
	for h := range n.hosts {
		hosts = append(hosts, h)
	}
	spaces := make([]*Namespace, 0, len(n.spaces))
	for s := range n.spaces {
		spaces = append(spaces, s)
	}
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	// Power hosts off in parallel: each waits for its PID namespace to die.
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Close(); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, s := range spaces {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeNetworkObjects(ctx, n.rec); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		removeNetRecord(n.rec.ID)
	}
	return errors.Join(errs...)
}

// removeNetworkObjects deletes every namespace and link named after the
// network, loop devices backed by files in its state dir, and the state dir
// if the network created it. Used by Close and Sweep.
func removeNetworkObjects(ctx context.Context, rec netRecord) error {
	var errs []error
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		if len(e.Name()) > len(rec.ID) && e.Name()[:len(rec.ID)+1] == rec.ID+"-" {
			if err := unplug(ctx, e.Name()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := removeNetworkCgroups(rec.ID); err != nil {
		errs = append(errs, err)
	}
	links, err := linkNames(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range links {
		if l == rec.ID || isVethOf(l, rec.ID) {
			// A veth may vanish on its own as its namespace goes away.
			if out, err := run(ctx, "", "ip", "link", "delete", l); err != nil && !strings.Contains(string(out), "Cannot find device") {
				errs = append(errs, fmt.Errorf("delete link %s: %w", l, err))
			}
		}
	}
	if rec.StateDir != "" {
		if err := detachLoopsUnder(ctx, rec.StateDir); err != nil {
			errs = append(errs, err)
		}
	}
	if rec.OwnsStateDir && rec.StateDir != "" {
		if err := os.RemoveAll(rec.StateDir); err != nil {
			errs = append(errs, fmt.Errorf("remove state dir: %w", err))
		}
	}
	return errors.Join(errs...)
}

func isVethOf(link, id string) bool {
	rest, ok := strings.CutPrefix(link, id+"v")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// AddExternalSubnet gives the bridge a second, unique /24 (allocated like
// NewNetwork's) and puts the machine's .1 of it on the bridge, so addresses
// of that subnet added to members with AddAlias are reachable from the
// machine. The address goes when the bridge does (Close, Sweep).
func (n *Network) AddExternalSubnet(ctx context.Context) (netip.Prefix, error) {
	var subnet netip.Prefix
	err := withLock(func() error {
		used, err := usedPrefixes(ctx)
		if err != nil {
			return err
		}
		for _, r := range readNetRecords() {
			if p, err := netip.ParsePrefix(r.Subnet); err == nil {
				used = append(used, p)
			}
		}
		if subnet, err = pickSubnet(used); err != nil {
			return err
		}
		// Added under the lock: from now on usedPrefixes sees it.
		_, err = run(ctx, "", "ip", "addr", "add", netip.PrefixFrom(subnet.Addr().Next(), 24).String(), "dev", n.rec.ID)
		return err
	})
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("add external subnet to network %s: %w", n.rec.ID, err)
	}
	return subnet, nil
}

// AddAlias makes the host or namespace whose address is owner answer on
// alias, the way a Neutron router maps a floating IP to a fixed IP: the
// alias address (with its prefix length, usually the external subnet's, so
// replies to the machine find a route) goes on the member's eth0, and a NAT
// table in the member's namespace rewrites the destination alias to owner
// (so services bound to owner alone, like HAProxy on a VIP, answer too;
// conntrack rewrites the replies back). Hosts keep the table across
// ApplyFirewall. It returns ErrNoMember when no member has owner.
func (n *Network) AddAlias(ctx context.Context, owner netip.Addr, alias netip.Prefix) error {
	ns, ok := n.memberNetns(owner)
	if !ok {
		return fmt.Errorf("add %s to %s: %w", alias, owner, ErrNoMember)
	}
	if out, err := run(ctx, "", "ip", "-n", ns, "addr", "add", alias.String(), "dev", "eth0"); err != nil && !strings.Contains(string(out), "File exists") {
		return fmt.Errorf("add %s to %s: %w", alias, owner, err)
	}
	n.mu.Lock()
	if n.aliases[owner] == nil {
		n.aliases[owner] = map[netip.Addr]bool{}
	}
	n.aliases[owner][alias.Addr()] = true
	n.mu.Unlock()
	// Delete first (ignoring "no such table") so that adding twice is harmless.
	_, _ = run(ctx, "delete table ip "+natTable(alias.Addr())+"\n", "ip", "netns", "exec", ns, "nft", "-f", "-")
	if _, err := run(ctx, natRules(alias.Addr(), owner), "ip", "netns", "exec", ns, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("map %s to %s: %w", alias.Addr(), owner, err)
	}
	return nil
}

// RemoveAlias undoes AddAlias; a member that is gone (or an alias it no
// longer has) is not an error.
func (n *Network) RemoveAlias(ctx context.Context, owner netip.Addr, alias netip.Prefix) error {
	n.mu.Lock()
	delete(n.aliases[owner], alias.Addr())
	if len(n.aliases[owner]) == 0 {
		delete(n.aliases, owner)
	}
	n.mu.Unlock()
	ns, ok := n.memberNetns(owner)
	if !ok {
		return nil
	}
	_, _ = run(ctx, "delete table ip "+natTable(alias.Addr())+"\n", "ip", "netns", "exec", ns, "nft", "-f", "-")
	out, err := run(ctx, "", "ip", "-n", ns, "addr", "del", alias.String(), "dev", "eth0")
	if err != nil && !strings.Contains(string(out), "Cannot assign") && !strings.Contains(string(out), "Cannot find device") &&
		!strings.Contains(string(out), "No such file") {
		return fmt.Errorf("remove %s from %s: %w", alias, owner, err)
	}
	return nil
}

// natTable names the NAT table of one alias.
func natTable(alias netip.Addr) string {
	return "alias_" + strings.ReplaceAll(alias.String(), ".", "_")
}

// natRules is the nft table mapping alias to owner (incoming, and from
// the member itself).
func natRules(alias, owner netip.Addr) string {
	return fmt.Sprintf(`table ip %s {
	chain pre { type nat hook prerouting priority dstnat; ip daddr %s dnat to %s; }
	chain out { type nat hook output priority -100; ip daddr %s dnat to %s; }
}
`, natTable(alias), alias, owner, alias, owner)
}

// aliasRules is the NAT tables of every alias of owner (for ApplyFirewall,
// which replaces the whole ruleset).
func (n *Network) aliasRules(owner netip.Addr) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var b strings.Builder
	for a := range n.aliases[owner] {
		b.WriteString(natRules(a, owner))
	}
	return b.String()
}

// ErrNoMember says no host or namespace on the network has the address.
var ErrNoMember = errors.New("no host or namespace has this address")

// memberNetns finds the netns of the host or namespace with address a.
func (n *Network) memberNetns(a netip.Addr) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.memberNetnsLocked(a)
}

func (n *Network) memberNetnsLocked(a netip.Addr) (string, bool) {
	for h := range n.hosts {
		if h.addr == a {
			return h.ns, true
		}
	}
	for s := range n.spaces {
		if s.addr == a {
			return s.ns, true
		}
	}
	return "", false
}

// HasMember reports whether a host or namespace on the network has address a.
func (n *Network) HasMember(a netip.Addr) bool {
	_, ok := n.memberNetns(a)
	return ok
}
