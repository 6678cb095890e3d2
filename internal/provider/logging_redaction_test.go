// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// minShownCodeStart is the shortest start of the webhook code that must
// never be shown: the client's rule masks six characters and more.
const minShownCodeStart = 6

// codeStart returns the longest start of the webhook code, six characters
// or longer, that text holds; "" when it holds none.
func codeStart(text []byte) string {
	for n := len(testWebhookCode); n >= minShownCodeStart; n-- {
		if bytes.Contains(text, []byte(testWebhookCode[:n])) {
			return testWebhookCode[:n]
		}
	}
	return ""
}

// cutWebhookURLs quotes the webhook URL cut short at every length of the
// code from six characters to one short of whole, as a portal message that
// shortens a URL does.
func cutWebhookURLs() []string {
	var urls []string
	for n := minShownCodeStart; n < len(testWebhookCode); n++ {
		urls = append(urls, "https://portal.example/rest/1/"+testWebhookCode[:n])
	}
	return urls
}

// maskedWebhookURL is what every one of cutWebhookURLs becomes.
const maskedWebhookURL = "https://portal.example/rest/1/***"

// noCodeStartInState fails when the state holds the webhook code or any
// start of it six characters or longer, and when it does not hold the
// masked URLs: the check would prove nothing.
type noCodeStartInState struct{}

func (noCodeStartInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	data, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if start := codeStart(data); start != "" {
		resp.Error = fmt.Errorf("the state holds %d characters of the webhook code: %s", len(start), data)
		return
	}
	// section, messages, additional (a JSON string in the state) and created items.
	if n := bytes.Count(data, []byte(maskedWebhookURL)); n < 4*len(cutWebhookURLs()) {
		resp.Error = fmt.Errorf("the state holds the masked URL %d times, want at least %d: %s", n, 4*len(cutWebhookURLs()), data)
	}
}

// A portal that quotes the webhook URL cut short, at every length, in an
// import's progress, messages, additional data and created items, in error
// descriptions and a gateway page's title, and a logger that logs those
// URLs as they are: a plan at TRACE leaves no start of the code six
// characters or longer in the log (Terraform's and the provider's), the
// state or the errors shown.
func TestAccProvider_codeCutShortStaysOutOfLogsStateAndErrors(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "terraform.log")
	t.Setenv("TF_ACC_LOG_PATH", logFile) // TRACE for the CLI and the provider alike

	urls := cutWebhookURLs()
	allURLs := strings.Join(urls, " ")
	var messages []emulator.ScriptedMessage
	additional := map[string]any{}
	var items []map[string]any
	for i, url := range urls {
		messages = append(messages, emulator.ScriptedMessage{AtRun: 1, Type: "notice", Code: url, Message: "Fetching " + url})
		additional[url] = map[string]any{"source": url}
		items = append(items, map[string]any{"ENTITY": "CRM_STATUS", "ID": i + 1, "TITLE": url})
	}

	portal, finished := portalWithRunningImport(t, emulator.Script{Sections: urls, Messages: messages, Additional: additional, CreatedItems: items}, testAgentPeriod)
	running := portal.CreateProcess(emulator.Script{Sections: urls})
	for info, _ := portal.Process(running); info.Section == ""; info, _ = portal.Process(running) {
		portal.Advance(running, 1)
	}
	portal.InjectFault("", emulator.ErrorFault(500, "INTERNAL_SERVER_ERROR", "Fatal error at "+allURLs))
	portal.InjectFault("", emulator.Fault{HTTPStatus: 502, ContentType: "text/html",
		Body: "<html><head><title>502 Bad Gateway " + allURLs + "</title></head><body>nginx</body></html>"})

	factories := testProviderFactoriesWith(func(p *bitrix24Provider) {
		p.pollIntervalOverride = testPollInterval
		p.configureClient = func(cfg *bitrix24.Config) {
			fastRetries(cfg)
			cfg.RateLimit = 0
			// Only the log masks stand between these lines and the log.
			cfg.Logger = quotingLogger{text: allURLs}
		}
	})
	refused := &cutCodeErrorCheck{want: expectError(`ACCESS_DENIED`)}
	config := dataSourceConfig("finished", finished, "  wait {}\n") + dataSourceConfig("running", running, "")
	t.Setenv(envVarOf("webhook_url"), portal.webhookURL())
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		ErrorCheck:               refused.check,
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: []statecheck.StateCheck{noCodeStartInState{}},
			},
			{
				PreConfig: func() {
					portal.InjectFault("", emulator.ErrorFault(403, "ACCESS_DENIED", "No access to "+allURLs))
				},
				Config: config,
			},
		},
	})
	if !refused.seen {
		t.Fatalf("expected an error matching %s, got none", refused.want)
	}

	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(logged, []byte("\n")) {
		if start := codeStart(line); start != "" {
			t.Errorf("a log line shows %d characters of the webhook code: %s", len(start), line)
		}
	}
	// The log must hold what could have leaked, masked: the retries with
	// the portal's error and page title, the polls' sections, the leaky
	// logger's lines.
	for _, want := range []string{
		"Bitrix24 request failed; trying again", "Fatal error at " + maskedWebhookURL,
		"502 Bad Gateway " + maskedWebhookURL, `section="` + maskedWebhookURL, "Polled configuration import",
		"Calling Bitrix24 REST method " + maskedWebhookURL,
	} {
		if !bytes.Contains(logged, []byte(want)) {
			t.Errorf("the TRACE log has no %q: the test would prove nothing", want)
		}
	}
	t.Logf("checked %d bytes of TRACE log", len(logged))
}

// quotingLogger logs the client's lines with text added to the message and
// as a field, as a careless logger in the client's place might: only the
// masks of the request's context stand between text and the log.
type quotingLogger struct{ text string }

func (l quotingLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	fields = maps.Clone(fields)
	fields["quoted"] = l.text
	tflog.Debug(ctx, msg+" "+l.text, fields)
}

func (l quotingLogger) Info(ctx context.Context, msg string, fields map[string]any) {
	l.Debug(ctx, msg, fields)
}

func (l quotingLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	l.Debug(ctx, msg, fields)
}

// cutCodeErrorCheck passes an error that matches want and shows no start of
// the webhook code six characters or longer, but the masked URL.
type cutCodeErrorCheck struct {
	want *regexp.Regexp
	seen bool
}

func (c *cutCodeErrorCheck) check(err error) error {
	switch {
	case err == nil:
		return nil
	case codeStart([]byte(err.Error())) != "":
		return fmt.Errorf("the error shows %d characters of the webhook code: %w", len(codeStart([]byte(err.Error()))), err)
	case !c.want.MatchString(err.Error()) || !strings.Contains(err.Error(), maskedWebhookURL):
		return fmt.Errorf("expected an error matching %s and quoting %s, got: %w", c.want, maskedWebhookURL, err)
	}
	c.seen = true
	return nil
}
