package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// eachNode runs f for every node in parallel; the first failure wins and
// names its node.
func eachNode(ctx context.Context, nodes []Node, phase string, f func(ctx context.Context, n *Node) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range nodes {
		n := &nodes[i]
		wg.Go(func() {
			if err := f(ctx, n); err != nil {
				once.Do(func() {
					var pe *PhaseError
					if errors.As(err, &pe) {
						first = pe
					} else {
						first = &PhaseError{Phase: phase, Node: n.Name, Err: err}
					}
					cancel()
				})
			}
		})
	}
	wg.Wait()
	return first
}

// parallel runs f on every item at once and joins the errors.
func parallel[T any](items []T, f func(T) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, it := range items {
		wg.Go(func() {
			if err := f(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d failed: %w", len(errs), len(items), errors.Join(errs...))
	}
	return nil
}
