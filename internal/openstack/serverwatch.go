package openstack

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// serverWatch lets the waits of one client for its new servers share their
// polls. A cluster's servers are created and waited for in parallel, one
// goroutine each; instead of one GET /servers/{id} per server and round,
// the wait that is due first lists the servers of every wait in one
// GET /servers/detail filtered by their names (Nova's name filter is a
// regular expression) and hands each wait its server, which wakes that wait
// so the next round starts in step. Nova's detail list carries the same
// status and fault as a GET of one server; a server missing from it is
// looked up by id before its wait calls it gone. A lone wait keeps the GET
// by id: one server's body is less to send than a list.
type serverWatch struct {
	mu sync.Mutex
	// names are the names of the servers this client created, by id: the
	// list filter needs them and a wait is given only the id.
	names map[string]string
	waits map[*serverWait]bool // registered, not yet left
	// round is closed when the list in flight ends; nil when none is.
	round chan struct{}
}

// serverWait is one wait for a server, registered in the watch.
type serverWait struct {
	id, name string
	// wake carries one token when a list made by another wait has looked
	// at this server (got is set).
	wake chan struct{}
	got  *serverSeen
}

// serverSeen is what a shared list said about one server.
type serverSeen struct {
	server Server
	listed bool // false: the server was not in the list
}

// created records the name of a server this client made.
func (sw *serverWatch) created(id, name string) {
	if id == "" || name == "" {
		return
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.names == nil {
		sw.names = map[string]string{}
	}
	sw.names[id] = name
}

// join registers a wait for server id; nil when the server's name is not
// known (not created by this client), and the wait then polls on its own.
func (sw *serverWatch) join(id string) *serverWait {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	name, ok := sw.names[id]
	if !ok {
		return nil
	}
	if sw.waits == nil {
		sw.waits = map[*serverWait]bool{}
	}
	w := &serverWait{id: id, name: name, wake: make(chan struct{}, 1)}
	sw.waits[w] = true
	return w
}

// leave ends w's registration. The name stays: a later wait for the same
// server (a retried step) shares polls too.
func (sw *serverWatch) leave(w *serverWait) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	delete(sw.waits, w)
}

// listFunc lists the servers with the given names.
type listFunc func(ctx context.Context, names []string) ([]Server, error)

// getFunc reads one server; IsNotFound(err) when it does not exist.
type getFunc func(ctx context.Context, id string) (Server, error)

// look returns w's server: from a list another wait made since w's last
// look, else from a list w makes for every registered wait (or joins while
// one is in flight), else, when w waits alone, from a GET by id.
func (sw *serverWatch) look(ctx context.Context, w *serverWait, list listFunc, get getFunc) (Server, error) {
	for {
		sw.mu.Lock()
		if seen := w.got; seen != nil {
			w.got = nil
			select {
			case <-w.wake: // the token for this look, if not yet taken
			default:
			}
			sw.mu.Unlock()
			if !seen.listed {
				// Gone, or renamed meanwhile: only a GET tells.
				return get(ctx, w.id)
			}
			return seen.server, nil
		}
		if round := sw.round; round != nil {
			sw.mu.Unlock()
			select {
			case <-ctx.Done():
				return Server{}, ctx.Err()
			case <-round:
			}
			continue // served by it, or (made before w joined, or failed) make one
		}
		members := make([]*serverWait, 0, len(sw.waits))
		for m := range sw.waits {
			members = append(members, m)
		}
		if len(members) <= 1 {
			sw.mu.Unlock()
			return get(ctx, w.id)
		}
		round := make(chan struct{})
		sw.round = round
		sw.mu.Unlock()

		all, err := list(ctx, namesOf(members))

		sw.mu.Lock()
		sw.round = nil
		close(round)
		if err != nil {
			// The others are not told: they poll for themselves when due
			// (this error may be only this wait's context ending).
			sw.mu.Unlock()
			return Server{}, err
		}
		byID := make(map[string]Server, len(all))
		for _, s := range all {
			byID[s.ID] = s
		}
		for _, m := range members {
			if !sw.waits[m] {
				continue // left meanwhile
			}
			s, ok := byID[m.id]
			m.got = &serverSeen{server: s, listed: ok}
			if m != w {
				select {
				case m.wake <- struct{}{}:
				default:
				}
			}
		}
		sw.mu.Unlock()
	}
}

// namesOf returns the distinct names of the waits' servers, sorted.
func namesOf(waits []*serverWait) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range waits {
		if !seen[w.name] {
			seen[w.name] = true
			out = append(out, w.name)
		}
	}
	sort.Strings(out)
	return out
}

// exactNames is a Nova name filter (a regular expression) matching exactly
// the given names.
func exactNames(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexpQuote(n)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}
