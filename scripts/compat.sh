#!/usr/bin/env bash
# make compat: runs the provider's acceptance tests (the ones in internal/provider
# that drive a real CLI against the portal emulator) once per CLI named on the
# command line, and prints a table: CLI, version, result, time.
#
#   scripts/compat.sh CLI...    each CLI a path, or a name looked up on PATH
#
# A CLI that says it is OpenTofu is run with the registry settings OpenTofu needs.
# A CLI older than the minimum the README promises is not run: it is listed as
# SKIP with the reason. Tests skipped inside a run are listed with their reasons.
# Exits non-zero if any CLI was not found or any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest Terraform the README promises: check blocks (used by the tests and
# the docs) need 1.5. A test for a feature that needs a newer CLI must skip
# itself with tfversion.SkipBelow, which prints why; this script lists it.
min_version=1.5.0
package=./internal/provider/
logs=bin/compat
mkdir -p "$logs"

if [ $# -eq 0 ]; then
	echo "usage: $0 CLI..." >&2
	exit 2
fi

# version_at_least A B: A >= B, both dotted versions.
version_at_least() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

# count ACTION LOG.json: how many top-level tests ended with ACTION.
count() {
	jq -s --arg action "$1" '[.[] | select(.Test and (.Test | contains("/") | not) and .Action == $action)] | length' "$2" 2>/dev/null || echo "?"
}

command -v jq >/dev/null || {
	echo "make compat needs jq (apt-get install jq)" >&2
	exit 1
}

rows=()
notes=()
seen=" "
failed=0
for arg in "$@"; do
	if [[ $arg == */* ]]; then
		path=$arg
	else
		path=$(command -v "$arg" || true)
	fi
	if [ -z "$path" ] || [ ! -x "$path" ]; then
		rows+=("$arg|-|NOT FOUND|-|-")
		failed=1
		continue
	fi
	real=$(readlink -f "$path")
	case $seen in *" $real "*) continue ;; esac # the same binary twice
	seen="$seen$real "

	name=$("$path" version 2>/dev/null | grep -m1 -oE '^(OpenTofu|Terraform) v' | cut -d' ' -f1 || true)
	[ -n "$name" ] || name=$(basename "$path")
	version=$("$path" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -1)
	display=${path#"$PWD/"}

	if [ -z "$version" ]; then
		rows+=("$display|?|FAIL|-|\`version -json\` printed no version")
		failed=1
		continue
	fi
	if ! version_at_least "$version" "$min_version"; then
		rows+=("$display|$name $version|SKIP|-|older than $min_version, the oldest supported: check blocks need $min_version")
		continue
	fi

	# Only OpenTofu needs the provider address spelled for its registry.
	unset_args=(-u TF_ACC_PROVIDER_NAMESPACE -u TF_ACC_PROVIDER_HOST)
	set_args=()
	if [ "$name" = OpenTofu ]; then
		unset_args=()
		set_args=(TF_ACC_PROVIDER_NAMESPACE=hashicorp TF_ACC_PROVIDER_HOST=registry.opentofu.org)
		# OpenTofu warns about a missing CLI configuration file on stdout, before
		# its version, and terraform-plugin-testing then cannot read the version.
		if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
			echo "    (TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE does not exist: unset for OpenTofu, which would warn on stdout)"
			unset_args=(-u TF_CLI_CONFIG_FILE)
		fi
	fi

	log="$logs/$(echo "$name-$version" | tr '[:upper:] ' '[:lower:]-')"
	echo "==> $display ($name $version): go test -count=1 $package (log: $log.log)"
	start=$(date +%s)
	result=PASS
	if ! env "${unset_args[@]}" "${set_args[@]}" TF_ACC_TERRAFORM_PATH="$real" go test -count=1 -json "$package" >"$log.json" 2>"$log.stderr"; then
		result=FAIL
		failed=1
	fi
	elapsed=$(($(date +%s) - start))
	jq -r 'select(.Action == "output") | .Output' "$log.json" 2>/dev/null | cat - "$log.stderr" >"$log.log" || cat "$log.stderr" "$log.json" >"$log.log"
	rm -f "$log.stderr"

	rows+=("$display|$name $version|$result|${elapsed}s|$(count pass "$log.json") passed, $(count fail "$log.json") failed, $(count skip "$log.json") skipped")
	# A skipped test's reason is what it logged.
	while IFS= read -r line; do
		[ -n "$line" ] && notes+=("$name $version: $line")
	done < <(jq -rs '
		[.[] | select(.Test and .Action == "skip") | .Test] as $skipped
		| $skipped[] as $t
		| "\($t): " + ([.[] | select(.Test == $t and .Action == "output") | .Output
			| select(test("^(=== |--- )") | not) | sub("^\\s+"; "") | rtrimstr("\n")] | join(" "))
	' "$log.json" 2>/dev/null || true)
	if [ "$result" = FAIL ]; then
		if grep -q '^--- FAIL' "$log.log"; then
			grep '^--- FAIL' "$log.log" | sed 's/^/    /'
		else # failed outside any test: the build, TestMain, the CLI itself
			grep -vE '^(=== |--- (PASS|SKIP)|\s*$)' "$log.log" | tail -15 | sed 's/^/    /'
		fi
	fi
done

echo
{
	echo "CLI|version|result|time|tests"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > width[i]) width[i] = length($i) } n = NR; nf = NF }
	END { for (r = 1; r <= n; r++) { line = ""; for (i = 1; i <= nf; i++) line = line sprintf("%-" width[i] + 2 "s", cell[r, i]); sub(/ +$/, "", line); print line } }'
if [ ${#notes[@]} -gt 0 ]; then
	echo
	echo "Skipped tests:"
	printf '  %s\n' "${notes[@]}"
fi
exit $failed
