#!/usr/bin/env bash
# demo.sh up|down — `make demo` / `make demo-destroy`.
#
# up:   installs what is missing, starts the local cloud, builds the provider,
#       applies examples/quickstart (a 3-node MariaDB Galera cluster behind a
#       load balancer) with the real terraform CLI, and prints proof: the
#       cluster size as every node and the load balancer see it, and a row
#       written on node 1 read back on node 3.
# down: destroys the demo and stops the local cloud.
#
# The demo works in .localcloud/demo (state, CLI config); the local cloud
# lives in .localcloud (LOCALCLOUD_DIR overrides it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export LOCALCLOUD_DIR=${LOCALCLOUD_DIR:-$root/.localcloud}
work=$LOCALCLOUD_DIR/demo
tf=${TF_CLI:-$(command -v terraform || command -v tofu || echo "$root/bin/tofu")}

say() { printf '\n== %s\n' "$*"; }

terraform_env() {
	mkdir -p "$work"
	# dev_overrides: terraform uses the provider just built, no registry.
	cat >"$work/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "pxc-provider/pxc" = "$root/bin"
  }
  direct {}
}
EOF
	export TF_CLI_CONFIG_FILE=$work/terraformrc
	export TF_IN_AUTOMATION=1
	set -a
	# shellcheck disable=SC1091
	source "$LOCALCLOUD_DIR/env"
	set +a
	cp "$root/examples/quickstart/main.tf" "$work/main.tf"
}

sql() { # sql HOST STATEMENT: as root; the password travels in MYSQL_PWD, never on a command line
	mariadb -h "$1" -u root --ssl --connect-timeout=5 -N -B -e "$2"
}

up() {
	say "Installing what the demo needs (Debian packages, a terraform CLI)"
	tools/install-deps.sh
	tf=${TF_CLI:-$(command -v terraform || command -v tofu || echo "$root/bin/tofu")}

	say "Starting the local OpenStack-compatible cloud"
	tools/localcloud.sh up

	say "Building the provider"
	go build -o bin/terraform-provider-pxc .

	terraform_env
	say "terraform apply (examples/quickstart): 3 servers, volumes, security group, Galera, load balancer"
	start=$(date +%s)
	"$tf" -chdir="$work" apply -auto-approve -input=false \
		-var "allowed_cidrs=[\"$LOCALCLOUD_SUBNET_CIDR\"]"
	echo "applied in $(($(date +%s) - start)) s"

	proof
	say "Done. Tear it down with: make demo-destroy"
}

proof() {
	terraform_env
	MYSQL_PWD=$("$tf" -chdir="$work" output -raw root_password)
	export MYSQL_PWD
	vip=$("$tf" -chdir="$work" output -raw vip_address)
	mapfile -t ips < <("$tf" -chdir="$work" output -json ips | tr -d '[]" ' | tr ',' '\n' | sed '/^$/d')

	say "Proof: every node, asked directly"
	for ip in "${ips[@]}"; do
		sql "$ip" "SELECT @@wsrep_node_name, @@wsrep_node_address,
			(SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'wsrep_cluster_size') AS size,
			(SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'wsrep_local_state_comment') AS state" |
			awk '{printf "  %-12s %-15s wsrep_cluster_size=%s %s\n", $1, $2, $3, $4}'
	done

	say "Proof: through the load balancer at $vip:3306"
	sql "$vip" "SELECT CONCAT('  answered by ', @@wsrep_node_name, ': wsrep_cluster_size=',
		(SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'wsrep_cluster_size'))"

	say "Proof: a row written on node 1 is read on node 3"
	stamp="written on node 1 at $(date -u +%FT%TZ)"
	sql "${ips[0]}" "CREATE DATABASE IF NOT EXISTS demo;
		CREATE TABLE IF NOT EXISTS demo.proof (id INT PRIMARY KEY, note VARCHAR(80));
		REPLACE INTO demo.proof VALUES (1, '$stamp')"
	got=$(sql "${ips[2]}" "SET SESSION wsrep_sync_wait = 1; SELECT note FROM demo.proof WHERE id = 1")
	echo "  node 3 (${ips[2]}) reads: $got"
	[[ $got == "$stamp" ]] || { echo "demo: node 3 did not read the row written on node 1" >&2; exit 1; }
}

down() {
	if [[ -f "$work/terraform.tfstate" && -f "$LOCALCLOUD_DIR/env" ]]; then
		terraform_env
		say "terraform destroy"
		"$tf" -chdir="$work" destroy -auto-approve -input=false -var "allowed_cidrs=[]"
	fi
	say "Stopping the local cloud"
	tools/localcloud.sh down
	rm -rf "$work"
}

case "${1:-up}" in
up) up ;;
proof) proof ;;
down) down ;;
*)
	echo "usage: $0 up|proof|down" >&2
	exit 2
	;;
esac
