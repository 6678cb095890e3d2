// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
)

// Error codes the portal answers with that callers compare with
// Error.HasCode: the portal's case varies (the OAuth ones arrive in lower
// case). failure.go lists every code the client knows.
const (
	ErrorCodeQueryLimitExceeded  = "QUERY_LIMIT_EXCEEDED"
	ErrorCodeOperationTimeLimit  = "OPERATION_TIME_LIMIT"
	ErrorCodeInternalServerError = "INTERNAL_SERVER_ERROR"
	ErrorCodeInvalidCredentials  = "INVALID_CREDENTIALS"
	ErrorCodeExpiredToken        = "expired_token"
	ErrorCodeInvalidToken        = "invalid_token"
	ErrorCodeInsufficientScope   = "insufficient_scope"
	ErrorCodeAccessDenied        = "ACCESS_DENIED"
)

// Error is any error the portal answered with: an error envelope
// ({"error": "CODE", "error_description": "text"}) or, with HTTP 200, the same
// pair inside the result.
type Error struct {
	Method      string
	Code        string // as sent; may be empty
	Description string
	HTTPStatus  int

	// ResetAt is when the method may be called again, from the answer's
	// time block (cloud portals send it with OPERATION_TIME_LIMIT); or zero.
	ResetAt time.Time
}

func (e *Error) Error() string {
	text := e.Method + ": " + cmp.Or(e.Code, "error without a code")
	if e.Description != "" {
		text += ": " + e.Description
	}
	text += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	switch {
	case !e.HasCode(ErrorCodeOperationTimeLimit):
		return text
	case e.ResetAt.IsZero():
		return text + "; the portal did not say when the method is available again (its window is 10 minutes)"
	}
	return text + "; the method is available again at " + e.ResetAt.UTC().Format(time.RFC3339)
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
	text := e.Method + ": unexpected answer from the portal"
	switch {
	case e.HTTPStatus != 0 && e.ContentType != "":
		text += fmt.Sprintf(" (HTTP %d, %s)", e.HTTPStatus, e.ContentType)
	case e.HTTPStatus != 0:
		text += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Reason != "" {
		text += ": " + e.Reason
	}
	if e.Excerpt != "" {
		text += fmt.Sprintf(": %q", e.Excerpt)
	}
	return text
}

// ReadTimeoutError means the caller's deadline passed before the read got
// its answer (errors.Is(err, context.DeadlineExceeded) holds). It says what
// the read waited for, and the failure it met before, as a read that times
// out is most often stuck on a portal that does not answer.
type ReadTimeoutError struct {
	Method   string
	After    time.Duration // from the start of the read
	InFlight string        // what the request in flight waited for; "" when none was
	Last     error         // the failure of the try before; nil when there was none
}

func (e *ReadTimeoutError) Error() string {
	return fmt.Sprintf("%s: the read timed out after %s %s", e.Method, roundWaited(e.After), e.Situation())
}

// Situation says where the read was when its time ran out, as "while the
// portal had not answered the request in flight (sent 40 s before); the
// try before failed: ...".
func (e *ReadTimeoutError) Situation() string {
	text := "before the portal answered it"
	if e.InFlight != "" {
		text = "while " + e.InFlight
	}
	if e.Last != nil {
		text += "; the try before failed: " + e.Last.Error()
	}
	return text
}

// Unwrap returns context.DeadlineExceeded.
func (e *ReadTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// count writes "1 poll", "2 polls".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
