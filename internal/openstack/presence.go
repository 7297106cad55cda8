package openstack

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// sharedLookFresh is how old a shared list may be and still answer a wait:
// waits started together (a cluster's servers deleted in parallel) poll
// within milliseconds of each other.
const sharedLookFresh = 500 * time.Millisecond

// presence is the last list of one kind of object (servers, volumes), id
// to status, shared by the waits that poll at about the same time: N
// parallel deletes cost one list per round instead of N GETs.
type presence struct {
	mu     sync.Mutex
	at     time.Time
	status map[string]string
}

// look returns the status of id from a list at most sharedLookFresh old,
// listing anew when there is none; an id missing from it is ErrNotFound.
func (p *presence) look(ctx context.Context, kind, id string, list func(context.Context) (map[string]string, error)) (Observation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status == nil || time.Since(p.at) > sharedLookFresh {
		st, err := list(ctx)
		if err != nil {
			return Observation{}, err
		}
		p.status, p.at = st, time.Now()
	}
	s, ok := p.status[id]
	if !ok {
		return Observation{}, fmt.Errorf("%s %s: %w", kind, id, ErrNotFound)
	}
	return Observation{Status: s}, nil
}
