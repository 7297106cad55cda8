#!/usr/bin/env bash
# Installs what the tests need on a Debian/Ubuntu machine, as root:
#  - the Debian packages the local cloud's VM-like hosts run (MariaDB Galera,
#    HAProxy, sshd...), without letting any of them start as a service;
#  - a Terraform CLI when none is on PATH.
# It does nothing when everything is already there, so it is cheap to call
# before every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	mariadb-server mariadb-client galera-4 mariadb-backup rsync haproxy
	openssh-server openssh-client nftables socat iproute2 e2fsprogs util-linux
	procps psmisc curl restic
)
# OpenTofu is the fallback CLI: Terraform itself is neither in Debian nor
# buildable from the Go module proxy (its go.mod replaces modules with
# directories the module zip leaves out), and the npm package named
# "terraform" is something else. OpenTofu builds from the module proxy.
TOFU_VERSION=v1.10.10

log() { echo "install-deps: $*"; }

created_policy=no
tmp_src=
cleanup() {
	if [[ $created_policy == yes ]]; then rm -f /usr/sbin/policy-rc.d; fi
	if [[ -n $tmp_src ]]; then rm -rf "$tmp_src"; fi
}
trap cleanup EXIT

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		log "missing packages (${missing[*]}); run as root to install them" >&2
		exit 1
	fi
	log "installing ${missing[*]}"
	# Packages must not start their services here: the tests start their own
	# daemons inside network namespaces.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created_policy=yes
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "Debian packages present"
fi

if command -v terraform >/dev/null; then
	log "terraform: $(terraform version | head -n1) at $(command -v terraform)"
elif command -v tofu >/dev/null; then
	log "tofu: $(tofu version | head -n1) at $(command -v tofu)"
elif [[ -x bin/tofu ]]; then
	log "tofu: $(bin/tofu version | head -n1) at bin/tofu"
else
	log "no terraform or tofu on PATH: building OpenTofu $TOFU_VERSION from the Go module proxy (about 15 minutes on 2 cores)"
	dir=$(go mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	if [[ -z "$dir" || ! -d "$dir" ]]; then
		log "could not download OpenTofu $TOFU_VERSION from the Go module proxy; install terraform or tofu on PATH" >&2
		exit 1
	fi
	tmp_src=$(mktemp -d)
	cp -r "$dir/." "$tmp_src"
	chmod -R u+w "$tmp_src"
	mkdir -p bin
	(cd "$tmp_src" && go build -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$OLDPWD/bin/tofu" ./cmd/tofu)
	log "tofu: $(bin/tofu version | head -n1) at bin/tofu"
fi
