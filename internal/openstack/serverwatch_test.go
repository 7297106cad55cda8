package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeNovaServer is one server of fakeNova: its status in each round of
// lists (the last one repeats); "" means deleted.
type fakeNovaServer struct {
	id, name string
	statuses []string
	fault    string // Nova's fault.message while ERROR
}

// fakeNova answers server creates, GETs by id and detail lists filtered by
// name as Nova does; the k-th poll (list or GET) shows each server's
// status k.
type fakeNova struct {
	t       *testing.T
	servers map[string]*fakeNovaServer
	polls   atomic.Int32
	lists   atomic.Int32
	gets    atomic.Int32
	filters sync.Map // name filters seen
	// listHook, if set, runs at the start of each list with its request.
	listHook func(r *http.Request)
}

func newFakeNova(t *testing.T, f *fakeCloud, servers ...*fakeNovaServer) *fakeNova {
	n := &fakeNova{t: t, servers: map[string]*fakeNovaServer{}}
	for _, s := range servers {
		n.servers[s.id] = s
	}
	byName := map[string]string{}
	for _, s := range servers {
		byName[s.name] = s.id
	}
	f.Mux.HandleFunc("POST /compute/v2.1/servers", func(w http.ResponseWriter, r *http.Request) {
		name, _ := decode(t, r)["server"].(map[string]any)["name"].(string)
		writeJSON(w, 202, map[string]any{"server": map[string]any{"id": byName[name]}})
	})
	f.Mux.HandleFunc("GET /compute/v2.1/servers/detail", func(w http.ResponseWriter, r *http.Request) {
		if n.listHook != nil {
			n.listHook(r)
		}
		n.lists.Add(1)
		round := int(n.polls.Add(1))
		filter := r.URL.Query().Get("name")
		n.filters.Store(filter, true)
		re, err := regexp.Compile(filter)
		if err != nil {
			writeJSON(w, 400, map[string]any{"badRequest": map[string]any{"code": 400, "message": "Invalid input for field/attribute name"}})
			return
		}
		out := []any{}
		for _, s := range n.servers {
			if body := s.body(round); body != nil && re.MatchString(s.name) {
				out = append(out, body)
			}
		}
		writeJSON(w, 200, map[string]any{"servers": out})
	})
	f.Mux.HandleFunc("GET /compute/v2.1/servers/{id}", func(w http.ResponseWriter, r *http.Request) {
		n.gets.Add(1)
		round := int(n.polls.Add(1))
		s, ok := n.servers[r.PathValue("id")]
		body := map[string]any(nil)
		if ok {
			body = s.body(round)
		}
		if body == nil {
			writeJSON(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Instance could not be found."}})
			return
		}
		writeJSON(w, 200, map[string]any{"server": body})
	})
	return n
}

func (s *fakeNovaServer) body(round int) map[string]any {
	st := s.statuses[min(max(round, 1), len(s.statuses))-1]
	if st == "" {
		return nil
	}
	b := map[string]any{"id": s.id, "name": s.name, "status": st}
	if st == "ERROR" {
		b["fault"] = map[string]any{"code": 500, "message": s.fault, "created": "2026-12-03T09:00:00Z"}
	}
	return b
}

// createAll creates the fake's servers through c, so c knows their names.
func (n *fakeNova) createAll(ctx context.Context, c *Client) {
	for _, s := range n.servers {
		if _, err := c.CreateServer(ctx, ServerCreate{Name: s.name, PortID: "p-" + s.id}); err != nil {
			n.t.Fatal(err)
		}
	}
}

// waitAll waits for every server at once and returns each wait's error.
func (n *fakeNova) waitAll(ctx func(id string) context.Context, c *Client) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for id := range n.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.WaitServerActive(ctx(id), id)
			if err == nil && (s.ID != id || s.Status != "ACTIVE") {
				err = fmt.Errorf("wait returned %+v", s)
			}
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errs
}

// createScheduleClient polls on the schedule of real creates (first look
// after 500 ms, then every 250 ms): the waits start well within the first
// look of each other, as a cluster's do.
func createScheduleClient(t *testing.T, f *fakeCloud) *Client {
	t.Helper()
	c, err := NewClient(f.config(), WithRetryBaseDelay(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func threeServers(statuses ...[]string) []*fakeNovaServer {
	out := make([]*fakeNovaServer, len(statuses))
	for i, st := range statuses {
		out[i] = &fakeNovaServer{id: fmt.Sprintf("srv-%d", i+1), name: fmt.Sprintf("db.%d", i+1), statuses: st}
	}
	return out
}

// Three servers booting together cost one filtered list per round, not
// one GET each.
func TestWaitServerActiveSharesOneListPerRound(t *testing.T) {
	f := newFakeCloud(t)
	building := []string{"BUILD", "BUILD", "ACTIVE"}
	n := newFakeNova(t, f, threeServers(building, building, building)...)
	c := createScheduleClient(t, f)
	ctx := fastCtx(t)
	n.createAll(ctx, c)
	for id, err := range n.waitAll(func(string) context.Context { return ctx }, c) {
		if err != nil {
			t.Errorf("wait for %s: %v", id, err)
		}
	}
	if lists, gets := n.lists.Load(), n.gets.Load(); lists != 3 || gets != 0 {
		t.Errorf("3 waits over 3 rounds made %d lists and %d GETs by id; want 3 lists, no GET", lists, gets)
	}
	if _, ok := n.filters.Load(`^(db\.1|db\.2|db\.3)$`); !ok {
		var seen []any
		n.filters.Range(func(k, _ any) bool { seen = append(seen, k); return true })
		t.Errorf("name filters %v, want the exact names, quoted", seen)
	}
}

// A server that goes to ERROR fails its own wait with Nova's fault; the
// others go on to ACTIVE.
func TestWaitServerActiveSharedErrorFailsOnlyItsWait(t *testing.T) {
	f := newFakeCloud(t)
	servers := threeServers([]string{"BUILD", "ACTIVE"}, []string{"BUILD", "ERROR"}, []string{"BUILD", "ACTIVE"})
	servers[1].fault = "No valid host was found. There are not enough hosts available."
	n := newFakeNova(t, f, servers...)
	c := createScheduleClient(t, f)
	ctx := fastCtx(t)
	n.createAll(ctx, c)
	errs := n.waitAll(func(string) context.Context { return ctx }, c)
	var se *StatusError
	if err := errs["srv-2"]; !errors.As(err, &se) || se.Status != "ERROR" || se.Fault != servers[1].fault {
		t.Errorf("wait for the failed server: %v; want a StatusError ERROR with Nova's fault", err)
	} else {
		mustContain(t, err.Error(), "server srv-2", "No valid host was found")
	}
	for _, id := range []string{"srv-1", "srv-3"} {
		if errs[id] != nil {
			t.Errorf("wait for %s: %v", id, errs[id])
		}
	}
	if gets := n.gets.Load(); gets != 0 {
		t.Errorf("%d GETs by id; the list carries the fault", gets)
	}
}

// A server missing from the list is looked up by id, and its wait reports
// it gone.
func TestWaitServerActiveSharedDeletedServerIsGone(t *testing.T) {
	f := newFakeCloud(t)
	n := newFakeNova(t, f, threeServers([]string{"BUILD", "ACTIVE"}, []string{"BUILD", ""}, []string{"BUILD", "ACTIVE"})...)
	c := createScheduleClient(t, f)
	ctx := fastCtx(t)
	n.createAll(ctx, c)
	errs := n.waitAll(func(string) context.Context { return ctx }, c)
	if err := errs["srv-2"]; !IsNotFound(err) {
		t.Errorf("wait for the deleted server: %v; want not found", err)
	} else {
		mustContain(t, err.Error(), "server srv-2", "disappeared")
	}
	for _, id := range []string{"srv-1", "srv-3"} {
		if errs[id] != nil {
			t.Errorf("wait for %s: %v", id, errs[id])
		}
	}
	if gets := n.gets.Load(); gets != 1 {
		t.Errorf("%d GETs by id, want 1 (the server missing from the list)", gets)
	}
}

// A wait whose context ends stops at once; the others still reach ACTIVE,
// even when the canceled wait was making the round's list.
func TestWaitServerActiveSharedCancel(t *testing.T) {
	f := newFakeCloud(t)
	building := []string{"BUILD", "BUILD", "ACTIVE"}
	n := newFakeNova(t, f, threeServers(building, building, building)...)
	c := createScheduleClient(t, f)
	ctx := fastCtx(t)
	n.createAll(ctx, c)
	canceled, cancel := context.WithCancel(ctx)
	// The first list hangs until its caller gives up: the canceled wait
	// made it, or it ends with the test.
	var first atomic.Bool
	n.listHook = func(r *http.Request) {
		if first.CompareAndSwap(false, true) {
			cancel()
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	errs := n.waitAll(func(id string) context.Context {
		if id == "srv-1" {
			return canceled
		}
		return ctx
	}, c)
	if err := errs["srv-1"]; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled wait: %v; want context.Canceled", err)
	}
	for _, id := range []string{"srv-2", "srv-3"} {
		if errs[id] != nil {
			t.Errorf("wait for %s: %v", id, errs[id])
		}
	}
}

// A lone wait, or one for a server this client did not create, reads the
// server by id.
func TestWaitServerActiveAloneGetsByID(t *testing.T) {
	f := newFakeCloud(t)
	n := newFakeNova(t, f, &fakeNovaServer{id: "srv-1", name: "db-1", statuses: []string{"ACTIVE"}})
	c := createScheduleClient(t, f)
	ctx := fastCtx(t)
	n.createAll(ctx, c)
	if _, err := c.WaitServerActive(ctx, "srv-1"); err != nil {
		t.Fatal(err)
	}
	if lists, gets := n.lists.Load(), n.gets.Load(); lists != 0 || gets != 1 {
		t.Errorf("a lone wait made %d lists and %d GETs, want one GET", lists, gets)
	}
}

// Waits registered together share one list however they interleave: the
// first to look lists for all, the others take its answer or join it.
func TestServerWatchLookServesEveryWait(t *testing.T) {
	var sw serverWatch
	ids := []string{"a", "b", "c", "d"}
	var waits []*serverWait
	for _, id := range ids {
		sw.created(id, "n-"+id)
		waits = append(waits, sw.join(id))
	}
	var lists, gets atomic.Int32
	list := func(_ context.Context, names []string) ([]Server, error) {
		lists.Add(1)
		if len(names) != len(ids) {
			t.Errorf("listed names %v, want all %d waits' servers", names, len(ids))
		}
		time.Sleep(10 * time.Millisecond)
		return []Server{{ID: "a", Status: "ACTIVE"}, {ID: "b", Status: "BUILD"}, {ID: "c", Status: "ERROR", Fault: "boom"}}, nil
	}
	get := func(_ context.Context, id string) (Server, error) {
		gets.Add(1)
		return Server{}, fmt.Errorf("server %s: %w", id, ErrNotFound)
	}
	var wg sync.WaitGroup
	for _, w := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := sw.look(context.Background(), w, list, get)
			switch w.id {
			case "d":
				if !IsNotFound(err) {
					t.Errorf("look(d) = %+v, %v; want not found", s, err)
				}
			default:
				if err != nil || s.ID != w.id {
					t.Errorf("look(%s) = %+v, %v", w.id, s, err)
				}
				if w.id == "c" && s.Fault != "boom" {
					t.Errorf("look(c) lost the fault: %+v", s)
				}
			}
		}()
	}
	wg.Wait()
	if lists.Load() != 1 || gets.Load() != 1 {
		t.Errorf("%d lists and %d GETs; want 1 list, 1 GET (d, missing from it)", lists.Load(), gets.Load())
	}
	for i, w := range waits {
		select {
		case <-w.wake:
			t.Errorf("wait %s keeps a wake token for a look it already took", ids[i])
		default:
		}
	}
}

// When the wait making a list gives up, a wait that joined it makes its own.
func TestServerWatchLeaderCanceled(t *testing.T) {
	var sw serverWatch
	sw.created("a", "n-a")
	sw.created("b", "n-b")
	a, b := sw.join("a"), sw.join("b")
	started := make(chan struct{})
	var lists atomic.Int32
	list := func(ctx context.Context, _ []string) ([]Server, error) {
		if lists.Add(1) == 1 {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return []Server{{ID: "a", Status: "BUILD"}, {ID: "b", Status: "ACTIVE"}}, nil
	}
	get := func(context.Context, string) (Server, error) { t.Error("unexpected GET"); return Server{}, nil }
	actx, cancel := context.WithCancel(context.Background())
	aErr := make(chan error, 1)
	go func() {
		_, err := sw.look(actx, a, list, get)
		aErr <- err
	}()
	<-started
	bDone := make(chan Server, 1)
	go func() {
		s, err := sw.look(context.Background(), b, list, get)
		if err != nil {
			t.Errorf("look(b): %v", err)
		}
		bDone <- s
	}()
	time.Sleep(20 * time.Millisecond) // b joins the hanging list
	cancel()
	if err := <-aErr; !errors.Is(err, context.Canceled) {
		t.Errorf("look(a) = %v, want context.Canceled", err)
	}
	if s := <-bDone; s.Status != "ACTIVE" {
		t.Errorf("look(b) = %+v", s)
	}
	if n := lists.Load(); n != 2 {
		t.Errorf("%d lists, want 2 (the canceled one, then b's)", n)
	}
	sw.leave(a)
	sw.leave(b)
	if len(sw.waits) != 0 {
		t.Errorf("waits left registered: %d", len(sw.waits))
	}
}
