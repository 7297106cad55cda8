package image

import "context"

// Lock takes the machine-wide build lock at path (an flock, waited for
// while ctx lasts), as image builds do; other caches built once per
// machine (package aptrepo) use it too. unlock releases it.
func Lock(ctx context.Context, path string) (unlock func(), err error) { return lock(ctx, path) }
