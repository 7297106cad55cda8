#!/bin/sh
# localcloud.sh up|down|env|status — run the local OpenStack-compatible cloud
# in the background for `make localcloud-up` / `make localcloud-down`.
#
#   LOCALCLOUD_DIR     state dir (default .localcloud in the repo root)
#   LOCALCLOUD_LISTEN  API address (default 127.0.0.1:0, a free port)
#   LOCALCLOUD_ARGS    extra flags for `localcloud up` (e.g. "--hypervisors 4")
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${LOCALCLOUD_DIR:-$root/.localcloud}
bin=$dir/bin/localcloud
log=$dir/localcloud.log

build() {
	mkdir -p "$dir/bin"
	(cd "$root" && go build -o "$bin" ./internal/localcloud/cmd/localcloud)
}

ready() {
	[ -f "$dir/endpoint" ] || return 1
	url=$(cat "$dir/endpoint")
	curl -fsS -o /dev/null --max-time 3 "$url/_admin/ready" 2>/dev/null
}

case "${1:-}" in
up)
	if ready; then
		echo "localcloud already up at $(cat "$dir/endpoint") (env: $dir/env)"
		exit 0
	fi
	build
	mkdir -p "$dir"
	rm -f "$dir/endpoint"
	touch "$log"
	start=$(($(wc -c <"$log") + 1))
	# setsid: the cloud outlives this shell; its hosts die with it.
	# shellcheck disable=SC2086
	setsid "$bin" up --dir "$dir" --listen "${LOCALCLOUD_LISTEN:-127.0.0.1:0}" ${LOCALCLOUD_ARGS:-} \
		</dev/null >>"$log" 2>&1 &
	pid=$!
	i=0
	while ! ready; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "localcloud failed to start; the end of $log:" >&2
			tail -c +"$start" "$log" | tail -n 20 >&2
			exit 1
		fi
		i=$((i + 1))
		if [ "$i" -gt 600 ]; then
			echo "localcloud not ready after 60 s; see $log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "localcloud up at $(cat "$dir/endpoint")"
	echo "  clouds.yaml: $dir/clouds.yaml (cloud \"local\")"
	echo "  env:         . $dir/env"
	;;
down)
	if [ ! -x "$bin" ]; then build; fi
	"$bin" down --dir "$dir"
	;;
env | status)
	if [ ! -x "$bin" ]; then build; fi
	"$bin" "$1" --dir "$dir"
	;;
*)
	echo "usage: $0 up|down|env|status" >&2
	exit 2
	;;
esac
