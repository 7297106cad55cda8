#!/usr/bin/env bash
# Runs `terraform test` (or `tofu test`) in every module under
# examples/modules, offline: the tests mock the pxc provider
# (mock_provider), but the CLI still needs its schema, so the provider is
# built from this checkout and handed to the CLI through dev_overrides in a
# CLI config file of its own. Nothing is downloaded and nothing is written
# into the module folders.
#
#   tools/module-test.sh [CLI...]   default: $TF_CLI, else terraform or tofu on PATH
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

given=("$@")
if ((${#given[@]} == 0)); then
	given=("${TF_CLI:-$(command -v terraform || command -v tofu || true)}")
fi
# The same binary named twice (TF_CLI is the pinned tofu) runs once.
clis=()
declare -A seen=()
for cli in "${given[@]}"; do
	cli=$(command -v "$cli" || true)
	if [[ -z "$cli" || ! -x "$cli" ]]; then
		echo "module-test: no Terraform CLI (terraform or tofu) at '$cli'" >&2
		exit 1
	fi
	real=$(realpath "$cli")
	if [[ -z ${seen[$real]:-} ]]; then
		seen[$real]=1
		clis+=("$cli")
	fi
done

work=$(mktemp -d /tmp/pxc-module-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

go build -o "$work/plugins/terraform-provider-pxc" .
# The module says source = "pxc-provider/pxc": Terraform reads that as
# registry.terraform.io/..., OpenTofu as registry.opentofu.org/...
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/pxc-provider/pxc" = "$work/plugins"
    "registry.opentofu.org/pxc-provider/pxc" = "$work/plugins"
  }
  direct {}
}
CFG

status=0
for cli in "${clis[@]}"; do
	for dir in examples/modules/*/; do
		dir=${dir%/}
		[[ -d $dir/tests ]] || continue
		echo "module-test: $(TF_CLI_CONFIG_FILE=$work/cli.tfrc "$cli" version 2>/dev/null | grep -m1 -E "^(Terraform|OpenTofu) v"): test $dir"
		# A copy, so .terraform and lock files never land in the clone.
		copy=$work/run/$(basename "$cli")/$(basename "$dir")
		mkdir -p "$copy"
		cp -r "$root/$dir/." "$copy"
		if ! (cd "$copy" && TF_CLI_CONFIG_FILE=$work/cli.tfrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 \
			"$cli" test -no-color); then
			echo "module-test: FAIL: $dir under $cli" >&2
			status=1
		fi
	done
done
exit $status
