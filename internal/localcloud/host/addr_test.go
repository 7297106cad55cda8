package host

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A cloud's port owns its address; the host only borrows it, so the address
// is never free while the port exists.
func TestHeldAddressIsNeverFree(t *testing.T) {
	needRoot(t)
	n := newTestNetwork(t)
	ctx := context.Background()

	addr, err := n.AllocateAddr()
	if err != nil {
		t.Fatal(err)
	}
	h, err := n.StartHost(ctx, Options{Name: "held", Addr: addr, AddrHeld: true})
	if err != nil {
		t.Fatalf("start host on a held address: %v", err)
	}
	if h.Addr() != addr {
		t.Fatalf("host has %s, want %s", h.Addr(), addr)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.ReserveAddr(addr); err == nil {
		t.Fatalf("closing the host gave the caller's address %s back to the pool", addr)
	}
	n.ReleaseAddr(addr)
	if err := n.ReserveAddr(addr); err != nil {
		t.Fatalf("released address not reservable: %v", err)
	}
	n.ReleaseAddr(addr)

	// Claiming to hold an address that is free is a caller bug.
	if _, err := n.StartHost(ctx, Options{Name: "liar", Addr: addr, AddrHeld: true}); err == nil {
		t.Fatal("host started on an address nobody held")
	}
}

// An address handed out again has a new host (a new MAC) behind it while
// this machine still holds the old MAC for it. The new host announces
// itself as its link comes up, so it answers at once; before, the wait for
// its sshd sent to the old MAC until the entry went stale and failed its
// probes (about 20 s on a shrink followed by a grow).
func TestHostOnAReusedAddressIsReachableAtOnce(t *testing.T) {
	n := newTestNetwork(t)
	ctx := context.Background()
	addr, err := n.AllocateAddr()
	if err != nil {
		t.Fatal(err)
	}
	defer n.ReleaseAddr(addr)
	// Another host keeps the bridge up: with its last port gone, the
	// bridge loses its carrier and the kernel forgets its neighbours.
	if _, err := n.StartHost(ctx, Options{Name: "bystander"}); err != nil {
		t.Fatal(err)
	}
	// Systemd guests, as a cloud's servers: this machine reaches the
	// first over SSH (its entry is REACHABLE), and so has the bystander,
	// then it goes.
	first := startSystemdHost(t, n, Options{Name: "first", Addr: addr, AddrHeld: true})
	oldMAC := linkMAC(t, n.netnsName("first"))
	if out, err := run(ctx, "", "ip", "-n", n.netnsName("bystander"), "neigh", "replace", addr.String(), "lladdr", oldMAC, "dev", "eth0", "nud", "reachable"); err != nil {
		t.Fatalf("the bystander's entry: %v: %s", err, out)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	startSystemdHost(t, n, Options{Name: "second", Addr: addr, AddrHeld: true})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the host on reused address %s answered after %s", addr, d.Round(time.Second))
	}
	mac := linkMAC(t, n.netnsName("second"))
	entry, err := run(ctx, "", "ip", "neigh", "show", addr.String(), "dev", n.Bridge())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(entry), mac) {
		t.Errorf("this machine's neighbour entry %q, want the new host's MAC %s", strings.TrimSpace(string(entry)), mac)
	}
	entry, err = run(ctx, "", "ip", "-n", n.netnsName("bystander"), "neigh", "show", addr.String(), "dev", "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(entry), oldMAC) {
		t.Errorf("the bystander still sends %s to the old host: %q", addr, strings.TrimSpace(string(entry)))
	}
}

// linkMAC is the MAC address of eth0 in netns ns.
func linkMAC(t *testing.T, ns string) string {
	t.Helper()
	out, err := run(context.Background(), "", "ip", "-n", ns, "-br", "link", "show", "eth0")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if len(f) < 3 {
		t.Fatalf("no MAC in %q", out)
	}
	return f[2]
}
