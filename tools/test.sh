#!/usr/bin/env bash
# Runs every test of the project (or the packages given as arguments): starts the local cloud, runs `go test ./...`
# with acceptance tests enabled under the real Terraform CLI, and stops the
# local cloud again, also when a test fails or the run is interrupted.
#
# Passes, each announced with the CLI's version:
#   1. go test of the packages under TF_CLI (terraform on PATH, else tofu),
#      all but the fault matrix, ACC_PARALLEL parallel tests at once; on
#      full runs ./internal/provider in a go test of its own beside the
#      other packages;
#   1s. beside pass 1, on a local cloud of its own: the provider's
#      acceptance tests that are not parallel (SERIAL_ACC); skipped with
#      SERIAL_PASS=0 or a -run in GOTESTFLAGS (they then run in pass 1);
#   1b. the fault matrix (TestAccFaultMatrix) alone on the local cloud;
#      skipped with FAULT_MATRIX=0;
#   2. the acceptance tests that cover each resource's create, import and
#      destroy (TOFU_RUN in ./internal/provider) under the pinned OpenTofu
#      (tools/tofu.sh; built once per machine); run when the packages
#      include ./internal/provider, skipped with TOFU_PASS=0 or when TF_CLI
#      is OpenTofu already;
#   3. `terraform test` of every module under examples/modules, offline,
#      under both CLIs (tools/module-test.sh); on full runs (./...) only.
# Passes 2 and 3 run while pass 1b runs (it mostly waits on servers): pass
# 2 on a local cloud of its own, since the fault matrix injects faults that
# act on a whole cloud (the next server's ERROR, slow status changes) and
# every acceptance test clears a cloud's faults when it starts. The tests
# check only their own objects after a destroy; the one whole-cloud leak
# check (TestAccLocalCloudLeftEmpty, then no namespace, loop device or
# process of a stopped cloud) runs on each cloud once everything on it is
# done. Every pass runs even when an earlier one failed; the exit status
# says whether all passed.
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
# The OpenTofu pass: the acceptance tests that create, import and destroy
# pxc_cluster (with both data sources) and pxc_lb_pool. A full second pass
# would not fit CI's 30 minutes on 2 cores next to a cold OpenTofu build.
TOFU_RUN=${TOFU_RUN:-'^TestAcc(ClusterResource|LBPoolResource|CredentialsEphemeral)$'}
TOFU_PKG=./internal/provider
if [[ -z "$TF_CLI" || ! -x "$TF_CLI" ]]; then
	echo "test: no Terraform CLI (terraform or tofu) found; run tools/install-deps.sh" >&2
	exit 1
fi
pkgs=("${@:-./...}")

# The version line; tofu prints configuration warnings to stdout before it.
# The whole output is read first: grep -m1 closing the pipe early made the
# CLI die of SIGPIPE, and pipefail then printed "(version unknown)" too.
cli_version() {
	local out
	out=$("$1" version 2>/dev/null) || true
	grep -m1 -E '^(Terraform|OpenTofu) v' <<<"$out" || echo "$1 (version unknown)"
}

# Which passes this run makes.
tofu_pass=no
if [[ ${TOFU_PASS:-1} != 0 ]]; then
	for p in "${pkgs[@]}"; do
		case $p in ./... | ./internal/... | "$TOFU_PKG" | "$TOFU_PKG/..." | internal/provider*) tofu_pass=yes ;; esac
	done
fi
if [[ $tofu_pass == yes && $(cli_version "$TF_CLI") == OpenTofu* ]]; then
	echo "test: TF_CLI is OpenTofu already: no second pass"
	tofu_pass=no
fi
module_tests=no
if [[ "${pkgs[*]}" == ./... && ${MODULE_TESTS:-1} != 0 ]]; then module_tests=yes; fi
# A cold OpenTofu build takes about 14 minutes on 2 cores: it runs while
# pass 1 runs (the acceptance tests mostly wait on servers), and pass 2
# waits for it.
TOFU_CLI=${TOFU_CLI_PATH:-}
tofu_build_pid=
tofu_build_log=
if [[ -z $TOFU_CLI && ($tofu_pass == yes || $module_tests == yes) ]]; then
	if TOFU_CLI=$(TOFU_CACHED_ONLY=1 tools/tofu.sh); then
		:
	else
		tofu_build_log=$(mktemp /tmp/pxc-tofu-build.XXXXXX)
		echo "test: building the pinned OpenTofu in the background (log: $tofu_build_log)"
		# A process group of its own, so an interrupted run stops go build too.
		setsid tools/tofu.sh >"$tofu_build_log.path" 2>"$tofu_build_log" &
		tofu_build_pid=$!
	fi
fi
# wait_for_tofu sets TOFU_CLI once the background build is done.
wait_for_tofu() {
	if [[ -n $TOFU_CLI ]]; then return 0; fi
	if [[ -z $tofu_build_pid ]]; then return 1; fi
	local started=$SECONDS
	echo "test: waiting for the OpenTofu build"
	if ! wait "$tofu_build_pid"; then
		cat "$tofu_build_log" >&2
		tofu_build_pid=
		return 1
	fi
	tofu_build_pid=
	TOFU_CLI=$(cat "$tofu_build_log.path")
	echo "test: $(tail -n1 "$tofu_build_log") (waited $((SECONDS - started))s)"
	rm -f "$tofu_build_log" "$tofu_build_log.path"
}

# The tests get a cloud of their own in a fresh state directory, so a
# developer's cloud (.localcloud) is neither used nor stopped. Set
# LOCALCLOUD_DIR to test against a cloud of your choice.
own_dir=
if [[ -z "${LOCALCLOUD_DIR:-}" ]]; then
	own_dir=$(mktemp -d /tmp/pxc-test-cloud.XXXXXX)
	export LOCALCLOUD_DIR=$own_dir
fi

# The shared cloud boots its servers' images with systemd as PID 1, as real
# OpenStack guests are: the acceptance tests take the path users take
# (galera_new_cluster, mariadb.service restarting a killed mysqld).
# LOCALCLOUD_INIT_LESS=1 boots init-less hosts instead (sshd as PID 1 over
# this machine's filesystem), as the guest package's integration tests do.

# A systemd server's PID 1, logind, dbus and journald hold about 8 inotify
# instances, counted for root machine-wide: the kernel's default of 128
# boots about 16 servers, and the next die at boot ("Failed to allocate
# manager object: Too many open files"), which a VM on a hypervisor never
# does. Pass 1 alone runs ACC_PARALLEL clusters at once, beside the guest
# tests and TestAccClusterSystemdGuests' own systemd cloud: raise it.
inotify_instances=/proc/sys/fs/inotify/max_user_instances
if [[ -w $inotify_instances ]] && (($(cat "$inotify_instances") < 8192)); then
	echo "test: fs.inotify.max_user_instances $(cat "$inotify_instances") -> 8192 (systemd servers)"
	echo 8192 >"$inotify_instances"
fi

cloud_started=no
fault_matrix_pid=
tofu_cloud_dir=
pass1_log=
serial_pid=
serial_log=
serial_cloud_dir=
stop_cloud() {
	if [[ -n ${provider_pid:-} ]]; then
		# Interrupted during pass 1: stop the provider's go test (a
		# process group of its own) before its cloud goes.
		kill -- "-$provider_pid" 2>/dev/null || true
		wait "$provider_pid" 2>/dev/null || true
		rm -f "$provider_log"
	fi
	if [[ -n $pass1_log ]]; then rm -f "$pass1_log"; fi
	if [[ -n $serial_pid ]]; then
		kill -- "-$serial_pid" 2>/dev/null || true
		wait "$serial_pid" 2>/dev/null || true
	fi
	if [[ -n $serial_log ]]; then rm -f "$serial_log"; fi
	if [[ -n $serial_cloud_dir ]]; then
		LOCALCLOUD_DIR=$serial_cloud_dir tools/localcloud.sh down >/dev/null 2>&1 || true
		rm -rf "$serial_cloud_dir"
	fi
	if [[ -n $fault_matrix_pid ]]; then
		# Interrupted while the fault matrix ran: stop its go test (a
		# process group of its own) before its cloud goes.
		kill -- "-$fault_matrix_pid" 2>/dev/null || true
		wait "$fault_matrix_pid" 2>/dev/null || true
	fi
	if [[ -n $tofu_cloud_dir ]]; then
		LOCALCLOUD_DIR=$tofu_cloud_dir tools/localcloud.sh down >/dev/null 2>&1 || true
		rm -rf "$tofu_cloud_dir"
	fi
	if [[ $cloud_started == yes ]]; then
		echo "test: stopping the local cloud"
		tools/localcloud.sh down || echo "test: WARNING: tools/localcloud.sh down failed" >&2
	fi
	if [[ -n $own_dir ]]; then rm -rf "$own_dir"; fi
	if [[ -n ${tofu_build_pid:-} ]]; then
		# Interrupted before pass 2: stop the build (tools/tofu.sh leaves no
		# partial binary behind: it renames only a finished one).
		kill -- "-$tofu_build_pid" 2>/dev/null || true
		rm -f "$tofu_build_log" "$tofu_build_log.path"
	fi
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

results=()
failed=0
record() { # name status
	if [[ $2 == 0 ]]; then results+=("$1: ok"); else results+=("$1: FAILED"); failed=1; fi
}

# cloud_errors DIR: what the local cloud in DIR logged as errors (a
# server's fault details, e.g. why a guest failed to spawn), printed after a
# failed pass: the cloud's log goes with the cloud.
cloud_errors() {
	local log=$1/localcloud.log
	if [[ -f $log ]] && grep -q 'level=ERROR' "$log"; then
		echo "test: the local cloud's errors in $1 (last 40):"
		grep 'level=ERROR' "$log" | tail -n 40
	fi
}

# print_slowest LOG: the package lines and the slowest tests of a -v log.
print_slowest() {
	grep -E '^(ok|FAIL|\?) ' "$1" || true
	echo "test: the slowest tests:"
	grep -E '^--- (PASS|FAIL|SKIP): ' "$1" | sed -E 's/^--- [A-Z]+: (.*) \(([0-9.]+)s\)$/\2 \1/' | sort -rn | head -n 12 |
		awk '{printf "test:   %7.0fs %s\n", $1, $2}' || true
}

# Pass 1s: the provider's acceptance tests that are not parallel. Go runs
# a package's other tests one by one before its parallel ones, and these
# assume they are alone on their cloud (cloud-wide faults, the list of
# every cluster, request counts, process environment): on systemd servers
# they took 15 minutes before the first parallel scenario started. They
# run on a cloud of their own, beside pass 1; a test not named here runs in
# pass 1, still alone before its package's parallel tests. Only on runs
# that choose no tests themselves (no -run in GOTESTFLAGS); SERIAL_PASS=0
# keeps them in pass 1.
SERIAL_ACC=${SERIAL_ACC:-'^TestAcc(ClusterResource|ClusterResourceServerErrorDuringCreate|ClusterResourceMissingFlavor|ClusterResourceMissingKeyPair|CredentialsEphemeral|EconomyNoChangePlan|ClusterHostKeyWaitIsBounded|ClusterAllowedCIDRsBehindLoadBalancer|LBPoolResource|ProviderOnlyPlansWithoutCredentials)$'}
pass1_skip='^TestAccFaultMatrix$'
if [[ ${SERIAL_PASS:-1} != 0 && " $GOTESTFLAGS " != *" -run"* && -n ${LOCALCLOUD_ADMIN_URL:-} &&
	(" ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *"internal/provider"*) ]]; then
	serial_cloud_dir=$(mktemp -d /tmp/pxc-test-cloud.XXXXXX)
	echo "test: starting a local cloud for pass 1s"
	if up_output=$(LOCALCLOUD_DIR=$serial_cloud_dir tools/localcloud.sh up); then
		pass1_skip="$pass1_skip|$SERIAL_ACC"
		serial_log=$(mktemp /tmp/pxc-test-serial.XXXXXX)
		echo "test: pass 1s: $(cli_version "$TF_CLI"): go test -run '$SERIAL_ACC' $TOFU_PKG, on its own cloud beside pass 1"
		# shellcheck disable=SC2086,SC1091
		(
			set -a
			source "$serial_cloud_dir/env"
			set +a
			TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TF_CLI" \
				exec setsid go test $GOTESTFLAGS -v -run "$SERIAL_ACC" "$TOFU_PKG"
		) >"$serial_log" 2>&1 &
		serial_pid=$!
	else
		echo "$up_output"
		record "pass 1s's local cloud (tools/localcloud.sh up)" 1
		rm -rf "$serial_cloud_dir"
		serial_cloud_dir=
	fi
fi

# The acceptance tests mostly wait on servers: ACC_PARALLEL of the parallel
# ones (9 long cluster scenarios in ./internal/provider) run at once, not
# go test's default GOMAXPROCS (2 in CI); with pass 1s beside them that is
# 4 clusters at once. 3 lasts about as long as pass 1s; at 4 (5 clusters),
# on a loaded machine, SQL through a VIP outlasted galeratest's 3 s read
# timeout in two scenarios. GOTESTFLAGS may override it.
ACC_PARALLEL=${ACC_PARALLEL:-3}
echo "test: pass 1: $(cli_version "$TF_CLI") at $TF_CLI: go test -parallel $ACC_PARALLEL ${pkgs[*]}"
rc=0
pass1_started=$SECONDS
pass1_log=$(mktemp /tmp/pxc-test-pass1.XXXXXX)
# -v for each test's time: the package lines and the slowest tests are
# printed (what makes the pass long); the whole log only on failure.
# On full runs the provider's package, the longest, gets a go test of its
# own from the start: in one go test (-p 2) it came last in package order
# and waited minutes for a slot; the other packages run one at a time
# beside it (-p 1), so two test binaries still run at once.
pass1_rest=("${pkgs[@]}")
provider_pid=
provider_log=
if [[ "${pkgs[*]}" == ./... ]]; then
	mapfile -t pass1_rest < <(go list ./... | grep -vx "$(go list "$TOFU_PKG")")
	provider_log=$(mktemp /tmp/pxc-test-pass1p.XXXXXX)
	# shellcheck disable=SC2086
	TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TF_CLI" \
		setsid go test -parallel "$ACC_PARALLEL" $GOTESTFLAGS -v -skip "$pass1_skip" "$TOFU_PKG" >"$provider_log" 2>&1 &
	provider_pid=$!
	# shellcheck disable=SC2086
	TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TF_CLI" \
		go test $GOTESTFLAGS -p 1 -v -skip "$pass1_skip" "${pass1_rest[@]}" >"$pass1_log" 2>&1 || rc=$?
	wait "$provider_pid" || rc=$?
	provider_pid=
	cat "$provider_log" >>"$pass1_log"
	rm -f "$provider_log"
else
	# shellcheck disable=SC2086
	TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TF_CLI" \
		go test -parallel "$ACC_PARALLEL" $GOTESTFLAGS -v -skip "$pass1_skip" "${pkgs[@]}" >"$pass1_log" 2>&1 || rc=$?
fi
if [[ $rc == 0 ]]; then
	print_slowest "$pass1_log"
else
	cat "$pass1_log"
	cloud_errors "$LOCALCLOUD_DIR"
fi
rm -f "$pass1_log"
echo "test: pass 1 took $((SECONDS - pass1_started))s"
record "pass 1 ($(cli_version "$TF_CLI"), all tests but the fault matrix)" $rc

# The fault matrix builds many clusters side by side: it runs alone, after
# pass 1, so no other package's hosts and clouds compete with its hosts
# (run next to the guest tests, hosts failed to spawn on 2 cores).
# FAULT_MATRIX=0 leaves it out (a developer running one acceptance test).
# It runs in the background while passes 2 and 3 run (its output follows
# when it is done).
fault_matrix_log=
if [[ ${FAULT_MATRIX:-1} != 0 && (" ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *"internal/provider"*) ]]; then
	echo "test: pass 1b: the fault matrix, on this cloud, beside passes 2 and 3"
	fault_matrix_log=$(mktemp /tmp/pxc-test-faults.XXXXXX)
	# shellcheck disable=SC2086
	TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TF_CLI" \
		setsid go test $GOTESTFLAGS -v -run '^TestAccFaultMatrix$' ./internal/provider >"$fault_matrix_log" 2>&1 &
	fault_matrix_pid=$!
	fault_matrix_started=$SECONDS
fi

if [[ ($tofu_pass == yes || $module_tests == yes) ]] && ! wait_for_tofu; then
	record "OpenTofu build (tools/tofu.sh)" 1
	tofu_pass=no module_tests=no
fi

# The cloud of pass 2: its own while the fault matrix runs on the first.
tofu_cloud_env=${LOCALCLOUD_DIR:-}/env
if [[ $tofu_pass == yes && -n $fault_matrix_pid ]]; then
	tofu_cloud_dir=$(mktemp -d /tmp/pxc-test-cloud.XXXXXX)
	echo "test: starting a second local cloud for pass 2"
	if up_output=$(LOCALCLOUD_DIR=$tofu_cloud_dir tools/localcloud.sh up); then
		tofu_cloud_env=$tofu_cloud_dir/env
	else
		echo "$up_output"
		record "pass 2's local cloud (tools/localcloud.sh up)" 1
		tofu_pass=no
	fi
fi

if [[ $tofu_pass == yes ]]; then
	echo "test: pass 2: $(cli_version "$TOFU_CLI") at $TOFU_CLI: go test -run '$TOFU_RUN' $TOFU_PKG"
	rc=0
	log=$(mktemp /tmp/pxc-test-tofu.XXXXXX)
	# Without a CLI config file tofu prints a warning on stdout before its
	# version line, which terraform-plugin-testing cannot parse: give it an
	# empty one (unless the caller chose one).
	cli_config=${TF_CLI_CONFIG_FILE:-$log.tfrc}
	touch "$cli_config"
	# shellcheck disable=SC2086,SC1090
	(
		if [[ -f $tofu_cloud_env ]]; then
			set -a
			source "$tofu_cloud_env"
			set +a
		fi
		TF_CLI_CONFIG_FILE=$cli_config TF_ACC=1 TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_TERRAFORM_PATH="$TOFU_CLI" \
			go test $GOTESTFLAGS -v -run "$TOFU_RUN" "$TOFU_PKG"
	) >"$log" 2>&1 || rc=$?
	# A renamed test or a missing cloud must not pass as "nothing to run".
	if [[ $rc == 0 ]] && { ! grep -q '^--- PASS: TestAcc' "$log" || grep -q '^--- SKIP' "$log"; }; then
		echo "test: pass 2 ran no acceptance test, or skipped one: check TOFU_RUN and the local cloud" >&2
		rc=1
	fi
	if [[ $rc == 0 ]]; then
		# Which tests ran and passed; the rest of -v is noise on success.
		grep -E '^(--- |ok|PASS)' "$log" || true
	else
		cat "$log"
		if [[ -n $tofu_cloud_dir ]]; then cloud_errors "$tofu_cloud_dir"; else cloud_errors "$LOCALCLOUD_DIR"; fi
	fi
	rm -f "$log" "$log.tfrc"
	record "pass 2 ($(cli_version "$TOFU_CLI"), $TOFU_RUN)" $rc
fi

if [[ $module_tests == yes ]]; then
	echo "test: module tests: terraform test in examples/modules/*, offline, under $(cli_version "$TF_CLI") and $(cli_version "$TOFU_CLI")"
	rc=0
	tools/module-test.sh "$TF_CLI" "$TOFU_CLI" || rc=$?
	record "module tests (terraform test under both CLIs)" $rc
fi

if [[ -n $fault_matrix_pid ]]; then
	echo "test: waiting for pass 1b (the fault matrix)"
	rc=0
	wait "$fault_matrix_pid" || rc=$?
	fault_matrix_pid=
	cat "$fault_matrix_log"
	if [[ $rc != 0 ]]; then cloud_errors "$LOCALCLOUD_DIR"; fi
	rm -f "$fault_matrix_log"
	echo "test: pass 1b took $((SECONDS - fault_matrix_started))s"
	record "pass 1b ($(cli_version "$TF_CLI"), fault matrix)" $rc
fi

if [[ -n $serial_pid ]]; then
	echo "test: waiting for pass 1s"
	rc=0
	wait "$serial_pid" || rc=$?
	serial_pid=
	# A renamed test must not pass as "nothing to run".
	if [[ $rc == 0 ]] && ! grep -q '^--- PASS: TestAcc' "$serial_log"; then rc=1; fi
	if [[ $rc == 0 ]]; then print_slowest "$serial_log"; else cat "$serial_log"; cloud_errors "$serial_cloud_dir"; fi
	rm -f "$serial_log"
	serial_log=
	# (its go test line above says how long it ran; it is waited for only here)
	record "pass 1s ($(cli_version "$TF_CLI"), the provider's serial acceptance tests)" $rc
fi

# cloud_left_clean ENV NAME: the one whole-cloud leak check of a cloud
# whose tests are all done: TestAccLocalCloudLeftEmpty while it runs.
cloud_left_clean() {
	local rc=0 out
	echo "test: leak check of $2"
	# shellcheck disable=SC1090
	out=$(
		set -a
		source "$1"
		set +a
		PXC_LEAK_CHECK=1 TF_ACC=1 go test -count=1 -v -run '^TestAccLocalCloudLeftEmpty$' ./internal/provider 2>&1
	) || rc=$?
	# A renamed test must not pass as "nothing to run".
	if [[ $rc == 0 ]] && ! grep -q '^--- PASS: TestAccLocalCloudLeftEmpty' <<<"$out"; then rc=1; fi
	if [[ $rc != 0 ]]; then echo "$out"; fi
	record "leak check of $2 (nothing left in it after every test)" $rc
}

# kernel_left_clean DIR BRIDGE NAME: after `down`, nothing of the cloud is
# left in the kernel or the process table: no network namespace or link
# named after its network, no loop device on a file of its state
# directory, no process running from it.
kernel_left_clean() {
	local dir=$1 bridge=$2 left=""
	left+=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$bridge-" | sed 's/^/netns /' || true)
	left+=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep "^$bridge" | sed 's/^/link /' || true)
	left+=$(losetup -a 2>/dev/null | grep -F "$dir/" | sed 's/^/loop device /' || true)
	left+=$(pgrep -af -- "$dir/" | grep -v pgrep | sed 's/^/process /' || true)
	if [[ -n $left ]]; then
		echo "test: left behind by $3 after it stopped:"
		echo "$left"
		record "nothing of $3 left after it stopped" 1
	else
		record "nothing of $3 left after it stopped" 0
	fi
}

if [[ -n $tofu_cloud_dir ]]; then
	cloud_left_clean "$tofu_cloud_dir/env" "pass 2's local cloud"
	bridge=$(sed -n "s/^export LOCALCLOUD_BRIDGE='\(.*\)'$/\1/p" "$tofu_cloud_dir/env")
	LOCALCLOUD_DIR=$tofu_cloud_dir tools/localcloud.sh down >/dev/null || echo "test: WARNING: stopping pass 2's local cloud failed" >&2
	kernel_left_clean "$tofu_cloud_dir" "$bridge" "pass 2's local cloud"
	rm -rf "$tofu_cloud_dir"
	tofu_cloud_dir=
fi
if [[ -n $serial_cloud_dir ]]; then
	cloud_left_clean "$serial_cloud_dir/env" "pass 1s's local cloud"
	bridge=$(sed -n "s/^export LOCALCLOUD_BRIDGE='\(.*\)'$/\1/p" "$serial_cloud_dir/env")
	LOCALCLOUD_DIR=$serial_cloud_dir tools/localcloud.sh down >/dev/null || echo "test: WARNING: stopping pass 1s's local cloud failed" >&2
	kernel_left_clean "$serial_cloud_dir" "$bridge" "pass 1s's local cloud"
	rm -rf "$serial_cloud_dir"
	serial_cloud_dir=
fi
if [[ $cloud_started == yes && -f "$LOCALCLOUD_DIR/env" && (" ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *"internal/provider"*) ]]; then
	cloud_left_clean "$LOCALCLOUD_DIR/env" "the local cloud"
	echo "test: stopping the local cloud"
	tools/localcloud.sh down || echo "test: WARNING: tools/localcloud.sh down failed" >&2
	cloud_started=no
	kernel_left_clean "$LOCALCLOUD_DIR" "$LOCALCLOUD_BRIDGE" "the local cloud"
fi

for r in "${results[@]}"; do echo "test: $r"; done
exit $failed
