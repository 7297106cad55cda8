package openstack

import "sync"

// lookups remembers what flavor, image and network references resolved to,
// so one run (one provider process, one client) asks the cloud once per
// reference however many plans and creates name it. Failures are not
// remembered: a fixed typo or a newly uploaded image is found next time.
type lookups struct {
	mu    sync.Mutex
	found map[string]any
}

func remember[T any](c *Client, kind, ref string, resolve func() (T, error)) (T, error) {
	key := kind + "\x00" + ref
	c.lookups.mu.Lock()
	if v, ok := c.lookups.found[key]; ok {
		c.lookups.mu.Unlock()
		return v.(T), nil
	}
	c.lookups.mu.Unlock()
	v, err := resolve()
	if err != nil {
		return v, err
	}
	c.lookups.mu.Lock()
	if c.lookups.found == nil {
		c.lookups.found = map[string]any{}
	}
	c.lookups.found[key] = v
	c.lookups.mu.Unlock()
	return v, nil
}
