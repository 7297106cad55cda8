package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// RebuildOptions is what a rebuilt host boots: the parts of Options a
// rebuild may change (Nova's rebuild re-injects the keypair and may boot
// another image).
type RebuildOptions struct {
	// AuthorizedKeys are authorized_keys lines for root.
	AuthorizedKeys []string
	// Image, as Options.Image: the root filesystem of a guest image booted
	// with systemd; empty: an init-less host over the machine's filesystem.
	Image string
	// NoCloud, in systemd mode, seeds cloud-init (nil: cloud-init stays off).
	NoCloud *NoCloudSeed
}

// Rebuild gives a powered-off host a fresh root disk, as Nova's rebuild
// re-images a server: its private root state (the private directories, or
// in systemd mode the overlay's upper layer) is made again from the image,
// so whatever the guest wrote outside its disks is gone, and the host gets
// a new SSH host key (HostKey changes). Name, address, network namespace
// (with its firewall and floating addresses) and attached disks stay: the
// disks appear again as /dev/disk/by-id/virtio-<serial>, with their
// contents. boot.log starts over. The host stays off until PowerOn.
func (h *Host) Rebuild(ctx context.Context, opts RebuildOptions) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("rebuild %s: host is closed", h.name)
	}
	if h.runningLocked() {
		return fmt.Errorf("rebuild %s: the host is running; power it off first", h.name)
	}
	if h.boot != nil { // crashed by itself: clear what is left
		if err := h.powerOffLocked(ctx); err != nil {
			return fmt.Errorf("rebuild %s: %w", h.name, err)
		}
	}
	h.image, h.seed = opts.Image, opts.NoCloud
	create := h.create
	if h.image != "" {
		create = h.createSystemd
	}
	if err := create(ctx, opts.AuthorizedKeys); err != nil {
		return fmt.Errorf("rebuild %s: %w", h.name, err)
	}
	// The state dir was made anew: link the attached disks again.
	for serial, d := range h.disks {
		link := filepath.Join(h.dir, "dev-disk", "by-id", "virtio-"+serial)
		if err := os.Symlink(d.Device(), link); err != nil {
			return fmt.Errorf("rebuild %s: attach disk %s again: %w", h.name, serial, err)
		}
	}
	return nil
}
