package openstack

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// statuses returns a PollFunc that reports the given statuses in turn, the
// last one forever.
func statuses(list ...string) (PollFunc, *int) {
	n := 0
	return func(context.Context) (Observation, error) {
		i := min(n, len(list)-1)
		n++
		return Observation{Status: list[i], Fault: "fault of " + list[i]}, nil
	}, &n
}

var fast = Wait{Initial: time.Millisecond, Max: 2 * time.Millisecond}

func waitSpec(w Wait) Wait {
	w.Initial, w.Max = fast.Initial, fast.Max
	return w
}

func TestWaitReachesTarget(t *testing.T) {
	poll, n := statuses("BUILD", "BUILD", "ACTIVE")
	got, err := WaitForStatus(context.Background(), waitSpec(Wait{What: "server x", Target: []string{"ACTIVE"}}), poll)
	if err != nil || got != "ACTIVE" || *n != 3 {
		t.Fatalf("got %q, %v after %d polls", got, err, *n)
	}
}

func TestWaitErrorIsTerminalWithFault(t *testing.T) {
	poll, n := statuses("BUILD", "ERROR", "ACTIVE")
	_, err := WaitForStatus(context.Background(), waitSpec(Wait{What: "server x", Target: []string{"ACTIVE"}}), poll)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != "ERROR" {
		t.Fatalf("want StatusError ERROR, got %v", err)
	}
	mustContain(t, err.Error(), "server x", "ERROR", "fault of ERROR")
	if *n != 2 {
		t.Errorf("polled %d times after ERROR", *n-2)
	}
}

func TestWaitUnexpectedStatus(t *testing.T) {
	poll, _ := statuses("creating", "deleting")
	_, err := WaitForStatus(context.Background(),
		waitSpec(Wait{What: "volume v", Target: []string{"available"}, Pending: []string{"creating"}}), poll)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != "deleting" {
		t.Fatalf("want StatusError deleting, got %v", err)
	}
}

func TestWaitDeadline(t *testing.T) {
	poll, _ := statuses("BUILD")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := WaitForStatus(ctx, waitSpec(Wait{What: "server x", Target: []string{"ACTIVE"}}), poll)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	mustContain(t, err.Error(), "timed out", "server x", "ACTIVE", "BUILD")
	if time.Since(start) > time.Second {
		t.Errorf("returned after %v", time.Since(start))
	}
}

func notFound() error {
	return fmt.Errorf("get server x: %w", gophercloud.ErrUnexpectedResponseCode{Actual: 404, Expected: []int{200}})
}

func TestWaitGoneForDeletes(t *testing.T) {
	n := 0
	poll := func(context.Context) (Observation, error) {
		n++
		if n < 3 {
			return Observation{Status: "ACTIVE"}, nil
		}
		return Observation{}, notFound()
	}
	got, err := WaitForStatus(context.Background(), waitSpec(Wait{What: "server x", Target: []string{"DELETED"}, GoneOK: true}), poll)
	if err != nil || got != Gone {
		t.Fatalf("got %q, %v", got, err)
	}

	_, err = WaitForStatus(context.Background(), waitSpec(Wait{What: "server x", Target: []string{"ACTIVE"}}),
		func(context.Context) (Observation, error) { return Observation{}, notFound() })
	if err == nil || !IsNotFound(err) {
		t.Fatalf("without GoneOK a 404 is an error that IsNotFound: %v", err)
	}
	mustContain(t, err.Error(), "disappeared")
}

func TestWaitBacksOff(t *testing.T) {
	var times []time.Time
	poll := func(context.Context) (Observation, error) {
		times = append(times, time.Now())
		if len(times) == 5 {
			return Observation{Status: "ok"}, nil
		}
		return Observation{Status: "busy"}, nil
	}
	_, err := WaitForStatus(context.Background(), Wait{What: "x", Target: []string{"ok"}, Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, poll)
	if err != nil {
		t.Fatal(err)
	}
	// Intervals 10, 20, 40, 40 ms: total at least 100 ms.
	if total := times[4].Sub(times[0]); total < 100*time.Millisecond {
		t.Errorf("4 intervals took %v; backoff not applied", total)
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	err := WaitFor(context.Background(), "three calls", func(context.Context) (bool, error) {
		n++
		return n == 3, nil
	})
	if err != nil || n != 3 {
		t.Fatalf("%v after %d", err, n)
	}
	boom := errors.New("boom")
	err = WaitFor(context.Background(), "failure", func(context.Context) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
}

func TestWaitWithoutFailedStatuses(t *testing.T) {
	poll, _ := statuses("ERROR", "ERROR", "DELETED")
	got, err := WaitForStatus(context.Background(),
		waitSpec(Wait{What: "server x", Target: []string{"DELETED"}, Failed: []string{}}), poll)
	if err != nil || got != "DELETED" {
		t.Fatalf("an empty Failed list must let ERROR pass: %q, %v", got, err)
	}
}

// A wait after a create looks first after FirstLook, then keeps the
// initial interval for Steady before it backs off.
func TestWaitFirstLookAndSteady(t *testing.T) {
	var times []time.Time
	start := time.Now()
	poll := func(context.Context) (Observation, error) {
		times = append(times, time.Now())
		if len(times) == 6 {
			return Observation{Status: "ACTIVE"}, nil
		}
		return Observation{Status: "BUILD"}, nil
	}
	w := Wait{What: "server x", Target: []string{"ACTIVE"}, Initial: 10 * time.Millisecond, Max: time.Second,
		FirstLook: 60 * time.Millisecond, Steady: 200 * time.Millisecond}
	if _, err := WaitForStatus(context.Background(), w, poll); err != nil {
		t.Fatal(err)
	}
	if first := times[0].Sub(start); first < 60*time.Millisecond {
		t.Errorf("first look after %v, want >= 60ms", first)
	}
	// Five steady intervals of 10 ms: well under the 310 ms doubling
	// would take (10+20+40+80+160).
	if total := times[5].Sub(times[0]); total < 50*time.Millisecond || total > 250*time.Millisecond {
		t.Errorf("5 intervals took %v, want about 50ms (steady)", total)
	}
}
