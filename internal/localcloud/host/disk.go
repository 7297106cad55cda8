package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Disk is a sparse file on a loop device.
type Disk struct {
	mu     sync.Mutex
	file   string
	dev    string
	size   int64
	rec    string // registry file
	closed bool
}

// NewDisk creates a sparse file of size bytes in dir and attaches a loop
// device. The disk is recorded with this process as its owner, so Sweep
// detaches it if the process dies without Close.
func NewDisk(ctx context.Context, dir string, size int64) (*Disk, error) {
	if size <= 0 {
		return nil, fmt.Errorf("new disk: size %d must be positive", size)
	}
	if err := ensureLoop(ctx); err != nil {
		return nil, fmt.Errorf("new disk: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("new disk: %w", err)
	}
	f, err := os.CreateTemp(dir, "disk-*.img")
	if err != nil {
		return nil, fmt.Errorf("new disk: %w", err)
	}
	file := f.Name()
	err = f.Truncate(size)
	f.Close()
	if err != nil {
		os.Remove(file)
		return nil, fmt.Errorf("new disk: size %s: %w", file, err)
	}
	d := &Disk{file: file, size: size}
	// Record before attaching, so a crash in between still leaves a trace
	// Sweep can follow (it matches the backing file).
	err = withLock(func() error {
		d.rec = filepath.Join(disksDir, "disk-"+randomString(10)+".json")
		return writeJSON(d.rec, diskRecord{File: file, Owner: self()})
	})
	if err != nil {
		os.Remove(file)
		return nil, fmt.Errorf("new disk: record: %w", err)
	}
	out, err := run(ctx, "", "losetup", "--find", "--show", file)
	if err != nil {
		os.Remove(file)
		os.Remove(d.rec)
		return nil, fmt.Errorf("new disk: attach loop device: %w", err)
	}
	d.dev = strings.TrimSpace(string(out))
	_ = withLock(func() error { return writeJSON(d.rec, diskRecord{Device: d.dev, File: file, Owner: self()}) })
	return d, nil
}

// ensureLoop makes sure loop devices can be allocated (the module may need
// loading; here the kernel has it built in).
func ensureLoop(ctx context.Context) error {
	if _, err := os.Stat("/dev/loop-control"); err == nil {
		return nil
	}
	if _, err := run(ctx, "", "modprobe", "loop"); err != nil {
		return fmt.Errorf("no /dev/loop-control and modprobe loop failed: %w", err)
	}
	return nil
}

// Device is the loop device path, e.g. /dev/loop3.
func (d *Disk) Device() string { return d.dev }

// File is the backing sparse file.
func (d *Disk) File() string { return d.file }

// Size is the current size in bytes.
func (d *Disk) Size() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.size
}

// Resize grows the file and tells the loop device (losetup -c), so the guest
// sees the new size online. Shrinking is refused.
func (d *Disk) Resize(ctx context.Context, size int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("resize disk %s: closed", d.dev)
	}
	if size < d.size {
		return fmt.Errorf("resize disk %s: cannot shrink from %d to %d bytes", d.dev, d.size, size)
	}
	if err := os.Truncate(d.file, size); err != nil {
		return fmt.Errorf("resize disk %s: %w", d.dev, err)
	}
	if _, err := run(ctx, "", "losetup", "-c", d.dev); err != nil {
		return fmt.Errorf("resize disk %s: %w", d.dev, err)
	}
	d.size = size
	return nil
}

// Close detaches the loop device and removes the file. Safe to call twice.
func (d *Disk) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := detachLoop(ctx, d.dev, d.file); err != nil {
		return fmt.Errorf("close disk %s: %w", d.dev, err)
	}
	if err := os.Remove(d.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("close disk %s: %w", d.dev, err)
	}
	_ = withLock(func() error { return os.Remove(d.rec) })
	d.closed = true
	return nil
}

// backingFile is the file behind a loop device ("" if none).
func backingFile(dev string) string {
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "loop/backing_file"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
}

// detachLoop detaches dev if it is still backed by file. A device that is
// still mounted somewhere is set to detach itself on last close (the kernel
// does that when LOOP_CLR_FD finds it busy).
func detachLoop(ctx context.Context, dev, file string) error {
	if dev == "" || backingFile(dev) != file {
		return nil
	}
	var err error
	for i := 0; i < 20; i++ {
		if _, err = run(ctx, "", "losetup", "-d", dev); err == nil || backingFile(dev) != file {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// detachLoopsUnder detaches every loop device whose backing file is under dir.
func detachLoopsUnder(ctx context.Context, dir string) error {
	dir = filepath.Clean(dir) + "/"
	ents, _ := os.ReadDir("/sys/block")
	var errs []error
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "loop") {
			continue
		}
		dev := "/dev/" + e.Name()
		if f := backingFile(dev); f != "" && strings.HasPrefix(f, dir) {
			if err := detachLoop(ctx, dev, f); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
