#!/usr/bin/env bash
# Installs what the tests need on a Debian/Ubuntu machine, as root:
#  - the Debian packages the local cloud's VM-like hosts run (MariaDB Galera,
#    HAProxy, sshd...), without letting any of them start as a service, and
#    mmdebstrap + systemd-nspawn for the guest images booting systemd;
#  - when no terraform or tofu is on PATH, the pinned OpenTofu (tools/tofu.sh:
#    built once per machine, cached outside the clone) as bin/tofu, so the
#    tests always have a CLI. With terraform on PATH, tools/test.sh builds
#    the pinned OpenTofu for its second pass while the first pass runs.
# It does nothing when everything is already there, so it is cheap to call
# before every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	mariadb-server mariadb-client galera-4 mariadb-backup rsync haproxy
	# the arbitrator of a pxc_node with role = "arbitrator" (internal/guest/garbd.go)
	galera-arbitrator-4
	openssh-server openssh-client nftables socat iproute2 e2fsprogs util-linux
	# the data volume's filesystem: mkfs.xfs, xfs_growfs (internal/guest)
	xfsprogs
	# rsync SST over TLS (wsrep_sst_rsync runs it through stunnel; issue 14)
	stunnel4
	procps psmisc curl
	# backups to the object store (internal/guest/backup.go)
	restic
	# guest images (internal/localcloud/image) and hosts booting them with
	# systemd (internal/localcloud/host, systemd mode)
	mmdebstrap systemd-container
)
# OpenTofu is also the fallback CLI: Terraform itself is neither in Debian
# nor buildable from the Go module proxy (its go.mod replaces modules with
# directories the module zip leaves out), and the npm package named
# "terraform" is something else. OpenTofu builds from the module proxy; its
# version is pinned in tools/tofu.sh.

log() { echo "install-deps: $*"; }

created_policy=no
cleanup() {
	if [[ $created_policy == yes ]]; then rm -f /usr/sbin/policy-rc.d; fi
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
	log "terraform: $(terraform version 2>/dev/null | head -n1) at $(command -v terraform)"
	# tools/test.sh builds the pinned OpenTofu while the first pass runs.
	if tofu=$(TOFU_CACHED_ONLY=1 tools/tofu.sh); then
		log "tofu: $("$tofu" version 2>/dev/null | grep -m1 "^OpenTofu v") at $tofu"
	else
		log "tofu: the pinned OpenTofu is not built yet; tools/test.sh builds it during the first pass (make tofu builds it now)"
	fi
elif command -v tofu >/dev/null; then
	log "tofu on PATH: $(tofu version 2>/dev/null | grep -m1 "^OpenTofu v") at $(command -v tofu)"
else
	tofu=$(tools/tofu.sh)
	mkdir -p bin
	ln -sfn "$tofu" bin/tofu
	log "no terraform or tofu on PATH: bin/tofu is the pinned OpenTofu, $("$tofu" version 2>/dev/null | grep -m1 "^OpenTofu v")"
fi
