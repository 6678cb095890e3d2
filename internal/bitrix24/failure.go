// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"errors"
	"net/http"
	"strings"
)

// failure is what a failed request or command means: whether and when to
// try again, and whether a wait goes on. classify decides it for a plain
// request, a batch, each command in one, and a wait's poll; the retry policy
// adds what the client knows, such as whether the portal has ever answered.
type failure int

// The failures an answer brings come first (answered reports it).
const (
	// failFinal: answered, and another try gets the same answer:
	// credentials, access, an unknown method, OVERLOAD_LIMIT, no envelope.
	failFinal failure = iota
	// failSlowDown: the portal, or a firewall before it, asks the client to
	// slow down: QUERY_LIMIT_EXCEEDED, an HTTP 429 page.
	failSlowDown
	// failAtReset: OPERATION_TIME_LIMIT, which lasts until its reset time.
	failAtReset
	// failFault: an answer that another try may not meet: a 5xx or gateway
	// page, a passing server error, an empty or truncated body.
	failFault
	// failNoAnswer: the connection dropped or reset, or the answer broke off.
	failNoAnswer
	// failSilence: nothing came back in time: no reply to the connection
	// attempt (a firewall that drops it), no TLS answer, or no answer within
	// Config.RequestTimeout (a portal or gateway that hangs).
	failSilence
	// failUnreachable: the host name does not resolve, or nothing listens.
	failUnreachable
	// failPermanent: no answer, and another try gets none either: an
	// untrusted certificate, a failed TLS handshake, plain HTTP on an https
	// address; also the end of the caller's context and any other error.
	failPermanent
)

// answered reports whether the portal (or a gateway before it) answered.
func (f failure) answered() bool { return f <= failFault }

// classify says what err, from a request or a command, is, wrapped or not.
func classify(err error) failure {
	var (
		apiErr       *Error
		respErr      *ResponseError
		transportErr *TransportError
	)
	switch {
	case errors.As(err, &apiErr):
		if f, known := codeFailure(apiErr.Code); known {
			return f
		}
		switch apiErr.HTTPStatus {
		case 500, 502, 503, 504:
			return failFault
		}
		return failFinal
	case errors.As(err, &respErr):
		switch {
		case respErr.HTTPStatus == http.StatusTooManyRequests:
			return failSlowDown
		case respErr.Truncated || respErr.Empty || respErr.HTTPStatus == 0 || respErr.HTTPStatus >= 500:
			return failFault
		}
		return failFinal
	case errors.As(err, &transportErr):
		switch transportErr.Problem() {
		case ProblemNoAnswer:
			return failNoAnswer
		case ProblemConnectTimeout, ProblemTLSHandshakeTimeout, ProblemNoResponse:
			return failSilence
		case ProblemUnknownHost, ProblemConnectionRefused:
			return failUnreachable
		}
	}
	return failPermanent
}

// codeFailures are the portal's error codes, in upper case, whose meaning
// does not depend on the HTTP status they come with (OVERLOAD_LIMIT and
// QUERY_LIMIT_EXCEEDED both arrive with 503); authCodes are final too.
var codeFailures = map[string]failure{
	ErrorCodeQueryLimitExceeded:  failSlowDown, // the call never ran
	ErrorCodeOperationTimeLimit:  failAtReset,
	ErrorCodeInternalServerError: failFault,
	"ERROR_UNEXPECTED_ANSWER":    failFault,
	"OVERLOAD_LIMIT":             failFinal, // the portal was blocked by hand
	"PORTAL_DELETED":             failFinal,
	"ERROR_METHOD_NOT_FOUND":     failFinal,
	"PAYMENT_REQUIRED":           failFinal,
	"METHOD_CONFIRM_WAITING":     failFinal,
	"METHOD_CONFIRM_DENIED":      failFinal,
	"INVALID_REQUEST":            failFinal,
}

// codeFailure is what the portal's error code says on its own; known is
// false for a code whose HTTP status decides.
func codeFailure(code string) (f failure, known bool) {
	code = strings.ToUpper(code)
	f, known = codeFailures[code]
	return f, known || authCodes[code] // an auth code's f is failFinal, the zero value
}

// authCodes, in upper case, are the portal errors that mean the credentials
// are wrong, have expired, or lack the rights for the method.
var authCodes = map[string]bool{
	ErrorCodeInvalidCredentials:                 true,
	"NO_AUTH_FOUND":                             true,
	strings.ToUpper(ErrorCodeExpiredToken):      true,
	strings.ToUpper(ErrorCodeInvalidToken):      true,
	strings.ToUpper(ErrorCodeInsufficientScope): true,
	"INSUFFICIENT_AUTH_TYPE":                    true,
	"USER_ACCESS_ERROR":                         true,
	ErrorCodeAccessDenied:                       true,
	"WRONG_AUTH_TYPE":                           true,
}

// IsAuthError reports whether err is the portal refusing the credentials or
// their rights, so that callers can point the user at them.
func IsAuthError(err error) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && authCodes[strings.ToUpper(apiErr.Code)]
}
