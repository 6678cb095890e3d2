// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// assertNoCodeStart fails when text holds the webhook code or any start of
// it six characters or longer.
func assertNoCodeStart(t *testing.T, what, text string) {
	t.Helper()
	for n := len(testWebhookCode); n >= minMaskedSecretPrefix; n-- {
		if strings.Contains(text, testWebhookCode[:n]) {
			t.Errorf("%s shows %d characters of the webhook code: %s", what, n, text)
			return
		}
	}
}

func TestSecretPattern(t *testing.T) {
	if p := SecretPattern(""); p != nil {
		t.Errorf("SecretPattern(\"\") = %v, want nil: an empty secret would mask everything", p)
	}
	short := SecretPattern("a.b")
	if got := short.ReplaceAllString("a.b axb", "***"); got != "*** axb" {
		t.Errorf("a short secret: %q", got)
	}
	p := SecretPattern(testWebhookCode)
	for n := 0; n <= len(testWebhookCode); n++ {
		match := p.FindString("x/" + testWebhookCode[:n] + "/y")
		want := testWebhookCode[:n]
		if n < minMaskedSecretPrefix {
			want = ""
		}
		if match != want {
			t.Errorf("the first %d characters: match %q, want %q", n, match, want)
		}
	}
}

// An import quotes URLs in every text it reports: each one is redacted, the
// code cut at any length from six characters, and the JSON parts stay valid
// JSON with everything else as sent. In both modes: a batch's statuses are
// decoded by the same code as a plain read's.
func TestGet_everyTextOfAStatusIsRedacted(t *testing.T) {
	for n := minMaskedSecretPrefix; n < len(testWebhookCode); n++ {
		cut := testWebhookCode[:n]
		url := "https://portal/rest/1/" + cut
		escaped := `https:\/\/portal\/rest\/1\/` + cut // as PHP's json_encode writes it
		result := `{"status":"E",` +
			`"progress":{"action":"load ` + url + `","step":3,"section":"` + escaped + `"},` +
			`"notice":[{"code":"` + url + `","message":"Fetching ` + escaped + `…","type":"notice"}],` +
			`"errors":{"1":{"code":"","message":"` + url + ` failed","type":"error"}},` +
			`"exception":[{"code":"","message":"Cannot fetch ` + url + `","type":"exception"}],` +
			`"additional":{"source":"` + escaped + `","` + escaped + `":{"0":"<a&b>"},"n":1.50},` +
			`"createItemList":[{"ENTITY":"CRM_STATUS","URL":"` + escaped + `","TITLE":"a \"quoted\" ` + url + `"}]}`

		for _, plain := range []bool{true, false} {
			name := fmt.Sprintf("%d characters, plain reads %v", n, plain)
			portal := newTestPortal(t, ok(result))
			status, err := portal.Client(func(cfg *Config) { cfg.PlainReads = plain }).ConfigurationImport.Get(context.Background(), 42)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}

			masked := "https://portal/rest/1/***"
			texts := map[string]string{
				"progress.action":  status.Progress.Action,
				"progress.section": status.Progress.Section,
				"notice code":      status.Notices[0].Code,
				"notice":           status.Notices[0].Message,
				"error":            status.Errors[0].Message,
				"exception":        status.Exceptions[0].Message,
				"additional":       string(status.Additional),
				"createItemList":   string(status.CreatedItems),
				"the import error": ImportFailure(status).Error(),
			}
			for what, text := range texts {
				assertNoCodeStart(t, name+": "+what, text)
			}
			if status.Progress.Action != "load "+masked || status.Progress.Section != masked ||
				status.Notices[0].Code != masked || status.Errors[0].Message != masked+" failed" {
				t.Errorf("%s: the texts around the code changed: %+v %+v %+v", name, status.Progress, status.Notices, status.Errors)
			}

			wantAdditional := map[string]any{"source": masked, masked: map[string]any{"0": "<a&b>"}, "n": json.Number("1.50")}
			assertJSON(t, name+": additional", status.Additional, wantAdditional)
			wantItems := []any{map[string]any{"ENTITY": "CRM_STATUS", "URL": masked, "TITLE": `a "quoted" ` + masked}}
			assertJSON(t, name+": createItemList", status.CreatedItems, wantItems)
		}
	}
}

// assertJSON fails unless raw is valid JSON equal to want (numbers as
// json.Number).
func assertJSON(t *testing.T, what string, raw json.RawMessage, want any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var got any
	if err := dec.Decode(&got); err != nil {
		t.Errorf("%s is not valid JSON (%v): %s", what, err, raw)
		return
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %s, want %v", what, raw, want)
	}
}

// JSON without the code is handed back as it came, byte for byte.
func TestRedactJSONStrings_unchanged(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal/rest/1/" + testWebhookCode)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		`[]`, `{}`, `""`, `"\""`, `{"a\"b":["\\",1e3,"\u00e9",null,true]}`,
		`{"url":"https:\/\/portal\/rest\/1\/` + testWebhookCode[:minMaskedSecretPrefix-1] + `"}`,
	} {
		if got := redactJSONStrings(json.RawMessage(raw), hook.Redact); string(got) != raw {
			t.Errorf("redactJSONStrings(%s) = %s", raw, got)
		}
	}
}

// Error texts quote the portal (an error's description, a gateway page's
// title, the start of an unreadable body): the code cut short is redacted in
// each.
func TestCall_codeCutShortIsRedactedInErrors(t *testing.T) {
	for n := minMaskedSecretPrefix; n < len(testWebhookCode); n++ {
		cut := testWebhookCode[:n]
		replies := map[string]http.HandlerFunc{
			"error envelope": reply(http.StatusUnauthorized,
				`{"error":"INVALID_CREDENTIALS","error_description":"Webhook https:\/\/p\/rest\/1\/`+cut+` is not valid"}`),
			"error in result": ok(`{"error":"ACCESS_DENIED","error_description":"no access to /rest/1/` + cut + `"}`),
			"gateway page title": replyAs(http.StatusBadGateway, "text/html",
				"<html><head><title>502 at /rest/1/"+cut+"</title></head><body>nginx</body></html>"),
			"plain text body": replyAs(http.StatusInternalServerError, "text/plain",
				"Fatal error at https%3A%2F%2Fp%2Frest%2F1%2F"+cut),
		}
		for name, answer := range replies {
			portal := newTestPortal(t, answer)
			_, err := portal.Client().call(context.Background(), "configuration.import.get", nil)
			if err == nil {
				t.Fatalf("%s: no error", name)
			}
			what := fmt.Sprintf("%s, %d characters", name, n)
			assertNoCodeStart(t, what, err.Error())
			if !strings.Contains(err.Error(), "***") {
				t.Errorf("%s: the error does not quote the portal, masked: %v", what, err)
			}
		}
	}
}

// Only strings are redacted, as decoded: a number that happens to start like
// a code of digits stays (masking it would break the JSON), and a code
// written with escapes goes.
func TestRedactJSONStrings_stringsAsDecoded(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal/rest/1/1234567890abcdef")
	if err != nil {
		t.Fatal(err)
	}
	raw := `[1234567890,{"1234567890":"\/rest\/1\/\u0031234567890ab","k":"x"}]`
	want := `[1234567890,{"***":"/rest/1/***","k":"x"}]`
	if got := redactJSONStrings(json.RawMessage(raw), hook.Redact); string(got) != want {
		t.Errorf("redactJSONStrings(%s) = %s, want %s", raw, got, want)
	}
}

// Valid JSON stays valid, and no string of it holds a start of the code.
func FuzzRedactJSONStrings(f *testing.F) {
	for _, seed := range []string{
		`{"a":"/rest/1/` + testWebhookCode + `","b":[1,"x",null]}`,
		`["\/rest\/1\/` + testWebhookCode[:7] + `\u00e9\"","` + testWebhookCode[:6] + testWebhookCode[:9] + `"]`,
		`{"` + testWebhookCode[:8] + `":{"":"\\` + testWebhookCode[:6] + `\\"}}`,
		`"\u006b7Xq2Se"`, `[]`, `1e6`,
	} {
		f.Add(seed)
	}
	hook, err := ParseWebhookURL("https://portal/rest/1/" + testWebhookCode)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !json.Valid([]byte(raw)) {
			return
		}
		got := redactJSONStrings(json.RawMessage(raw), hook.Redact)
		dec := json.NewDecoder(bytes.NewReader(got))
		dec.UseNumber()
		var value any
		if err := dec.Decode(&value); err != nil {
			t.Fatalf("redactJSONStrings(%s) = %s: %v", raw, got, err)
		}
		// Every string as decoded, keys included: %v writes them as they are.
		assertNoCodeStart(t, "a string", fmt.Sprintf("%v", value))
	})
}
