package state

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
)

// Store is the state every service works on. Mu guards St, Hosts, Disks,
// Probing and the step delay.
type Store struct {
	Mu sync.Mutex
	St *Persisted
	// Hosts are the running servers' hosts by server id; Disks the
	// volumes' loop devices by volume id.
	Hosts map[string]*host.Host
	Disks map[string]*host.Disk
	// Probing counts boots in progress per server: their firewall lets the
	// machine reach sshd meanwhile.
	Probing map[string]int
	// Network is the bridge behind the one network; Public the external
	// network's subnet on it.
	Network *host.Network
	Public  netip.Prefix
	Log     *slog.Logger
	// Dir is the state directory.
	Dir string

	stepDelay time.Duration

	asyncMu  sync.Mutex     // guards closed and bg.Add against Close's bg.Wait
	closed   bool           // no new asynchronous work once set
	bg       sync.WaitGroup // asynchronous transitions
	inFlight atomic.Int64   // running asynchronous transitions (WaitIdle waits for 0)
	bgCtx    context.Context
	cancel   context.CancelFunc
}

// NewStore wraps st, saved in dir; stepDelay paces status transitions.
func NewStore(dir string, st *Persisted, stepDelay time.Duration, log *slog.Logger) *Store {
	s := &Store{St: st, Dir: dir, Log: log, stepDelay: stepDelay,
		Hosts: map[string]*host.Host{}, Disks: map[string]*host.Disk{}, Probing: map[string]int{}}
	s.bgCtx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Persist saves the state file; callers hold Mu or own the store exclusively.
func (s *Store) Persist() error { return Save(s.Dir, s.St) }

// Save persists the state and logs a failure (request handlers keep going:
// the in-memory state is the truth while the process lives).
func (s *Store) Save() {
	if err := s.Persist(); err != nil {
		s.Log.Error("save state", "err", err)
	}
}

// Go runs f in the background, tracked so Stop can wait for it. It returns
// false when the cloud is closing.
func (s *Store) Go(f func(ctx context.Context)) bool {
	s.asyncMu.Lock()
	defer s.asyncMu.Unlock()
	if s.closed {
		return false
	}
	s.bg.Add(1)
	s.inFlight.Add(1)
	go func() {
		defer s.bg.Done()
		defer s.inFlight.Add(-1)
		f(s.bgCtx)
	}()
	return true
}

// GoDaemon runs a loop for the cloud's lifetime; it does not count as a
// running transition for WaitIdle.
func (s *Store) GoDaemon(f func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f(s.bgCtx)
	}()
}

// Stop refuses new asynchronous work, cancels the running work and waits for it.
func (s *Store) Stop() {
	s.asyncMu.Lock()
	s.closed = true
	s.asyncMu.Unlock()
	s.cancel()
	s.bg.Wait()
}

// Cancel ends the background context (a Start that fails half way).
func (s *Store) Cancel() { s.cancel() }

// WaitIdle waits until no asynchronous transition runs (or ctx ends).
func (s *Store) WaitIdle(ctx context.Context) error {
	for s.inFlight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for running transitions: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// StepDelay is the pause between the steps of a status transition; callers hold Mu.
func (s *Store) StepDelay() time.Duration { return s.stepDelay }

// SetStepDelay changes it; callers hold Mu.
func (s *Store) SetStepDelay(d time.Duration) { s.stepDelay = d }

// SleepStep waits one transition step (or returns false when closing).
func (s *Store) SleepStep(ctx context.Context) bool {
	s.Mu.Lock()
	d := s.stepDelay
	s.Mu.Unlock()
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
