// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"fmt"
	"strings"
	"time"
)

// Error codes the portal answers with. Compare them with Error.HasCode: the
// portal's case varies (the OAuth ones arrive in lower case).
const (
	ErrorCodeQueryLimitExceeded   = "QUERY_LIMIT_EXCEEDED"
	ErrorCodeOperationTimeLimit   = "OPERATION_TIME_LIMIT"
	ErrorCodeOverloadLimit        = "OVERLOAD_LIMIT"
	ErrorCodeInternalServerError  = "INTERNAL_SERVER_ERROR"
	ErrorCodeUnexpectedAnswer     = "ERROR_UNEXPECTED_ANSWER"
	ErrorCodeMethodNotFound       = "ERROR_METHOD_NOT_FOUND"
	ErrorCodeInvalidCredentials   = "INVALID_CREDENTIALS"
	ErrorCodeNoAuthFound          = "NO_AUTH_FOUND"
	ErrorCodeExpiredToken         = "expired_token"
	ErrorCodeInvalidToken         = "invalid_token"
	ErrorCodeInsufficientScope    = "insufficient_scope"
	ErrorCodeInsufficientAuthType = "insufficient_auth_type"
	ErrorCodeUserAccessError      = "user_access_error"
	ErrorCodeAccessDenied         = "ACCESS_DENIED"
	ErrorCodeWrongAuthType        = "WRONG_AUTH_TYPE"
	ErrorCodePortalDeleted        = "PORTAL_DELETED"
	ErrorCodePaymentRequired      = "PAYMENT_REQUIRED"
	ErrorCodeMethodConfirmWaiting = "METHOD_CONFIRM_WAITING"
	ErrorCodeMethodConfirmDenied  = "METHOD_CONFIRM_DENIED"
	ErrorCodeInvalidRequest       = "INVALID_REQUEST"
)

// Error is any error the portal answered with: an error envelope
// ({"error": "CODE", "error_description": "text"}) or, with HTTP 200, the same
// pair inside the result (InResult).
type Error struct {
	Method      string
	Code        string // as sent; may be empty
	Description string
	HTTPStatus  int
	InResult    bool // the error came inside {"result": {...}}

	// ResetAt is when the method may be called again: the operating_reset_at
	// of the answer's time block, which cloud portals send with
	// OPERATION_TIME_LIMIT. Zero when the answer did not say.
	ResetAt time.Time
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString("error without a code")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	if e.HasCode(ErrorCodeOperationTimeLimit) {
		if e.ResetAt.IsZero() {
			b.WriteString("; the portal did not say when the method is available again (its window is 10 minutes)")
		} else {
			fmt.Fprintf(&b, "; the method is available again at %s", e.ResetAt.UTC().Format(time.RFC3339))
		}
	}
	return b.String()
}

// HasCode reports whether the error's code is code, ignoring case as the
// portal does.
func (e *Error) HasCode(code string) bool {
	return strings.EqualFold(e.Code, code)
}

// ResponseError means the answer was not a Bitrix24 envelope: an HTML gateway
// page, a truncated or oversize body, an empty body, a redirect.
type ResponseError struct {
	Method      string
	HTTPStatus  int // 0 when not known, e.g. from DecodeImportStatus on its own
	ContentType string
	Excerpt     string // short, single-line, redacted
	Reason      string
	Truncated   bool // the body ended before the JSON did
	Empty       bool // no body at all, as a PHP fatal error leaves it
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteString(": unexpected answer from the portal")
	switch {
	case e.HTTPStatus != 0 && e.ContentType != "":
		fmt.Fprintf(&b, " (HTTP %d, %s)", e.HTTPStatus, e.ContentType)
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, ": %q", e.Excerpt)
	}
	return b.String()
}

// requestTimeoutError replaces the context.DeadlineExceeded that net/http
// reports when Config.RequestTimeout cuts a request: the caller's own deadline
// did not pass, so the error must not look as if it had.
type requestTimeoutError struct {
	timeout string
}

func (e *requestTimeoutError) Error() string   { return "no answer within " + e.timeout }
func (e *requestTimeoutError) Timeout() bool   { return true }
func (e *requestTimeoutError) Temporary() bool { return true }

// count writes "1 poll", "2 polls".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
