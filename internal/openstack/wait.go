package openstack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Observation is one look at an object while waiting for it.
type Observation struct {
	Status string
	// Fault explains a failed status (Nova's fault.message, Octavia's
	// operating status...). Empty when there is nothing to add.
	Fault string
}

// PollFunc looks at the object once. Returning an error for which
// IsNotFound is true means the object is gone.
type PollFunc func(ctx context.Context) (Observation, error)

// Wait describes what to wait for. Only What and Target are required.
type Wait struct {
	What   string   // "server db-1 (3f2a...)": used in every message
	Target []string // statuses that end the wait successfully
	// Pending statuses keep the wait going. Empty: every status that is
	// neither a target nor failed is pending. Non-empty: any other status
	// is unexpected and ends the wait with a StatusError.
	Pending []string
	// Failed statuses end the wait with a StatusError. nil: ERROR; an
	// empty non-nil slice: none (a server being deleted may read ERROR).
	Failed []string
	// GoneOK makes "object not found" a success (waiting for a delete).
	GoneOK bool

	Initial time.Duration // first poll interval; default 500 ms
	Max     time.Duration // longest poll interval; default 5 s
	// FirstLook, when positive, delays the first poll: a look at once
	// after a create costs a request and can only say "still building".
	FirstLook time.Duration
	// Steady keeps the interval at Initial for this long from the start
	// before it doubles: a create's transitions end within seconds on a
	// fast cloud, and a wait ends on average half an interval late.
	Steady time.Duration
	// Wake, when set, ends a pause before a poll early: it signals that a
	// look at the object is at hand without a request of its own (another
	// wait's list showed it), so that poll is free and the next pause
	// starts in step with the waits sharing the list.
	Wake <-chan struct{}
}

// Gone is the status WaitForStatus returns when the object vanished and
// GoneOK was set.
const Gone = "GONE"

// StatusError is returned when an object reaches a failed or unexpected
// status.
type StatusError struct {
	What   string
	Status string
	Fault  string
	Target []string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s went to status %s while waiting for %s", e.What, e.Status, strings.Join(e.Target, " or "))
	if e.Fault != "" {
		msg += ": " + e.Fault
	}
	return msg
}

// WaitForStatus polls until the object reaches a target status, reaches a
// failed status, disappears, or ctx ends. The interval starts at w.Initial
// and doubles up to w.Max (after w.Steady). It returns the final status.
func WaitForStatus(ctx context.Context, w Wait, poll PollFunc) (string, error) {
	failed := w.Failed
	if failed == nil {
		failed = []string{"ERROR"}
	}
	interval, maxInterval := w.Initial, w.Max
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if maxInterval <= 0 {
		maxInterval = 5 * time.Second
	}
	last := "(not yet seen)"
	start := time.Now()
	if w.FirstLook > 0 && !pause(ctx, w.FirstLook, w.Wake) {
		return last, timeoutError(ctx, w, last)
	}
	for {
		obs, err := poll(ctx)
		switch {
		case err != nil && IsNotFound(err):
			if w.GoneOK {
				return Gone, nil
			}
			return "", fmt.Errorf("%s disappeared while waiting for %s: %w", w.What, strings.Join(w.Target, " or "), err)
		case err != nil && ctx.Err() != nil:
			return "", timeoutError(ctx, w, last)
		case err != nil:
			return "", fmt.Errorf("check %s: %w", w.What, err)
		}
		last = obs.Status
		switch {
		case matchStatus(w.Target, obs.Status):
			return obs.Status, nil
		case matchStatus(failed, obs.Status):
			return obs.Status, &StatusError{What: w.What, Status: obs.Status, Fault: obs.Fault, Target: w.Target}
		case len(w.Pending) > 0 && !matchStatus(w.Pending, obs.Status):
			return obs.Status, &StatusError{What: w.What, Status: obs.Status, Fault: joinFault("unexpected status", obs.Fault), Target: w.Target}
		}
		if !pause(ctx, interval, w.Wake) {
			return last, timeoutError(ctx, w, last)
		}
		if time.Since(start) >= w.Steady {
			interval = min(interval*2, maxInterval)
		}
	}
}

// pause waits d, or until wake signals; false when ctx ended first.
func pause(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
	case <-wake:
	}
	return true
}

// WaitFor polls check until it reports done, fails, or ctx ends; for waits
// that are not about a status field. The callers wait for health checks'
// verdicts, due within a few seconds: every createPoll for createSteady,
// then backing off.
func WaitFor(ctx context.Context, what string, check func(ctx context.Context) (done bool, err error)) error {
	_, err := WaitForStatus(ctx, Wait{What: what, Target: []string{"done"}, Initial: createPoll, Steady: createSteady}, checkPoll(check))
	return err
}

// checkPoll turns a done-or-not check into a PollFunc.
func checkPoll(check func(ctx context.Context) (done bool, err error)) PollFunc {
	return func(ctx context.Context) (Observation, error) {
		done, err := check(ctx)
		if done {
			return Observation{Status: "done"}, err
		}
		return Observation{Status: "waiting"}, err
	}
}

func timeoutError(ctx context.Context, w Wait, last string) error {
	return fmt.Errorf("timed out waiting for %s to become %s (last status %s): %w",
		w.What, strings.Join(w.Target, " or "), last, context.Cause(ctx))
}

func matchStatus(list []string, status string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, status) })
}

func joinFault(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}
