// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseWebhookURL_Valid(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		host     string
		userID   string
		redacted string
	}{
		// name, URL, its host and user id, the URL redacted
		{"https with trailing slash", "https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/", "portal.bitrix24.com", "1", "https://portal.bitrix24.com/rest/1/***/"},
		{"trailing slash missing", "https://portal.bitrix24.de/rest/17/" + testWebhookCode, "portal.bitrix24.de", "17", "https://portal.bitrix24.de/rest/17/***/"},
		{"on-premise host with port", "https://crm.example.org:8443/rest/5/" + testWebhookCode + "/", "crm.example.org:8443", "5", "https://crm.example.org:8443/rest/5/***/"},
		{"upper-case scheme", "HTTPS://portal.bitrix24.com/rest/1/" + testWebhookCode + "/", "portal.bitrix24.com", "1", "https://portal.bitrix24.com/rest/1/***/"},
		{"surrounding whitespace", "  https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/\n", "portal.bitrix24.com", "1", "https://portal.bitrix24.com/rest/1/***/"},
		{"underscore in code", "https://portal.bitrix24.com/rest/1/abc_" + testWebhookCode + "/", "portal.bitrix24.com", "1", "https://portal.bitrix24.com/rest/1/***/"},
		{"http on 127.0.0.1", "http://127.0.0.1:8080/rest/1/" + testWebhookCode + "/", "127.0.0.1:8080", "1", "http://127.0.0.1:8080/rest/1/***/"},
		{"http on 127.0.0.0/8", "http://127.4.5.6/rest/1/" + testWebhookCode + "/", "127.4.5.6", "1", "http://127.4.5.6/rest/1/***/"},
		{"http on localhost", "http://localhost:3000/rest/1/" + testWebhookCode + "/", "localhost:3000", "1", "http://localhost:3000/rest/1/***/"},
		{"http on ::1", "http://[::1]:3000/rest/1/" + testWebhookCode, "[::1]:3000", "1", "http://[::1]:3000/rest/1/***/"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook, err := ParseWebhookURL(tt.raw)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if want := "//" + tt.host + "/rest/" + tt.userID + "/"; !strings.Contains(hook.base, want) {
				t.Errorf("base = %q, want the host and user id in %q", hook.base, want)
			}
			if got := hook.String(); got != tt.redacted {
				t.Errorf("String() = %q, want %q", got, tt.redacted)
			}
			assertNoSecret(t, "String()", hook.String())
			wantMethodURL := strings.TrimSuffix(strings.Replace(tt.redacted, "***", hook.code, 1), "/") +
				"/configuration.import.get.json"
			if got := hook.MethodURL("configuration.import.get"); got != wantMethodURL {
				t.Errorf("MethodURL() = %q, want %q", got, wantMethodURL)
			}
		})
	}
}

func TestParseWebhookURL_Invalid(t *testing.T) {
	code := testWebhookCode
	tests := []struct {
		name   string
		raw    string
		reason string // a part of the reason
	}{
		{"empty", "", "empty"},
		{"blank", "  \n", "empty"},
		{"http on a public host", "http://portal.bitrix24.com/rest/1/" + code + "/", "loopback"},
		{"http on a host named like localhost", "http://localhost.example.com/rest/1/" + code + "/", "loopback"},
		{"http on a private address", "http://10.0.0.1/rest/1/" + code + "/", "loopback"},
		{"other scheme", "ftp://portal.bitrix24.com/rest/1/" + code + "/", "https"},
		{"code missing", "https://portal.bitrix24.com/rest/1/", "no webhook code"},
		{"code missing, no slash", "https://portal.bitrix24.com/rest/1", "no webhook code"},
		{"user id missing", "https://portal.bitrix24.com/rest/", "no user id"},
		{"user id not a number", "https://portal.bitrix24.com/rest/admin/" + code + "/", "must be a number"},
		{"negative user id", "https://portal.bitrix24.com/rest/-1/" + code + "/", "must be a number"},
		{"query present", "https://portal.bitrix24.com/rest/1/" + code + "/?auth=" + code, "query"},
		{"empty query", "https://portal.bitrix24.com/rest/1/" + code + "/?", "query"},
		{"fragment present", "https://portal.bitrix24.com/rest/1/" + code + "/#" + code, "fragment"},
		{"empty fragment", "https://portal.bitrix24.com/rest/1/" + code + "/#", "fragment"},
		{"relative path", "/rest/1/" + code + "/", "absolute"},
		{"scheme missing", "portal.bitrix24.com/rest/1/" + code + "/", "absolute"},
		{"opaque", "https:portal.bitrix24.com/rest/1/" + code, "absolute"},
		{"host missing", "https:///rest/1/" + code + "/", "no host"},
		{"user info", "https://admin:" + code + "@portal.bitrix24.com/rest/1/" + code + "/", "user name"},
		{"method URL given", "https://portal.bitrix24.com/rest/1/" + code + "/profile.json", "method URL"},
		{"wrong prefix", "https://portal.bitrix24.com/api/1/" + code + "/", "/rest/"},
		{"no path", "https://portal.bitrix24.com", "/rest/"},
		{"code shorter than the portal issues", "https://portal.bitrix24.com/rest/1/abc123/", "shorter than the 16 characters"},
		{"hyphen in code", "https://portal.bitrix24.com/rest/1/" + code + "-x/", "letters, digits"},
		{"escaped character in code", "https://portal.bitrix24.com/rest/1/" + code + "%41/", "letters, digits"},
		{"bad escape", "https://portal.bitrix24.com/rest/1/" + code + "%zz/", "not a valid URL"},
		{"bad IPv6 host", "http://[::1/rest/1/" + code + "/", "not a valid URL"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook, err := ParseWebhookURL(tt.raw)
			if err == nil {
				t.Fatalf("got %v, want an error", hook)
			}
			var urlErr *WebhookURLError
			if !errors.As(err, &urlErr) {
				t.Fatalf("error is %T, want *WebhookURLError", err)
			}
			if !strings.Contains(urlErr.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", urlErr.Reason, tt.reason)
			}
			text := err.Error()
			if !strings.Contains(text, "must look like https://your-portal.bitrix24.com/rest/1/<webhook code>/") {
				t.Errorf("error does not show a valid value: %s", text)
			}
			assertNoSecret(t, "error", text)
			if strings.TrimSpace(tt.raw) != "" && strings.Contains(text, strings.TrimSpace(tt.raw)) {
				t.Errorf("error repeats the input: %s", text)
			}
		})
	}
}

func TestWebhook_Redact(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	in := `Post "https://portal.bitrix24.com/rest/1/` + testWebhookCode + `/profile.json": EOF; code ` + testWebhookCode
	want := `Post "https://portal.bitrix24.com/rest/1/***/profile.json": EOF; code ***`
	if got := hook.Redact(in); got != want {
		t.Errorf("Redact() = %q, want %q", got, want)
	}
	if got := hook.Redact("nothing secret"); got != "nothing secret" {
		t.Errorf("Redact() changed a text without the code: %q", got)
	}
}

func TestWebhook_Secrets(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.bitrix24.com/rest/1/" + testWebhookCode)
	if err != nil {
		t.Fatal(err)
	}
	if got := hook.Secrets(); len(got) != 1 || got[0] != testWebhookCode {
		t.Errorf("Secrets() = %q", got)
	}
}

// A portal message may quote the webhook URL cut short: whatever is left of
// the code, from six characters on, goes, in every form a URL takes in a
// text (plain, with PHP's escaped slashes, percent-encoded) and on its own.
func TestWebhook_Redact_codeCutShort(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{
		"path":            "Cannot fetch https://portal.bitrix24.com/rest/1/%s… (cut)",
		"escaped slashes": `{"url":"https:\/\/portal.bitrix24.com\/rest\/1\/%s"}`,
		"percent-encoded": "see ?back=https%%3A%%2F%%2Fportal.bitrix24.com%%2Frest%%2F1%%2F%s end",
		"another user id": "at /rest/17/%s",
		"alone":           "webhook %s expired",
	}
	for n := minMaskedSecretPrefix; n < len(testWebhookCode); n++ {
		cut := testWebhookCode[:n]
		for name, form := range forms {
			in := fmt.Sprintf(form, cut)
			want := fmt.Sprintf(form, "***")
			if got := hook.Redact(in); got != want {
				t.Errorf("%s, %d characters: Redact(%q) = %q, want %q", name, n, in, got, want)
			}
		}
	}
}

// Text that only resembles the code stays as it is: a start shorter than six
// characters, the code's letters in another case or order, a run from its
// middle, ordinary words it contains.
func TestWebhook_Redact_keepsOrdinaryText(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		"/rest/1/" + testWebhookCode[:minMaskedSecretPrefix-1] + "/",
		testWebhookCode[:minMaskedSecretPrefix-1] + "-" + testWebhookCode[minMaskedSecretPrefix-1:minMaskedSecretPrefix+2],
		strings.ToUpper(testWebhookCode),
		strings.ToLower(testWebhookCode),
		"/rest/1/" + testWebhookCode[1:] + "/",
		"Secret Hook: the section CRM_STATUS was imported",
	} {
		if got := hook.Redact(text); got != text {
			t.Errorf("Redact(%q) = %q, want it unchanged", text, got)
		}
	}
}
