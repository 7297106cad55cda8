#!/usr/bin/env bash
# Runs every test of the project (or the packages given as arguments): starts the local cloud, runs `go test ./...`
# with acceptance tests enabled under the real Terraform CLI, and stops the
# local cloud again, also when a test fails or the run is interrupted.
#
# Contract with tools/localcloud.sh (owned by the local cloud):
#   tools/localcloud.sh up    starts the cloud in $LOCALCLOUD_DIR (prints
#                             "already up" when it was); it writes
#                             $LOCALCLOUD_DIR/env, `export` lines
#                             (OS_CLIENT_CONFIG_FILE, OS_CLOUD...) that tests
#                             needing the cloud read from the environment.
#   tools/localcloud.sh down  stops it and removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."

TF_CLI=${TF_CLI:-$(command -v terraform || command -v tofu || true)}
GOTESTFLAGS=${GOTESTFLAGS:--p 2 -count=1 -timeout 60m}
if [[ -z "$TF_CLI" || ! -x "$TF_CLI" ]]; then
	echo "test: no Terraform CLI (terraform or tofu) found; run tools/install-deps.sh" >&2
	exit 1
fi

# The tests get a cloud of their own in a fresh state directory, so a
# developer's cloud (.localcloud) is neither used nor stopped. Set
# LOCALCLOUD_DIR to test against a cloud of your choice.
own_dir=
if [[ -z "${LOCALCLOUD_DIR:-}" ]]; then
	own_dir=$(mktemp -d /tmp/pxc-test-cloud.XXXXXX)
	export LOCALCLOUD_DIR=$own_dir
fi

cloud_started=no
stop_cloud() {
	if [[ $cloud_started == yes ]]; then
		echo "test: stopping the local cloud"
		tools/localcloud.sh down || echo "test: WARNING: tools/localcloud.sh down failed" >&2
	fi
	if [[ -n $own_dir ]]; then rm -rf "$own_dir"; fi
}
trap stop_cloud EXIT
trap 'exit 130' INT TERM

if [[ -x tools/localcloud.sh ]]; then
	echo "test: starting the local cloud"
	# A cloud that was already up (a developer's) is used and left running;
	# only a cloud started here is stopped here.
	cloud_started=yes
	up_output=$(tools/localcloud.sh up) || { echo "$up_output"; exit 1; }
	echo "$up_output"
	if grep -q "already up" <<<"$up_output"; then
		cloud_started=no
	fi
	if [[ -f "$LOCALCLOUD_DIR/env" ]]; then
		set -a
		# shellcheck disable=SC1091
		source "$LOCALCLOUD_DIR/env"
		set +a
	fi
else
	echo "test: tools/localcloud.sh is not there yet; running without the local cloud"
fi

echo "test: $("$TF_CLI" version | head -n1) at $TF_CLI"
# shellcheck disable=SC2086
TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TF_CLI" \
	go test $GOTESTFLAGS "${@:-./...}"
