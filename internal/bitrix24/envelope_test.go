// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestCall_TimeFromCloud(t *testing.T) {
	portal := newTestPortal(t,
		ok(resultStarted),
		reply(http.StatusOK, `{"result":true,"time":{"start":"1700000000.5","finish":"1700000001.5","operating_reset_at":"1700000600"}}`),
		reply(http.StatusOK, `{"result":true,"time":"yesterday"}`),
	)
	client := portal.Client()

	resp, err := client.call(context.Background(), "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Time.OperatingResetAt == nil || *resp.Time.OperatingResetAt != 1629303600 {
		t.Errorf("Time = %+v", resp.Time)
	}

	resp, err = client.call(context.Background(), "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Time.Finish != 1700000001.5 || resp.Time.OperatingResetAt == nil || *resp.Time.OperatingResetAt != 1700000600 {
		t.Errorf("numbers sent as strings: Time = %+v", resp.Time)
	}

	resp, err = client.call(context.Background(), "m", nil)
	if err != nil {
		t.Fatalf("an unreadable time block failed the call: %v", err)
	}
	if resp.Time != nil {
		t.Errorf("Time = %+v, want nil", resp.Time)
	}
}

func TestCall_PortalErrors(t *testing.T) {
	tests := []struct {
		name        string
		reply       http.HandlerFunc
		code        string
		description string
		status      int
		transient   bool
		text        string
	}{
		{
			name:        "invalid credentials",
			reply:       reply(http.StatusUnauthorized, answerInvalidCredentials),
			code:        "INVALID_CREDENTIALS",
			description: "Invalid request credentials",
			status:      401,
			text:        "configuration.import.get: INVALID_CREDENTIALS: Invalid request credentials (HTTP 401)",
		},
		{
			name:        "invalid credentials with 403",
			reply:       reply(http.StatusForbidden, answerInvalidCredentials),
			code:        "INVALID_CREDENTIALS",
			description: "Invalid request credentials",
			status:      403,
			text:        "configuration.import.get: INVALID_CREDENTIALS: Invalid request credentials (HTTP 403)",
		},
		{
			name:        "method not found",
			reply:       reply(http.StatusNotFound, answerMethodNotFound),
			code:        "ERROR_METHOD_NOT_FOUND",
			description: "Method not found!",
			status:      404,
			text:        "configuration.import.get: ERROR_METHOD_NOT_FOUND: Method not found! (HTTP 404)",
		},
		{
			name:        "query limit",
			reply:       reply(http.StatusServiceUnavailable, answerQueryLimit),
			code:        "QUERY_LIMIT_EXCEEDED",
			description: "Too many requests",
			status:      503,
			transient:   true,
			text:        "configuration.import.get: QUERY_LIMIT_EXCEEDED: Too many requests (HTTP 503)",
		},
		{
			name:        "query limit with the old 429",
			reply:       reply(http.StatusTooManyRequests, answerQueryLimit),
			code:        "QUERY_LIMIT_EXCEEDED",
			description: "Too many requests",
			status:      429,
			transient:   true,
		},
		{
			name:        "overload",
			reply:       reply(http.StatusServiceUnavailable, answerOverload),
			code:        "OVERLOAD_LIMIT",
			description: "REST API is blocked due to overload.",
			status:      503,
		},
		{
			name:        "empty code",
			reply:       reply(http.StatusInternalServerError, answerEmptyCode),
			description: "Internal error",
			status:      500,
			transient:   true, // a 500 of any code: a read may try again
			text:        "configuration.import.get: error without a code: Internal error (HTTP 500)",
		},
		{
			name:      "empty code with 503",
			reply:     reply(http.StatusServiceUnavailable, `{"error":""}`),
			status:    503,
			transient: true,
			text:      "configuration.import.get: error without a code (HTTP 503)",
		},
		{
			name:        "error with 200",
			reply:       reply(http.StatusOK, `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the webhook token"}`),
			code:        "insufficient_scope",
			description: "The request requires higher privileges than provided by the webhook token",
			status:      200,
		},
		{
			name:        "error inside result",
			reply:       reply(http.StatusOK, answerProcessNotFound),
			code:        "PROCESS_NOT_FOUND",
			description: "Process doesn't found.",
			status:      200,
			text:        "configuration.import.get: PROCESS_NOT_FOUND: Process doesn't found. (HTTP 200)",
		},
		{
			// A 400 is an answer, not a redirect: insufficient_auth_type
			// comes with it.
			name:        "insufficient auth type with 400",
			reply:       reply(http.StatusBadRequest, `{"error":"insufficient_auth_type","error_description":"Application context required"}`),
			code:        "insufficient_auth_type",
			description: "Application context required",
			status:      400,
			text:        "configuration.import.get: insufficient_auth_type: Application context required (HTTP 400)",
		},
		{
			name:        "error inside result with a numeric code",
			reply:       ok(`{"error":404,"error_description":"Not found"}`),
			code:        "404",
			description: "Not found",
			status:      200,
			text:        "configuration.import.get: 404: Not found (HTTP 200)",
		},
		{
			name:   "error inside result without a description",
			reply:  ok(`{"error":"PROCESS_DID_NOT_CREATE"}`),
			code:   "PROCESS_DID_NOT_CREATE",
			status: 200,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := callError(t, tt.reply)

			apiErr := errorAs[*Error](t, err)
			if apiErr.Method != "configuration.import.get" || apiErr.Code != tt.code ||
				apiErr.Description != tt.description || apiErr.HTTPStatus != tt.status {
				t.Errorf("error = %+v", apiErr)
			}
			if got := transient(err); got != tt.transient {
				t.Errorf("transient = %v, want %v", got, tt.transient)
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.text)
			}
		})
	}
}

func TestCall_ResultWithErrorFieldsIsNotAnError(t *testing.T) {
	// Only a string (or number) "error" inside the result is a returned error.
	for _, result := range []string{`{"error":null,"x":1}`, `{"error":false}`, `{"error":{"a":1}}`, `{"errors":["x"]}`, `[]`, `true`} {
		portal := newTestPortal(t, ok(result))
		if _, err := portal.Client().call(context.Background(), "m", nil); err != nil {
			t.Errorf("result %s: %v", result, err)
		}
	}
}

func TestCall_NotAnEnvelope(t *testing.T) {
	tests := []struct {
		name        string
		reply       http.HandlerFunc
		status      int
		contentType string
		reason      string
		excerpt     string
		truncated   bool
		transient   bool
	}{
		{
			name:        "HTML gateway page",
			reply:       replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML),
			status:      502,
			contentType: "text/html",
			reason:      "an HTML page instead of JSON",
			excerpt:     "502 Bad Gateway",
			transient:   true,
		},
		{
			name:        "HTML with 200",
			reply:       replyAs(http.StatusOK, "text/html; charset=UTF-8", "<!DOCTYPE html><html><body>Maintenance</body></html>"),
			status:      200,
			contentType: "text/html",
			reason:      "an HTML page instead of JSON",
			excerpt:     "<!DOCTYPE html><html><body>Maintenance</body></html>",
		},
		{
			name:      "gateway timeout, plain text",
			reply:     replyAs(http.StatusGatewayTimeout, "text/plain", "upstream request timeout"),
			status:    504,
			reason:    "not JSON",
			excerpt:   "upstream request timeout",
			transient: true,
		},
		{
			name:      "truncated JSON",
			reply:     reply(http.StatusOK, `{"result":{"status":"P","progress":{"action":"lo`),
			status:    200,
			reason:    "truncated",
			excerpt:   `{"result":{"status":"P","progress":{"action":"lo`,
			truncated: true,
			transient: true,
		},
		{
			name:      "empty body",
			reply:     reply(http.StatusOK, ""),
			status:    200,
			reason:    "empty",
			transient: true, // a PHP fatal error leaves an empty 200
		},
		{
			name:      "empty body with 502",
			reply:     reply(http.StatusBadGateway, ""),
			status:    502,
			reason:    "empty",
			transient: true,
		},
		{
			name:    "neither result nor error",
			reply:   reply(http.StatusOK, `{"time":{"start":1}}`),
			status:  200,
			reason:  `neither "result" nor "error"`,
			excerpt: `{"time":{"start":1}}`,
		},
		{
			name:    "JSON list",
			reply:   reply(http.StatusOK, `[1,2]`),
			status:  200,
			reason:  "not an object",
			excerpt: "[1,2]",
		},
		{
			name:    "data after the JSON",
			reply:   reply(http.StatusOK, `{"result":true}{"result":false}`),
			status:  200,
			reason:  "not valid JSON",
			excerpt: `{"result":true}{"result":false}`,
		},
		{
			name:    "a closing brace after the JSON",
			reply:   reply(http.StatusOK, `{"result":true}}`),
			status:  200,
			reason:  "not valid JSON",
			excerpt: `{"result":true}}`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := callError(t, tt.reply)

			respErr := errorAs[*ResponseError](t, err)
			if respErr.Method != "configuration.import.get" || respErr.HTTPStatus != tt.status || respErr.Truncated != tt.truncated {
				t.Errorf("error = %+v", respErr)
			}
			if tt.contentType != "" && respErr.ContentType != tt.contentType {
				t.Errorf("ContentType = %q, want %q", respErr.ContentType, tt.contentType)
			}
			if !strings.Contains(respErr.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to mention %q", respErr.Reason, tt.reason)
			}
			if respErr.Excerpt != tt.excerpt {
				t.Errorf("Excerpt = %q, want %q", respErr.Excerpt, tt.excerpt)
			}
			if strings.ContainsAny(respErr.Excerpt, "\r\n") {
				t.Errorf("Excerpt has line breaks: %q", respErr.Excerpt)
			}
			if got := transient(err); got != tt.transient {
				t.Errorf("transient = %v, want %v", got, tt.transient)
			}
		})
	}
}

func TestCall_GatewayPageText(t *testing.T) {
	portal := newTestPortal(t, replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML))
	_, err := portal.Client().call(context.Background(), "configuration.import.get", nil)
	want := `configuration.import.get: unexpected answer from the portal (HTTP 502, text/html): an HTML page instead of JSON: "502 Bad Gateway"`
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %s", err, want)
	}
}

func TestCall_RedirectIsReported(t *testing.T) {
	var target string
	portal := newTestPortal(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	})
	target = "https://new-portal.bitrix24.com/rest/1/" + testWebhookCode + "/configuration.import.get.json"

	_, err := portal.Client().call(context.Background(), "configuration.import.get", map[string]any{"processId": 3})
	respErr := errorAs[*ResponseError](t, err)
	if respErr.HTTPStatus != http.StatusFound || !strings.Contains(respErr.Reason, "https://new-portal.bitrix24.com/rest/1/***/") {
		t.Errorf("error = %+v", respErr)
	}
	assertNoSecret(t, "error", err.Error())
	if transient(err) {
		t.Error("a redirect is transient")
	}
	if n := len(portal.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (the redirect must not be followed)", n)
	}
}
