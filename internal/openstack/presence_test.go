package openstack

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// Waits that poll together share one list; a missing id is gone.
func TestPresenceSharesOneListPerRound(t *testing.T) {
	var p presence
	var lists atomic.Int32
	list := func(context.Context) (map[string]string, error) {
		lists.Add(1)
		return map[string]string{"a": "ACTIVE", "b": "ACTIVE"}, nil
	}
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs, err := p.look(context.Background(), "server", id, list)
			switch {
			case id == "c" && !IsNotFound(err):
				t.Errorf("look(c) = %+v, %v; want not found (gone)", obs, err)
			case id != "c" && (err != nil || obs.Status != "ACTIVE"):
				t.Errorf("look(%s) = %+v, %v; want ACTIVE", id, obs, err)
			}
		}()
	}
	wg.Wait()
	if n := lists.Load(); n != 1 {
		t.Errorf("three waits polling together listed %d times, want 1", n)
	}
}
