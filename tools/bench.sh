#!/usr/bin/env bash
# bench.sh — `make bench`: starts a local cloud of its own, runs
# internal/bench (one terraform apply of the quickstart with its phase
# timings and API requests, a rolling restart of its 3 nodes (a static
# parameter) and a planned writer move with their write gaps, the load
# balancer's failover window on 3 and 5 nodes (and on 3 with TLS disabled
# and required side by side), and the raw lower bound:
# Galera by hand on fresh hosts), prints the numbers and stops the cloud.
set -euo pipefail
cd "$(dirname "$0")/.."
TF_CLI=${TF_CLI:-$(command -v terraform || command -v tofu || true)}
[[ -x "$TF_CLI" ]] || { echo "bench: no terraform CLI; run tools/install-deps.sh" >&2; exit 1; }
export TF_CLI
export LOCALCLOUD_DIR=${LOCALCLOUD_DIR:-$(mktemp -d /tmp/pxc-bench-cloud.XXXXXX)}
trap 'tools/localcloud.sh down >/dev/null 2>&1 || true; rm -rf "$LOCALCLOUD_DIR"' EXIT
tools/localcloud.sh up
set -a
# shellcheck disable=SC1091
source "$LOCALCLOUD_DIR/env"
set +a
PXC_BENCH=1 go test -count=1 -timeout 40m -run '^TestBench(Backup|FailoverTLS)?$' -v ./internal/bench
