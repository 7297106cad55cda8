package host

import (
	"context"
	"testing"
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
