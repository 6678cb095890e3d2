// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// Whatever the client or the wait logs through a request's context, the
// webhook code is masked, in messages and in field values.
func TestMaskSecrets_messagesAndFields(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = maskSecrets(ctx, []string{testWebhookCode})

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
func TestMaskSecrets_codeCutShort(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = maskSecrets(ctx, []string{testWebhookCode})

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
	entries, err := tflogtest.MultilineJSONDecode(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("want one log entry, got %d", len(entries))
	}
	want := map[string]any{
		"@level": "debug", "process_id": float64(42), "poll": float64(3), "status": "P", "state": "processing",
		"action": "load", "step": float64(4), "section": "CRM_STATUS", "elapsed": "2m0.002s",
	}
	for k, v := range want {
		if entries[0][k] != v {
			t.Errorf("%s = %#v, want %#v", k, entries[0][k], v)
		}
	}
}

// A progress line is logged at INFO as the line itself: no fields but the
// subsystem's module, and with the webhook code masked like any other line.
func TestLogProgress_lineAlone(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = tflog.SetField(ctx, "tf_req_id", "9a1b") // as terraform-plugin-go sets it on every request
	ctx = requestLogging(ctx, []string{testWebhookCode})
	logProgress(ctx, "import 42: poll 2 failed: gateway at /rest/1/"+testWebhookCode+"/ (1m24s elapsed, 2 polls)")

	entries, err := tflogtest.MultilineJSONDecode(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("want one log entry, got %d", len(entries))
	}
	want := map[string]any{
		"@level":   "info",
		"@message": "import 42: poll 2 failed: gateway at /rest/1/***/ (1m24s elapsed, 2 polls)",
		"@module":  "provider." + progressSubsystem,
	}
	for k := range entries[0] {
		if _, ok := want[k]; !ok && k != "@timestamp" && k != "@caller" {
			t.Errorf("the progress line carries the field %s = %v", k, entries[0][k])
		}
	}
	for k, v := range want {
		if entries[0][k] != v {
			t.Errorf("%s = %#v, want %#v", k, entries[0][k], v)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
