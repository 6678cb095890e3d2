// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error codes the portal answers with. Compare them with Error.HasCode: the
// portal's case varies (the OAuth ones arrive in lower case).
const (
	ErrorCodeQueryLimitExceeded     = "QUERY_LIMIT_EXCEEDED"
	ErrorCodeOperationTimeLimit     = "OPERATION_TIME_LIMIT"
	ErrorCodeOverloadLimit          = "OVERLOAD_LIMIT"
	ErrorCodeInternalServerError    = "INTERNAL_SERVER_ERROR"
	ErrorCodeUnexpectedAnswer       = "ERROR_UNEXPECTED_ANSWER"
	ErrorCodeMethodNotFound         = "ERROR_METHOD_NOT_FOUND"
	ErrorCodeInvalidCredentials     = "INVALID_CREDENTIALS"
	ErrorCodeNoAuthFound            = "NO_AUTH_FOUND"
	ErrorCodeExpiredToken           = "expired_token"
	ErrorCodeInvalidToken           = "invalid_token"
	ErrorCodeInsufficientScope      = "insufficient_scope"
	ErrorCodeInsufficientAuthType   = "insufficient_auth_type"
	ErrorCodeUserAccessError        = "user_access_error"
	ErrorCodeAccessDenied           = "ACCESS_DENIED"
	ErrorCodeWrongAuthType          = "WRONG_AUTH_TYPE"
	ErrorCodePortalDeleted          = "PORTAL_DELETED"
	ErrorCodePaymentRequired        = "PAYMENT_REQUIRED"
	ErrorCodeMethodConfirmWaiting   = "METHOD_CONFIRM_WAITING"
	ErrorCodeMethodConfirmDenied    = "METHOD_CONFIRM_DENIED"
	ErrorCodeInvalidRequest         = "INVALID_REQUEST"
	ErrorCodeProcessNotFound        = "PROCESS_NOT_FOUND"
	ErrorCodeManifestIsNotAvailable = "ERROR_MANIFEST_IS_NOT_AVAILABLE"
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

// transientCodes are the portal errors after which the same read may succeed
// at once or after a backoff. OPERATION_TIME_LIMIT is not one of them: it
// lasts until its reset time, which Call waits for when it can.
var transientCodes = map[string]bool{
	ErrorCodeQueryLimitExceeded:  true, // the call never ran
	ErrorCodeInternalServerError: true,
	ErrorCodeUnexpectedAnswer:    true,
}

// permanentCodes are the portal errors other than authCodes that another try
// will not fix, even when they come with a status that otherwise means "try
// again" (OVERLOAD_LIMIT arrives with 503).
var permanentCodes = map[string]bool{
	ErrorCodeOverloadLimit:        true, // the portal was blocked by hand
	ErrorCodeOperationTimeLimit:   true, // until its reset time; see Call
	ErrorCodePortalDeleted:        true,
	ErrorCodeMethodNotFound:       true,
	ErrorCodePaymentRequired:      true,
	ErrorCodeMethodConfirmWaiting: true,
	ErrorCodeMethodConfirmDenied:  true,
	ErrorCodeInvalidRequest:       true,
}

// IsTransient reports whether err is a failure that the same read may not
// meet again after a short pause: a dropped connection or a request timeout,
// a gateway error page (5xx or 429), an empty or truncated body, the rate
// limit, a passing server error, a connection attempt without a reply.
// Authentication, access and "not found" errors, a time limit, an untrusted
// certificate, a failed TLS handshake, plain HTTP on an https address, an
// address where nothing answers, and the end of the caller's context are
// not transient.
//
// It looks through wrapped errors.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}

	var apiErr *Error
	if errors.As(err, &apiErr) {
		code := strings.ToUpper(apiErr.Code)
		switch {
		case transientCodes[code]:
			return true
		case permanentCodes[code], authCodes[code]:
			return false
		}
		switch apiErr.HTTPStatus {
		case 500, 502, 503, 504:
			return true
		}
		return false
	}

	var respErr *ResponseError
	if errors.As(err, &respErr) {
		return respErr.Truncated || respErr.Empty || respErr.HTTPStatus == 0 ||
			respErr.HTTPStatus >= 500 || respErr.HTTPStatus == http.StatusTooManyRequests
	}

	var transportErr *TransportError
	if errors.As(err, &transportErr) {
		switch transportErr.Problem() {
		case ProblemNoAnswer, ProblemConnectTimeout:
			return true
		}
	}
	return false
}

// authCodes are the portal errors that mean the credentials are wrong, have
// expired, or lack the rights for the method.
var authCodes = map[string]bool{
	ErrorCodeInvalidCredentials:                    true,
	ErrorCodeNoAuthFound:                           true,
	strings.ToUpper(ErrorCodeExpiredToken):         true,
	strings.ToUpper(ErrorCodeInvalidToken):         true,
	strings.ToUpper(ErrorCodeInsufficientScope):    true,
	strings.ToUpper(ErrorCodeInsufficientAuthType): true,
	strings.ToUpper(ErrorCodeUserAccessError):      true,
	ErrorCodeAccessDenied:                          true,
	ErrorCodeWrongAuthType:                         true,
}

// IsAuthError reports whether err is the portal refusing the credentials or
// their rights, so that callers can point the user at them.
func IsAuthError(err error) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && authCodes[strings.ToUpper(apiErr.Code)]
}
