package swift

import (
	"context"
	"time"
)

// runExpirer removes expired objects from their containers every
// ExpirerInterval, as swift-object-expirer does.
func (s *Service) runExpirer(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.deps.ExpirerInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.expire()
		}
	}
}

// expire removes every object whose X-Delete-At has passed.
func (s *Service) expire() {
	now := s.deps.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		for _, c := range a.containers {
			for _, o := range c.objects {
				if o.expired(now) {
					if err := s.removeLocked(c, o); err != nil {
						s.logf("swift: expire object %s/%s: %v", c.rec.Name, o.Name, err)
					}
				}
			}
		}
	}
}
