// Package aptrepo is the local cloud's package source: a partial Debian
// mirror that servers on the cloud's bridge install packages from, since
// they have no route to Debian's archive.
//
// The mirror is built once per machine and cached outside the clone, in
// /var/cache/pxc-provider/apt-repo-<hash> (PXC_APT_REPO_CACHE overrides the
// root). The machine's apt resolves the packages install_packages needs
// (Packages) against the dpkg status of the plain debian-12 image, so the
// mirror holds exactly the .debs that image lacks; they are fetched from
// Debian's archive and checked against the hashes apt verified. The
// mirror's dists/ are Debian's own InRelease (signed by Debian) and the
// index files it names, byte for byte, so guests verify everything with
// the debian-archive-keyring their image already has: no [trusted=yes] and
// no key of our own to distribute. A guest asking for a package outside the
// closure gets 404, as from an incomplete mirror.
//
// Server serves the mirror over HTTP on a listener the cloud opens on its
// bridge address, builds it at the first request, and records every request, so tests can prove where a
// guest's packages came from. VendorData is the cloud-config a cloud hands
// its guests (cloud-init vendor-data) to make the mirror their apt source.
package aptrepo
