package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Sweep removes bridges, namespaces, loop devices, mounts and processes left
// by owners that are no longer alive (a test binary killed by a timeout).
// Networks and disks of live owners are left alone, so it is safe to run at
// the start of every test binary and from `make localcloud-down`. Mounts need
// no work: they live only in the hosts' private mount namespaces.
func Sweep(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
	}
	var errs []error
	err := withLock(func() error {
		for _, rec := range readNetRecords() {
			if rec.Owner.alive() {
				continue
			}
			if err := removeNetworkObjects(ctx, rec); err != nil {
				errs = append(errs, fmt.Errorf("sweep network %s: %w", rec.ID, err))
				continue
			}
			if err := os.Remove(filepath.Join(netsDir, rec.ID+".json")); err != nil {
				errs = append(errs, err)
			}
		}
		// State dirs whose network record is gone (a Close that failed
		// halfway after removing it).
		live := readNetRecords()
		ents, _ := os.ReadDir(DefaultStateRoot)
		for _, e := range ents {
			dir := filepath.Join(DefaultStateRoot, e.Name())
			if !e.IsDir() || holdsStateOf(dir, live) {
				continue
			}
			if err := detachLoopsUnder(ctx, dir); err != nil {
				errs = append(errs, fmt.Errorf("sweep %s: %w", dir, err))
				continue
			}
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, fmt.Errorf("sweep %s: %w", dir, err))
			}
		}
		for path, rec := range readDiskRecords() {
			if rec.Owner.alive() {
				continue
			}
			if err := detachLoopsOf(ctx, rec.File); err != nil {
				errs = append(errs, fmt.Errorf("sweep disk %s: %w", rec.File, err))
				continue
			}
			if err := os.Remove(rec.File); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("sweep disk %s: %w", rec.File, err))
				continue
			}
			_ = os.Remove(path)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("sweep: %w", errors.Join(errs...))
	}
	return nil
}

// detachLoopsOf detaches every loop device backed by file.
func detachLoopsOf(ctx context.Context, file string) error {
	ents, _ := os.ReadDir("/sys/block")
	var errs []error
	for _, e := range ents {
		dev := "/dev/" + e.Name()
		if backingFile(dev) == file {
			if err := detachLoop(ctx, dev, file); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// holdsStateOf reports whether dir is, or contains, a recorded network's
// state dir.
func holdsStateOf(dir string, recs []netRecord) bool {
	for _, r := range recs {
		sd := filepath.Clean(r.StateDir)
		if sd == dir || strings.HasPrefix(sd, dir+"/") {
			return true
		}
	}
	return false
}
