#!/usr/bin/env bash
# make demo: builds the provider and the portal emulator, starts the emulator
# on loopback with a fast agent and one import, and applies examples/demo, in
# which a resource waits for that import. Needs Go and Terraform, no network.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v terraform >/dev/null 2>&1; then
	echo "make demo needs the Terraform CLI (>= 1.5) on PATH: https://developer.hashicorp.com/terraform/install" >&2
	exit 1
fi

work=$(mktemp -d)
emulator_pid=""
cleanup() {
	[ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "==> Building the provider and the emulator"
go build -o "$work/bin/terraform-provider-bitrix24" .
go build -o "$work/emulator" ./internal/cmd/bitrix24-emulator

echo "==> Starting the portal emulator (agent every 2s, one import of 3 sections and 2 files)"
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

# dev_overrides make Terraform use the provider just built: no registry, no init.
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/b24-terraform/bitrix24" = "$work/bin"
  }
  direct {}
}
RC
mkdir "$work/tf"
cp examples/demo/main.tf "$work/tf/"

echo "==> terraform apply (the data source waits for the import; the resource comes after it)"
start=$(date +%s)
TF_CLI_CONFIG_FILE="$work/terraformrc" BITRIX24_WEBHOOK_URL="$webhook_url" TF_IN_AUTOMATION=1 \
	terraform -chdir="$work/tf" apply -auto-approve -input=false -var "process_id=$process_id"
echo "==> Done in $(( $(date +%s) - start ))s; the emulator answered $(grep -c 'configuration.import.get' "$work/emulator.log" || true) configuration.import.get calls"
