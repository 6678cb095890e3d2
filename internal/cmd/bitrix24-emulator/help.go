// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// helpText is what -help prints before the flags: how to try the provider
// against the emulator, from the start to every failure the provider's
// pages describe. docs/guides/emulator.md says the same at more length.
const helpText = `bitrix24-emulator serves an emulated Bitrix24 portal on loopback: webhook
authentication, batch, and configuration.import.register, .get and .unregister
with the portal's background agent, which runs each import one step a minute.
Try the provider, its examples and your own configuration against it before
touching a real portal.

START IT
  go run ./internal/cmd/bitrix24-emulator -agent-period 5s
prints the webhook URL (http is accepted for a loopback address only):
  webhook_url=http://127.0.0.1:PORT/rest/1/{{code}}/
  process_id=0
Stop it with Ctrl-C. Give the provider the URL:
  export BITRIX24_WEBHOOK_URL=http://127.0.0.1:PORT/rest/1/{{code}}/

REGISTER AN IMPORT, with the call the provider's pages show
  curl -sS -X POST "${BITRIX24_WEBHOOK_URL}configuration.import.register.json" \
    -H 'Content-Type: application/json' \
    -d '{"data": {"MANIFEST": {"CODE": "landing_page"},
                  "STRUCTURE": {"LANDING": ["https://files.example.com/site/page1.json"]},
                  "FILES": []}}'
answers {"result": {"processId": 1000}, ...}: pass 1000 to Terraform as the
import's process_id. The emulator fetches nothing: each STRUCTURE key is a
section, each FILES entry a file, and an import takes 5 + 2 x sections + files
agent runs (7 for this one). MANIFEST.CODE must be one the portal lets import
over REST: {{manifests}} (-manifests);
any other answers ERROR_MANIFEST_IS_NOT_AVAILABLE, as the portal does.

SCENARIOS (-scenario): an import created at start, its id printed as process_id
  none      no import (the default): register your own
  demo      3 sections, 2 files, 2 notices; finishes (F) after 13 runs with 3
            created items
  failing   2 sections, 1 file; an error at run 4, then an exception at run 6,
            at load CRM_STATUS step 0: ends failed (E)
  finished  an import that has already finished (F), with a notice and one
            created item: for terraform import, or a wait that ends at once

REHEARSE A FAILURE
  failed import (E)       -fail-at STEP: the scenario's import and every one
                          registered stop at STEP with status E, progress
                          naming it and an exception (-fail-message TEXT).
                          STEP is ACTION[:SECTION][:STEP], ACTION one of
                          start, init_background, manifest, clean, load,
                          finish: -fail-at load, -fail-at load:LANDING:0.
                          An import without that step runs to the end.
  unknown import (U)      read a process id the emulator did not create
  no configuration.import scope
                          -scopes crm,user: the import methods answer HTTP 401
                          insufficient_scope ("" as its text inside a batch)
  wrong webhook code      call with a code other than -code: HTTP 401
                          INVALID_CREDENTIALS
  manifest not importable a MANIFEST.CODE outside -manifests
  busy portal             -rate-limit standard (2 requests a second, bursts of
                          50), or -fault '*=503-limit@60s' (every call refused
                          for a minute)
  faults on the way       -fault METHOD=KIND[*COUNT|@DURATION], e.g.
                          -fault configuration.import.get=502*2
  a company CA            -tls -ca-file ca.pem, and ca_cert_pem = file("ca.pem")
  a wait that times out   an import slower than the wait's timeout
                          (-agent-period 60s, the portal's pace)
  a cancelled wait        Ctrl-C while Terraform waits: the import goes on here

THE AGENT: how fast imports advance
  -agent-period D    the gap between runs: 60s on a portal; 2s to 5s to try things
  -agent background  every import one step every -agent-period (the default)
  -agent hits        as an on-premise portal without other traffic: a run starts
                     right after a request once it is due, takes -step-duration,
                     and the next falls due -agent-period after it ended
  -agent busy        hits, with another visitor's request every -traffic-every
  -agent cron        as a cloud portal: runs start on a cron tick every -cron-every

FLAGS
`

// printHelp writes the guide and the flags.
func printHelp(output io.Writer, fs *flag.FlagSet) {
	text := strings.NewReplacer(
		"{{code}}", emulator.DefaultWebhookCode,
		"{{manifests}}", strings.Join(emulator.RESTImportManifests, ", "),
	).Replace(helpText)
	fmt.Fprint(output, text)
	fs.PrintDefaults()
}
