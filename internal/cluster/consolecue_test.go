package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lateConsole is a Cloud whose consoles show their fingerprint blocks
// from ready on, as cloud-init's last stage prints them seconds after the
// servers went ACTIVE; it counts the reads.
type lateConsole struct {
	Cloud
	ready time.Time
	// later, by server id, replaces ready for that server.
	later map[string]time.Time
	reads atomic.Int32

	mu      sync.Mutex
	readers []string // server ids, in the order of their reads
}

func (l *lateConsole) reader(i int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < len(l.readers) {
		return l.readers[i]
	}
	return ""
}

func (l *lateConsole) ConsoleOutput(ctx context.Context, id string, _ int) (string, error) {
	l.reads.Add(1)
	l.mu.Lock()
	l.readers = append(l.readers, id)
	l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ready := l.ready
	if t, ok := l.later[id]; ok {
		ready = t
	}
	if time.Now().Before(ready) {
		return "[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\n", nil
	}
	return fmt.Sprintf(`<14>Dec  3 06:37:27 cloud-init: #############################################################
<14>Dec  3 06:37:27 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Dec  3 06:37:27 cloud-init: 256 SHA256:%s root@%s (ED25519)
<14>Dec  3 06:37:27 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
`, "fp-of-"+id, id), nil
}

// waitAllConsoles runs the console waits of servers booted together, one
// goroutine each as the create's nodes do, and returns their errors.
func waitAllConsoles(m *Manager, ctxOf func(i int) context.Context, n int) []error {
	cue := newConsoleCue()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := &Node{Index: i + 1, Name: fmt.Sprintf("db-%d", i+1), ServerID: fmt.Sprintf("srv-%d", i+1)}
			fps, err := m.waitConsoleFingerprints(ctxOf(i), node, 10*time.Second, cue)
			if err == nil && (len(fps) != 1 || fps[0] != "SHA256:fp-of-"+node.ServerID) {
				err = fmt.Errorf("fingerprints %v of %s", fps, node.ServerID)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errs
}

// Three servers whose fingerprints appear 1.5 s after ACTIVE: one reads on
// the schedule (at once, +1 s, +3 s), the others at once and when it saw
// its block: 7 reads, where three schedules cost 9.
func TestConsoleWaitsOfServersBootedTogetherReadAsOne(t *testing.T) {
	cloud := &lateConsole{Cloud: newFakeCloud(&callLog{}), ready: time.Now().Add(1500 * time.Millisecond)}
	m := newManager(cloud, nil, nil)
	ctx := testContext(t)
	for i, err := range waitAllConsoles(m, func(int) context.Context { return ctx }, 3) {
		if err != nil {
			t.Errorf("server %d: %v", i+1, err)
		}
	}
	if n := cloud.reads.Load(); n != 7 {
		t.Errorf("%d console reads, want 7", n)
	}
}

// Fingerprints already there at ACTIVE (an init-less host): one read each.
func TestConsoleWaitReadsOnceWhenShown(t *testing.T) {
	cloud := &lateConsole{Cloud: newFakeCloud(&callLog{}), ready: time.Now()}
	m := newManager(cloud, nil, nil)
	ctx := testContext(t)
	start := time.Now()
	for i, err := range waitAllConsoles(m, func(int) context.Context { return ctx }, 3) {
		if err != nil {
			t.Errorf("server %d: %v", i+1, err)
		}
	}
	if n := cloud.reads.Load(); n != 3 || time.Since(start) > 500*time.Millisecond {
		t.Errorf("%d console reads in %s, want 3 at once", n, time.Since(start))
	}
}

// The wait reading on the schedule gives up (its node failed): another
// takes over, and the others still find their fingerprints.
func TestConsoleCueHandsOverWhenTheProberGivesUp(t *testing.T) {
	cloud := &lateConsole{Cloud: newFakeCloud(&callLog{}), ready: time.Now().Add(1500 * time.Millisecond)}
	m := newManager(cloud, nil, nil)
	ctx := testContext(t)
	ctxs := make([]context.Context, 3)
	cancels := make([]context.CancelFunc, 3)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(ctx)
		defer cancels[i]()
	}
	// The 4th read is the prober's first on the schedule (+1 s): cancel
	// that wait then, before the block shows (+1.5 s).
	prober := make(chan int, 1)
	go func() {
		for cloud.reader(3) == "" {
			time.Sleep(5 * time.Millisecond)
		}
		var i int
		fmt.Sscanf(cloud.reader(3), "srv-%d", &i)
		cancels[i-1]()
		prober <- i - 1
	}()
	errs := waitAllConsoles(m, func(i int) context.Context { return ctxs[i] }, 3)
	p := <-prober
	for i, err := range errs {
		switch {
		case i == p && !errors.Is(err, context.Canceled):
			t.Errorf("canceled prober (server %d): %v", i+1, err)
		case i != p && err != nil:
			t.Errorf("server %d: %v", i+1, err)
		}
	}
}

// One server prints its block later than the two others: the wait that
// takes over the schedule, a second and more in, reads on the steady
// beat (every 500 ms), not after a first second of its own.
func TestConsoleCueTakeoverReadsOnTheBeat(t *testing.T) {
	start := time.Now()
	cloud := &lateConsole{Cloud: newFakeCloud(&callLog{}), ready: start.Add(1200 * time.Millisecond),
		later: map[string]time.Time{"srv-3": start.Add(1700 * time.Millisecond)}}
	m := newManager(cloud, nil, nil)
	ctx := testContext(t)
	for i, err := range waitAllConsoles(m, func(int) context.Context { return ctx }, 3) {
		if err != nil {
			t.Errorf("server %d: %v", i+1, err)
		}
	}
	// The prober sees its block at +1.5 s; srv-3 then at +2 s (a first
	// second of its own: +2.5 s).
	if took := time.Since(start); took > 2300*time.Millisecond {
		t.Errorf("the last block was read after %s, want about 2 s", took.Round(10*time.Millisecond))
	}
}
