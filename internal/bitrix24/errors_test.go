// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"errors"
	"testing"
)

func TestError_texts(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{
			&Error{Method: "configuration.import.get", Code: "INVALID_CREDENTIALS", Description: "Invalid request credentials", HTTPStatus: 401},
			"configuration.import.get: INVALID_CREDENTIALS: Invalid request credentials (HTTP 401)",
		},
		{
			&Error{Method: "configuration.import.register", Code: "PROCESS_DID_NOT_CREATE", HTTPStatus: 200},
			"configuration.import.register: PROCESS_DID_NOT_CREATE (HTTP 200)",
		},
		{
			&ResponseError{Method: "m", HTTPStatus: 502, ContentType: "text/html", Reason: "an HTML page instead of JSON", Excerpt: "502 Bad Gateway"},
			`m: unexpected answer from the portal (HTTP 502, text/html): an HTML page instead of JSON: "502 Bad Gateway"`,
		},
		{
			&ResponseError{Method: "m", HTTPStatus: 200, Reason: "the body is empty"},
			`m: unexpected answer from the portal (HTTP 200): the body is empty`,
		},
		{
			&ResponseError{Method: "configuration.import.get", Reason: `the result has no "status"`, Excerpt: `{}`},
			`configuration.import.get: unexpected answer from the portal: the result has no "status": "{}"`,
		},
		{
			&TransportError{Method: "m", Err: errors.New("dial tcp: lookup portal: no such host")},
			"m: request failed: dial tcp: lookup portal: no such host",
		},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestError_HasCode(t *testing.T) {
	err := &Error{Code: "Expired_Token"}
	if !err.HasCode(ErrorCodeExpiredToken) || err.HasCode(ErrorCodeInvalidToken) {
		t.Error("HasCode does not compare codes case-insensitively")
	}
}
