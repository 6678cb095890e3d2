// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// The pages that show the register call: the provider's registry page and
// the emulator's guide.
var registerCallPages = []string{"../../../docs/index.md", "../../../docs/guides/emulator.md"}

// registerCurl returns the curl command of configuration.import.register in
// text, its lines trimmed, without what a page wraps around it (process_id=$(
// and a pipe into jq).
func registerCurl(t *testing.T, what, text string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	start := slices.IndexFunc(lines, func(l string) bool {
		return strings.Contains(l, `curl -sS -X POST "${BITRIX24_WEBHOOK_URL}configuration.import.register.json"`)
	})
	if start < 0 {
		t.Fatalf("%s shows no curl of configuration.import.register", what)
	}
	var command []string
	for _, line := range lines[start:] {
		line = strings.TrimSpace(line)
		command = append(command, line)
		if strings.Contains(line, "}}'") {
			break
		}
	}
	command[0] = strings.TrimPrefix(command[0], "process_id=$(")
	last := len(command) - 1
	command[last] = strings.TrimSpace(strings.TrimSuffix(command[last], "|"))
	return strings.Join(command, "\n")
}

// docsRegisterBody is the JSON body of the registry page's register call.
func docsRegisterBody(t *testing.T) string {
	t.Helper()
	page, err := os.ReadFile(registerCallPages[0])
	if err != nil {
		t.Fatal(err)
	}
	curl := registerCurl(t, registerCallPages[0], string(page))
	_, body, _ := strings.Cut(curl, "-d '")
	body, _, _ = strings.Cut(body, "'")
	return body
}

func helpOutput(t *testing.T) string {
	t.Helper()
	var output strings.Builder
	if _, err := parseOptions([]string{"-help"}, &output); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help: %v, want flag.ErrHelp", err)
	}
	return output.String()
}

// -help is a user's guide: how to start the emulator and register an
// import, every scenario, how to rehearse each failure, the agent models,
// and every flag.
func TestPrintHelp_guide(t *testing.T) {
	help := helpOutput(t)
	want := []string{
		"START IT", "webhook_url=http://127.0.0.1:PORT/rest/1/" + emulator.DefaultWebhookCode + "/",
		"REGISTER AN IMPORT", `"MANIFEST": {"CODE": "landing_page"}`, "landing_page, landing_store, landing_knowledge, ui_masks",
		"SCENARIOS", "REHEARSE A FAILURE", "-fail-at STEP", "-scopes crm,user", "insufficient_scope", "INVALID_CREDENTIALS",
		"ERROR_MANIFEST_IS_NOT_AVAILABLE", "-rate-limit standard", "-tls -ca-file", "Ctrl-C",
		"THE AGENT", "-agent hits", "-agent busy", "-agent cron", "-step-duration", "FLAGS",
	}
	for name := range scenarios {
		want = append(want, "\n  "+name+" ")
	}
	for _, flagName := range []string{"agent", "agent-period", "step-duration", "traffic-every", "cron-every", "scenario",
		"manifests", "scopes", "fail-at", "fail-message", "fault", "rate-limit", "tls", "ca-file", "code", "ready-file"} {
		want = append(want, "\n  -"+flagName+" ")
	}
	for _, w := range want {
		if !strings.Contains(help, w) && !strings.Contains(help, strings.TrimSuffix(w, " ")+"\n") {
			t.Errorf("-help does not show %q", w)
		}
	}
}

// The register call of -help is the one the registry pages show, and the
// emulator, as its flags set it up by default, accepts it: the manifest code
// is written in the call, not left to an unset variable.
func TestPrintHelp_registerCallIsTheRegistryPages(t *testing.T) {
	helpCurl := registerCurl(t, "-help", helpOutput(t))
	for _, page := range registerCallPages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if pageCurl := registerCurl(t, page, string(text)); pageCurl != helpCurl {
			t.Errorf("%s shows\n%s\n-help shows\n%s", page, pageCurl, helpCurl)
		}
	}

	opts, err := parseOptions(nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	portal := emulator.New(opts.portalConfig())
	defer portal.Close()
	server := httptest.NewServer(portal)
	defer server.Close()
	status, body := register(t, server.URL+portal.WebhookPath(), docsRegisterBody(t))
	var answer struct{ Result struct{ ProcessID int64 } }
	if err := json.Unmarshal(body, &answer); status != http.StatusOK || err != nil || answer.Result.ProcessID == 0 {
		t.Errorf("the registry page's call: HTTP %d %s, want a processId", status, body)
	}
}
