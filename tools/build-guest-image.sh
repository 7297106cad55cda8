#!/usr/bin/env bash
# Builds (once per machine; later runs reuse the cache) the local cloud's
# guest images booted by hosts in systemd mode. Needs root, mmdebstrap and
# the Debian archive. Arguments: image names (default: all).
#   tools/build-guest-image.sh debian-12-mariadb-galera
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./internal/localcloud/image/buildimages "$@"
