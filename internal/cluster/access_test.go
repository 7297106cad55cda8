package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingLogger keeps the progress events a wait logs.
type recordingLogger struct {
	mu     sync.Mutex
	events []Event
}

func (l *recordingLogger) Progress(_ context.Context, e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *recordingLogger) Warn(context.Context, string) {}

func (l *recordingLogger) of(phase string) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, e := range l.events {
		if e.Phase == phase {
			out = append(out, e)
		}
	}
	return out
}

func quickReports(t *testing.T) {
	old := waitReportEvery
	waitReportEvery = 100 * time.Millisecond
	t.Cleanup(func() { waitReportEvery = old })
}

// A console that never shows the fingerprints ends the host-key phase
// within ssh.host_key_timeout, not timeouts.create, with what to check,
// and the wait reports itself while it lasts (issue 17 item 1).
func TestHostKeyWaitIsBoundedAndTalks(t *testing.T) {
	quickReports(t)
	r := newRig()
	logs := &recordingLogger{}
	r.m = newManager(r.cloud, r.guests, logs)
	r.cloud.consoleSilent = true
	spec := testSpec()
	spec.SSH.HostKeyTimeout = 700 * time.Millisecond
	start := time.Now()
	_, err := r.m.Create(testContext(t), spec)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the host-key wait took %s with a 700ms bound", took)
	}
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseHostKeys || !strings.HasPrefix(pe.Node, "db-") {
		t.Fatalf("Create err = %v, want a host keys PhaseError naming the node", err)
	}
	for _, want := range []string{"ssh.host_key_timeout", "cloud-init", "fingerprints", `ssh.host_key_check = "known_hosts"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	events := logs.of(PhaseHostKeys)
	if len(events) < 3 {
		t.Fatalf("%d progress reports while waiting, want one every 100ms", len(events))
	}
	e := events[0]
	if !strings.HasPrefix(e.Message, e.Node+": no host key fingerprints on the console yet") || e.Duration <= 0 {
		t.Errorf("progress = %+v", e)
	}
}

// sshd never answering ends the SSH phase within ssh.connect_timeout with
// what to check: security group, route, the image's user.
func TestSSHWaitIsBoundedAndTalks(t *testing.T) {
	quickReports(t)
	r := newRig()
	logs := &recordingLogger{}
	r.m = newManager(r.cloud, r.guests, logs)
	r.guests.unreachable = true
	spec := testSpec()
	spec.SSH.ConnectTimeout = 700 * time.Millisecond
	start := time.Now()
	_, err := r.m.Create(testContext(t), spec)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the SSH wait took %s with a 700ms bound", took)
	}
	var pe *PhaseError
	if !errors.As(err, &pe) || pe.Phase != PhaseSSH || !strings.HasPrefix(pe.Node, "db-") {
		t.Fatalf("Create err = %v, want an SSH PhaseError naming the node", err)
	}
	for _, want := range []string{"ssh.connect_timeout", "security group", "route", "ssh.user"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	events := logs.of(PhaseSSH)
	if len(events) < 3 || !strings.Contains(events[0].Message, "SSH to ") || !strings.Contains(events[0].Message, "not answering yet") {
		t.Errorf("progress reports = %+v", events)
	}
}

// The create's own deadline still ends a wait with a bound beyond it, and
// says so rather than blaming the bound.
func TestHostKeyWaitHonoursTheCreateDeadline(t *testing.T) {
	r := newRig()
	r.cloud.consoleSilent = true
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := r.m.Create(ctx, testSpec())
	if err == nil || strings.Contains(err.Error(), "ssh.host_key_timeout") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Create err = %v, want the create deadline", err)
	}
}
