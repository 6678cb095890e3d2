// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// Whatever the client or the wait logs through a request's context, the
// webhook code is masked, in messages and in field values.
func TestRequestLogging_messagesAndFields(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = requestLogging(ctx, []string{testWebhookCode})

	tflogLogger{}.Debug(ctx, "POST http://127.0.0.1/rest/1/"+testWebhookCode+"/configuration.import.get", map[string]any{
		"url": "http://127.0.0.1/rest/1/" + testWebhookCode + "/configuration.import.get",
	})
	tflogLogger{}.Warn(ctx, "failed", map[string]any{"error": "dial " + testWebhookCode})
	logPollError(ctx, bitrix24.PollErrorEvent{ProcessID: 7, Poll: 2, Elapsed: time.Minute, Err: errString("gateway at /rest/1/" + testWebhookCode + "/")})

	logged := out.String()
	if strings.Contains(logged, testWebhookCode) {
		t.Fatalf("the log shows the webhook code:\n%s", logged)
	}
	if n := strings.Count(logged, "***"); n < 4 {
		t.Fatalf("expected the code masked in 4 places, found %d:\n%s", n, logged)
	}
}

// A line that quotes the webhook URL cut short is masked by the client's
// rule as well: any start of the code six characters or longer, in the
// message and in every field; a shorter start and ordinary words stay.
func TestRequestLogging_codeCutShort(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = requestLogging(ctx, []string{testWebhookCode})

	for n := 6; n < len(testWebhookCode); n++ {
		cut := testWebhookCode[:n]
		tflogLogger{}.Warn(ctx, "portal said: Cannot fetch http://127.0.0.1/rest/1/"+cut, map[string]any{
			"error":   `{"url":"http:\/\/127.0.0.1\/rest\/1\/` + cut + `"}`,
			"section": "%2Frest%2F1%2F" + cut,
		})
	}
	short := "/rest/1/" + testWebhookCode[:5] + " secrets: " + strings.ToUpper(testWebhookCode)
	tflogLogger{}.Info(ctx, short, map[string]any{"note": short})

	logged := out.String()
	for n := 6; n <= len(testWebhookCode); n++ {
		if strings.Contains(logged, testWebhookCode[:n]) {
			t.Fatalf("the log shows %d characters of the webhook code:\n%s", n, logged)
		}
	}
	if n := strings.Count(logged, "/rest/1/***"); n < 10 {
		t.Errorf("expected the cut code masked in 10 messages, found %d:\n%s", n, logged)
	}
	if n := strings.Count(logged, short); n != 2 {
		t.Errorf("a 5-character start or the code in capitals was masked:\n%s", logged)
	}
}

func TestLogPoll_fields(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	logPoll(ctx, bitrix24.PollEvent{
		ProcessID: 42,
		Poll:      3,
		Elapsed:   2*time.Minute + 1500*time.Microsecond,
		Status:    &bitrix24.ImportStatus{Status: "P", Progress: &bitrix24.ImportProgress{Action: "load", Step: 4, Section: "CRM_STATUS"}},
	})
	entry := onlyLogEntry(t, &out)
	want := map[string]any{
		"@level": "debug", "process_id": float64(42), "poll": float64(3), "status": "P", "state": "processing",
		"action": "load", "step": float64(4), "section": "CRM_STATUS", "elapsed": "2m0.002s",
	}
	expectFields(t, entry, want)
}

// A progress line is logged at INFO as the line itself: no fields but the
// subsystem's module, and with the webhook code masked like any other line.
func TestLogProgress_lineAlone(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = tflog.SetField(ctx, "tf_req_id", "9a1b") // as terraform-plugin-go sets it on every request
	ctx = requestLogging(ctx, []string{testWebhookCode})
	logProgress(ctx, "import 42: poll 2 failed: gateway at /rest/1/"+testWebhookCode+"/ (1m24s elapsed, 2 polls)")

	entry := onlyLogEntry(t, &out)
	want := map[string]any{
		"@level":   "info",
		"@message": "import 42: poll 2 failed: gateway at /rest/1/***/ (1m24s elapsed, 2 polls)",
		"@module":  "provider." + progressSubsystem,
	}
	for k := range entry {
		if _, ok := want[k]; !ok && k != "@timestamp" && k != "@caller" {
			t.Errorf("the progress line carries the field %s = %v", k, entry[k])
		}
	}
	expectFields(t, entry, want)
}

// onlyLogEntry is the one entry logged to out.
func onlyLogEntry(t *testing.T, out *bytes.Buffer) map[string]any {
	t.Helper()
	entries, err := tflogtest.MultilineJSONDecode(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("want one log entry, got %d", len(entries))
	}
	return entries[0]
}

// expectFields checks that entry has each field of want.
func expectFields(t *testing.T, entry, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if entry[k] != v {
			t.Errorf("%s = %#v, want %#v", k, entry[k], v)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// progressLogLine is a progress line as Terraform prints it with
// TF_LOG_PROVIDER=INFO: the provider's message and its module, nothing else
// (no @caller, no request fields in random order).
var progressLogLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \[INFO\]  ` +
	`provider\.terraform-provider-bitrix24_v[0-9.]+: (import \d+.*): @module=bitrix24\.progress timestamp=(\S+)$`)

// progressShape is a progress line with its times, ids and counts made
// alike, to compare the documented lines with a run's.
func progressShape(message string) string {
	message = regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+s\b`).ReplaceAllString(message, "<time>")
	return regexp.MustCompile(`\d+`).ReplaceAllString(message, "<n>")
}

// documentedProgressLines are the lines of the first fenced block of a docs
// template that shows progress lines.
func documentedProgressLines(t *testing.T, template string) []string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("../../templates", template))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(text), "```")[1:] {
		if strings.Contains(block, "@module=bitrix24.progress") {
			_, body, _ := strings.Cut(block, "\n") // after the block's language
			return strings.Split(strings.TrimSpace(body), "\n")
		}
	}
	t.Fatalf("templates/%s shows no progress lines", template)
	return nil
}

// With TF_LOG_PROVIDER=INFO the data source's wait and the resource's
// create write one line per change, in the action's words, before the wait
// a line for a warning about the settings, and no other line of the
// provider's at INFO, as the docs show them (checked line by line, times,
// ids and counts aside). The provider runs as a user installs it: a
// provider served by the test logs to the test, not to Terraform.
func TestAccProgressLog_linesAsDocumented(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	cli := newExampleCLI(t, portal.webhookURL())
	script := emulator.Script{Sections: []string{"CRM_STATUS"}, Files: 1, CreatedItems: []any{"pipeline"}}
	// poll_interval is the shortest: the emulator's import moves one step a
	// poll, and the wait warns about it.
	const wait = "  wait {\n    poll_interval = \"1s\"\n  }\n"

	for _, c := range []struct{ template, config, command string }{
		{"data-sources/configuration_import.md.tmpl", "data \"bitrix24_configuration_import\" \"crm\" {\n  process_id = %d\n%s}\n", "plan"},
		{"resources/configuration_import_wait.md.tmpl", "resource \"bitrix24_configuration_import_wait\" \"crm\" {\n  process_id = %d\n%s}\n", "apply"},
	} {
		id := portal.CreateProcess(script)
		oneRunPerPoll(portal, id)
		w := cli.workDir(t, map[string]string{"main.tf": withRequiredProviders(fmt.Sprintf(c.config, id, wait))})
		w.init()
		cmd := exec.Command(cli.path, "-chdir="+w.dir, c.command, "-input=false", "-no-color", "-auto-approve")
		if c.command == "plan" {
			cmd.Args = cmd.Args[:len(cmd.Args)-1]
		}
		cmd.Env = append(slices.Clone(cli.env), "TF_LOG_PROVIDER=INFO")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("terraform %s: %v\n%s", c.command, err, stderr.String())
		}

		var shapes []string
		warned := false
		for _, line := range strings.Split(stderr.String(), "\n") {
			m := progressLogLine.FindStringSubmatch(line)
			switch {
			case m != nil && strings.HasPrefix(m[2], fmt.Sprintf("import %d: warning: Polling more often", id)):
				warned = len(shapes) == 0
			case m != nil:
				shapes = append(shapes, progressShape(m[2]))
			case strings.Contains(line, "[INFO]  provider.terraform-provider-bitrix24") && !strings.Contains(line, "automatic mTLS"):
				t.Errorf("terraform %s: a line of the provider's at INFO that is no progress line: %s", c.command, line)
			}
		}
		if !warned {
			t.Errorf("terraform %s: no warning line before the first poll's:\n%s", c.command, stderr.String())
		}
		var documented []string
		for _, line := range documentedProgressLines(t, c.template) {
			m := progressLogLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("templates/%s documents a line Terraform does not print: %s", c.template, line)
				continue
			}
			documented = append(documented, progressShape(m[2]))
		}
		if got, want := strings.Join(shapes, "\n"), strings.Join(documented, "\n"); got != want {
			t.Errorf("terraform %s printed the progress lines\n%s\ntemplates/%s shows\n%s", c.command, got, c.template, want)
		}
	}
}
