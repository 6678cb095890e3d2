#!/usr/bin/env bash
# make release-check: a release dry run. goreleaser builds a snapshot from
# .goreleaser.yml without signing or publishing, then dist/ is checked the way
# the Terraform Registry and Terraform will use it:
#   - one zip per platform, terraform-provider-bitrix24_<version>_<os>_<arch>.zip,
#     holding exactly the binary terraform-provider-bitrix24_v<version>(.exe);
#   - terraform-provider-bitrix24_<version>_SHA256SUMS lists every zip and the
#     manifest, and matches them (sha256sum -c);
#   - terraform-provider-bitrix24_<version>_manifest.json says protocol 6.0;
#   - the binary for this machine, taken from its zip, prints that version.
#
#   scripts/release-check.sh GORELEASER [--quick]
#
# --quick builds only this machine's platform, from a copy of .goreleaser.yml
# whose target list is replaced; everything else is the same.
set -euo pipefail
cd "$(dirname "$0")/.."

project=terraform-provider-bitrix24
goreleaser=${1:?usage: $0 GORELEASER [--quick]}
quick=${2:-}
goos=$(go env GOOS)
goarch=$(go env GOARCH)

fail() {
	echo "release-check: $*" >&2
	exit 1
}
for tool in jq unzip sha256sum; do
	command -v "$tool" >/dev/null || fail "needs $tool (apt-get install $tool)"
done

config=.goreleaser.yml
# 4 OSes x 4 architectures, less darwin/386 and windows/arm (the ignore list)
# and darwin/arm (not a Go platform).
expected_platforms=13
if [ "$quick" = --quick ]; then
	mkdir -p bin
	config=bin/goreleaser-quick.yml
	begin='# release-check-quick: targets begin'
	end='# release-check-quick: targets end'
	[ "$(grep -c -e "$begin" -e "$end" .goreleaser.yml)" = 2 ] ||
		fail ".goreleaser.yml has lost its '$begin' / '$end' markers"
	sed "/$begin/,/$end/c\\    targets: [${goos}_${goarch}]" .goreleaser.yml >"$config"
	expected_platforms=1
fi

# The before hook runs `go mod tidy`: a release must not build from go.mod and
# go.sum that differ from what is committed.
mod_before=$(cat go.mod go.sum | sha256sum)

start=$(date +%s)
"$goreleaser" release --snapshot --clean --skip=sign,publish --config "$config"
elapsed=$(($(date +%s) - start))

[ "$(cat go.mod go.sum | sha256sum)" = "$mod_before" ] ||
	fail "goreleaser's 'go mod tidy' changed go.mod or go.sum: run it and commit the result"

echo
echo "==> Checking dist/ as the registry would"
project_name=$(jq -r .project_name dist/metadata.json)
version=$(jq -r .version dist/metadata.json)
[ "$project_name" = "$project" ] || fail "goreleaser's project name is '$project_name', not '$project'"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "version '$version' is not semantic"

cd dist
zips=()
for zip in *.zip; do
	[ -e "$zip" ] || break
	zips+=("$zip")
done
[ ${#zips[@]} = "$expected_platforms" ] ||
	fail "${#zips[@]} zips in dist/, expected $expected_platforms: ${zips[*]:-none}"
# Every platform goreleaser built a binary for has its zip.
for platform in $(jq -r '.[] | select(.type == "Binary") | "\(.goos)_\(.goarch)"' artifacts.json); do
	[ -f "${project}_${version}_${platform}.zip" ] || fail "a binary was built for $platform, but there is no zip for it"
done

for zip in "${zips[@]}"; do
	[[ $zip =~ ^${project}_${version//./\\.}_([a-z0-9]+)_([a-z0-9]+)\.zip$ ]] ||
		fail "$zip is not named ${project}_${version}_<os>_<arch>.zip"
	os=${BASH_REMATCH[1]}
	binary="${project}_v${version}"
	[ "$os" = windows ] && binary="$binary.exe"
	contents=$(unzip -Z1 "$zip")
	[ "$contents" = "$binary" ] || fail "$zip holds '$(echo "$contents" | tr '\n' ' ')', expected only $binary"
done
echo "ok  ${#zips[@]} zips named ${project}_${version}_<os>_<arch>.zip, each holding only ${project}_v${version}"

# The release's files as the registry downloads them. A snapshot does not write
# the manifest to dist/: release.extra_files uploads terraform-registry-manifest.json
# under the name below, and checksum.extra_files lists it in SHA256SUMS.
sums=${project}_${version}_SHA256SUMS
manifest=${project}_${version}_manifest.json
[ -f "$sums" ] || fail "no $sums in dist/"
release=$(mktemp -d)
trap 'rm -rf "$release"' EXIT
cp "${zips[@]}" "$sums" "$release/"
cp ../terraform-registry-manifest.json "$release/$manifest"

for file in "${zips[@]}" "$manifest"; do
	[ "$(awk -v file="$file" '$2 == file' "$sums" | wc -l)" = 1 ] || fail "$sums does not list $file once"
done
[ "$(wc -l <"$sums")" = $((${#zips[@]} + 1)) ] || fail "$sums lists more than the zips and the manifest: $(cat "$sums")"
(cd "$release" && sha256sum --quiet -c "$sums") || fail "$sums does not match the files"
echo "ok  $sums lists every zip and the manifest, and matches them"

jq -e '.version == 1 and .metadata.protocol_versions == ["6.0"]' "$release/$manifest" >/dev/null ||
	fail "$manifest does not declare protocol version 6.0: $(cat "$release/$manifest")"
echo "ok  $manifest declares protocol version 6.0"

# The binary for this machine, from its zip as Terraform would unpack it.
own=${project}_${version}_${goos}_${goarch}.zip
[ -f "$own" ] || fail "no zip for this machine's platform ($own)"
unzip -q "$own" -d "$release/unpacked"
reported=$("$release/unpacked/${project}_v${version}" -version)
[ "$reported" = "$version" ] || fail "the $goos/$goarch binary reports version '$reported', expected $version"
echo "ok  the $goos/$goarch binary from its zip reports version $reported"

largest="" largest_size=0
for zip in "${zips[@]}"; do
	size=$(wc -c <"$zip")
	if [ "$size" -gt "$largest_size" ]; then
		largest=$zip largest_size=$size
	fi
done
echo
echo "release-check passed: $project $version, ${#zips[@]} platform(s), goreleaser took ${elapsed}s," \
	"largest zip $largest ($((largest_size / 1024)) KiB)"
