#!/usr/bin/env bash
# Prints the path of a pinned OpenTofu CLI, building it first when the
# machine has none cached. OpenTofu is built from its module source on the Go
# module proxy: its go.mod has replace lines, so `go install` cannot build it,
# and a release download would leave the module proxy. A cold build takes
# about 14 minutes on 2 cores, so the binary is cached outside the clone,
# keyed by version, where the next run on this machine (any clone) finds it.
#
#   tools/tofu.sh          prints the binary's path (builds it when missing)
#   TOFU_VERSION=vX.Y.Z    another release (>= v1.11: ephemeral resources and
#                          write-only attributes need it)
#   TOFU_CACHED_ONLY=1     print the path only if built; exit 1 otherwise
#   TOFU_CACHE=dir         another cache root (default /var/cache/pxc-provider,
#                          or ~/.cache/pxc-provider when that is not writable)
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail

TOFU_VERSION=${TOFU_VERSION:-v1.12.6}
if [[ -z "${TOFU_CACHE:-}" ]]; then
	TOFU_CACHE=/var/cache/pxc-provider
	if ! mkdir -p "$TOFU_CACHE" 2>/dev/null || [[ ! -w $TOFU_CACHE ]]; then
		TOFU_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/pxc-provider
	fi
fi
bin_dir=$TOFU_CACHE/tofu-$TOFU_VERSION
bin=$bin_dir/tofu

log() { echo "tofu: $*" >&2; }

if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi
if [[ -n ${TOFU_CACHED_ONLY:-} ]]; then
	exit 1 # asked only whether it is there
fi

mkdir -p "$bin_dir"
# Two runs on one machine must not build twice nor see a half-written binary.
exec 9>"$bin_dir/.lock"
flock 9
if [[ -x $bin ]]; then
	echo "$bin"
	exit 0
fi

log "building OpenTofu $TOFU_VERSION from the Go module proxy into $bin_dir (about 14 minutes on 2 cores, once per machine)"
started=$SECONDS
dir=$(go mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [[ -z "$dir" || ! -d "$dir" ]]; then
	log "could not download OpenTofu $TOFU_VERSION from the Go module proxy" >&2
	exit 1
fi
# The module cache is read-only and the build must see the module's own
# go.mod (with its replace lines) as the main module: build in a copy.
src=$(mktemp -d /tmp/pxc-tofu-src.XXXXXX)
trap 'rm -rf "$src"' EXIT
cp -r "$dir/." "$src"
chmod -R u+w "$src"
(cd "$src" && GOFLAGS=-buildvcs=false go build -trimpath \
	-ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
	-o "$bin_dir/tofu.partial" ./cmd/tofu)
mv "$bin_dir/tofu.partial" "$bin"
log "built $("$bin" version 2>/dev/null | grep -m1 "^OpenTofu v") in $((SECONDS - started))s"
echo "$bin"
