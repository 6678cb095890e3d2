#!/usr/bin/env bash
# make demo: installs the provider as make install does and builds the portal
# emulator, starts the emulator on loopback with a fast agent and one import,
# and applies examples/demo, in which a bitrix24_configuration_import_wait
# resource waits for that import and a dependent resource comes after it.
# Needs Go and Terraform, no network. Fails if the apply prints a warning: the
# demo shows the recommended path.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v terraform >/dev/null 2>&1; then
	echo "make demo needs the Terraform CLI (>= 1.5) on PATH: https://developer.hashicorp.com/terraform/install" >&2
	exit 1
fi

begin=$(date +%s)
work=$(mktemp -d)
emulator_pid=""
cleanup() {
	[ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The user's install (README.md, "Install from source"): make install into
# Terraform's implied local mirror, here of a HOME of the demo's own, so that
# Terraform finds it with no CLI configuration and no dev_overrides, which
# would print a warning on every command.
demo_home="$work/home"
echo "==> Installing the provider (make install) and building the emulator"
make -s install PLUGIN_DIR="$demo_home/.terraform.d/plugins"
go build -o "$work/emulator" ./internal/cmd/bitrix24-emulator

echo "==> Starting the portal emulator (agent every 2s instead of every minute; one import of 3 sections and 2 files)"
# DEMO_AGENT picks the emulator's agent model (background, hits, busy or cron; see
# bitrix24-emulator -help), e.g. DEMO_AGENT=hits make demo for a quiet portal.
"$work/emulator" -listen 127.0.0.1:0 -agent-period 2s -agent "${DEMO_AGENT:-background}" -step-duration 200ms \
	-scenario demo -ready-file "$work/ready.json" \
	>"$work/emulator.out" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do
	[ -s "$work/ready.json" ] && break
	kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; exit 1; }
	sleep 0.1
done
[ -s "$work/ready.json" ] || { echo "the emulator did not start" >&2; exit 1; }
webhook_url=$(sed -n 's/.*"webhook_url": *"\([^"]*\)".*/\1/p' "$work/ready.json")
process_id=$(sed -n 's/.*"process_id": *\([0-9]*\).*/\1/p' "$work/ready.json")
echo "    webhook $(echo "$webhook_url" | sed -E 's#(/rest/[0-9]+/)[^/]+/#\1***/#'), import $process_id"

# terraform with the demo's HOME and no CLI configuration file: it installs
# the provider from the implied mirror there, as a user's terraform init does.
demo_terraform() {
	env -u TF_CLI_CONFIG_FILE HOME="$demo_home" CHECKPOINT_DISABLE=1 terraform "$@"
}
mkdir "$work/tf"
cp examples/demo/main.tf "$work/tf/"
demo_terraform -chdir="$work/tf" init -input=false >"$work/init.out" 2>&1 ||
	{ cat "$work/init.out" >&2; exit 1; }

echo "==> terraform apply (the resource waits for the import, polling once a minute; the dependent comes after it)"
start=$(date +%s)
BITRIX24_WEBHOOK_URL="$webhook_url" TF_IN_AUTOMATION=1 \
	demo_terraform -chdir="$work/tf" apply -auto-approve -input=false -var "process_id=$process_id" 2>&1 | tee "$work/apply.out"
end=$(date +%s)
echo "==> Done in $(( end - begin ))s: build and start $(( start - begin ))s, apply $(( end - start ))s; the emulator answered $(grep -c 'configuration.import.get' "$work/emulator.log" || true) configuration.import.get calls"
if grep -q 'Warning:' "$work/apply.out"; then
	echo "==> The demo printed a warning: it must show the recommended path without one" >&2
	exit 1
fi
