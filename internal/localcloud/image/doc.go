// Package image builds and caches the local cloud's guest images: Debian 12
// root filesystems made by mmdebstrap from Debian's archive, booted by hosts
// in systemd mode (package host) as the read-only lower layer of their own
// overlay.
//
// An image is built once per machine and cached outside the clone, in
// /var/cache/pxc-provider/images/<name>-<recipe hash> (PXC_IMAGE_CACHE
// overrides the root). The hash covers everything that decides the image's
// content (suite, variant, packages, customisation), so changing the package
// list builds a new image instead of reusing a stale one (older builds of
// the same image are removed once no host's overlay uses them). A file lock makes
// concurrent test processes build an image once: the others wait and reuse
// it. Building needs root, mmdebstrap and network access to the mirror.
package image
