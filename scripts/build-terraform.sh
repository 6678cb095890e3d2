#!/usr/bin/env bash
# Builds a Terraform release from the Go module proxy alone, for make compat.
#
#   scripts/build-terraform.sh VERSION OUTDIR    writes OUTDIR/terraform
#
# `go install github.com/hashicorp/terraform@vX` refuses 1.14 and later: their
# go.mod has `replace ... => ./dir` lines for nested modules (the remote-state
# backends and internal/legacy), and a module zip holds no nested module. So the
# module is copied somewhere writable and those modules are cut out: their
# replace and require lines from go.mod, and the backends' imports and map
# entries from internal/backend/init/init.go (nothing else outside tests
# imports them). The result is that release without the azurerm, consul, cos,
# gcs, kubernetes, oss, pg, s3 and oci state backends, which provider tests
# never use. Needs only the module proxy (CI has nothing else).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 VERSION OUTDIR   (VERSION like 1.16.4)" >&2
	exit 2
fi
version=${1#v}
outdir=$2
module=github.com/hashicorp/terraform

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# A module outside any go.mod: `go mod download` then needs no main module.
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
	echo "build-terraform: the module proxy did not give $module@v$version" >&2
	exit 1
fi
src=$work/terraform
cp -r "$dir" "$src"
chmod -R u+w "$src"
cd "$src"

# The nested modules: every `replace <path> => ./<dir>` line.
mapfile -t nested < <(sed -n 's/^replace \([^ ]*\) => \.\/.*$/\1/p' go.mod)
init=internal/backend/init/init.go
for path in "${nested[@]}"; do
	quoted=$(printf '%s' "$path" | sed 's/[.[\*^$/]/\\&/g')
	sed -i -E "/^replace $quoted =>/d; /^[[:space:]]*(require[[:space:]]+)?$quoted v/d" go.mod
	# The import's alias, then the map entries that call it.
	alias=$(sed -n -E "s/^[[:space:]]*([A-Za-z0-9_]+)[[:space:]]+\"$quoted\"$/\1/p" "$init")
	if [ -n "$alias" ]; then
		sed -i -E "/^[[:space:]]*$alias[[:space:]]+\"$quoted\"$/d; /[[:space:]]$alias\.New\(/d" "$init"
	fi
done
if grep -q 'remote-state/\(azure\|consul\|cos\|gcs\|kubernetes\|oss\|pg\|s3\|oci\)"' "$init"; then
	echo "build-terraform: $init still imports a nested module; the cut needs updating for $version" >&2
	exit 1
fi

# Outside this repository's VCS, and a release build (without version.dev=no
# the CLI reports "<version>-dev").
GOFLAGS=-mod=mod go build -buildvcs=false -trimpath \
	-ldflags "-X github.com/hashicorp/terraform/version.dev=no" \
	-o "$outdir/terraform" .

reported=$("$outdir/terraform" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -1)
if [ "$reported" != "$version" ]; then
	echo "build-terraform: built binary says $reported, want $version" >&2
	rm -f "$outdir/terraform"
	exit 1
fi
echo "built Terraform $reported (without the remote-state backends) into $outdir/terraform"
