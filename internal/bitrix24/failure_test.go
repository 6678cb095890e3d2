// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

// transient is what IsTransient said before classify replaced it: a
// failure that the same read may not meet again after a short pause.
func transient(err error) bool {
	switch classify(err) {
	case failSlowDown, failFault, failNoAnswer, failSilence:
		return true
	}
	return false
}

func isCertificateProblem(err error) bool {
	problem, ok := TransportProblemOf(err)
	return ok && problem == ProblemCertificate
}

func TestClassify_errorKinds(t *testing.T) {
	apiErr := func(code string, status int) error {
		return &Error{Method: "m", Code: code, HTTPStatus: status}
	}
	transportErr := &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "https://p/rest/1/***/m.json", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}}
	dialTimeout := &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: &timeoutErr{}}}}
	refused := &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}
	unknownHost := &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "portal.invalid", IsNotFound: true}}}}
	untrusted := &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "u", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}}

	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"nil", nil, failPermanent},
		{"plain error", errors.New("boom"), failPermanent},
		{"context cancelled", fmt.Errorf("m: %w", context.Canceled), failPermanent},
		{"context deadline", fmt.Errorf("m: %w", context.DeadlineExceeded), failPermanent},

		{"transport error", transportErr, failNoAnswer},
		{"wrapped transport error", fmt.Errorf("poll 2: %w", transportErr), failNoAnswer},
		{"transport error from a dial timeout", dialTimeout, failSilence},
		{"connect timeout", timedOut(stepConnect), failSilence},
		{"TLS handshake timeout", timedOut(stepTLS), failSilence},
		{"net/http's own TLS handshake timeout", &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "u", Err: netHTTPTLSTimeout{}}}, failSilence},
		{"no answer to the request", timedOut(stepAnswer), failSilence},
		{"the answer broke off", timedOut(stepBody), failNoAnswer},
		{"read timed out", &ReadTimeoutError{Method: "m", Last: timedOut(stepAnswer)}, failPermanent},

		{"HTML 502", &ResponseError{HTTPStatus: 502}, failFault},
		{"HTML 504", &ResponseError{HTTPStatus: 504}, failFault},
		{"empty 500", &ResponseError{HTTPStatus: 500}, failFault},
		{"status unknown", &ResponseError{}, failFault},
		{"truncated 200", &ResponseError{HTTPStatus: 200, Truncated: true}, failFault},
		{"HTML 200", &ResponseError{HTTPStatus: 200}, failFinal},
		{"redirect", &ResponseError{HTTPStatus: 302}, failFinal},
		{"HTML 404", &ResponseError{HTTPStatus: 404}, failFinal},

		{"QUERY_LIMIT_EXCEEDED 503", apiErr("QUERY_LIMIT_EXCEEDED", 503), failSlowDown},
		{"QUERY_LIMIT_EXCEEDED 429", apiErr("QUERY_LIMIT_EXCEEDED", 429), failSlowDown},
		{"query_limit_exceeded, lower case", apiErr("query_limit_exceeded", 503), failSlowDown},
		{"OPERATION_TIME_LIMIT 429 (waits for its reset time instead)", apiErr("OPERATION_TIME_LIMIT", 429), failAtReset},
		{"INTERNAL_SERVER_ERROR 500", apiErr("INTERNAL_SERVER_ERROR", 500), failFault},
		{"ERROR_UNEXPECTED_ANSWER 500", apiErr("ERROR_UNEXPECTED_ANSWER", 500), failFault},
		{"unknown code 502", apiErr("SOMETHING", 502), failFault},
		{"unknown code 503", apiErr("SOMETHING", 503), failFault},
		{"unknown code 504", apiErr("SOMETHING", 504), failFault},
		{"empty code 503", apiErr("", 503), failFault},
		{"wrapped", fmt.Errorf("x: %w", apiErr("QUERY_LIMIT_EXCEEDED", 503)), failSlowDown},

		{"OVERLOAD_LIMIT 503", apiErr("OVERLOAD_LIMIT", 503), failFinal},
		{"PORTAL_DELETED 500", apiErr("PORTAL_DELETED", 500), failFinal},
		{"PORTAL_DELETED 503", apiErr("PORTAL_DELETED", 503), failFinal},
		{"INVALID_CREDENTIALS 401", apiErr("INVALID_CREDENTIALS", 401), failFinal},
		{"NO_AUTH_FOUND 401", apiErr("NO_AUTH_FOUND", 401), failFinal},
		{"expired_token 401", apiErr("expired_token", 401), failFinal},
		{"invalid_token 401", apiErr("invalid_token", 401), failFinal},
		{"insufficient_scope 401", apiErr("insufficient_scope", 401), failFinal},
		{"insufficient_auth_type 400", apiErr("insufficient_auth_type", 400), failFinal},
		{"user_access_error 401", apiErr("user_access_error", 401), failFinal},
		{"ACCESS_DENIED 403", apiErr("ACCESS_DENIED", 403), failFinal},
		{"WRONG_AUTH_TYPE 403", apiErr("WRONG_AUTH_TYPE", 403), failFinal},
		{"ERROR_METHOD_NOT_FOUND 404", apiErr("ERROR_METHOD_NOT_FOUND", 404), failFinal},
		{"PAYMENT_REQUIRED 402", apiErr("PAYMENT_REQUIRED", 402), failFinal},
		{"METHOD_CONFIRM_WAITING 401", apiErr("METHOD_CONFIRM_WAITING", 401), failFinal},
		{"METHOD_CONFIRM_DENIED 403", apiErr("METHOD_CONFIRM_DENIED", 403), failFinal},
		{"INVALID_REQUEST 400", apiErr("INVALID_REQUEST", 400), failFinal},
		{"error in result 200", &Error{Code: "PROCESS_NOT_FOUND", HTTPStatus: 200}, failFinal},
		{"unknown code 500", apiErr("SOMETHING", 500), failFault},
		{"empty code 500", apiErr("", 500), failFault},
		{"unknown code 400", apiErr("SOMETHING", 400), failFinal},

		{"refused connection", refused, failUnreachable},
		{"unknown host", unknownHost, failUnreachable},
		{"untrusted certificate", untrusted, failPermanent},
		{"empty 200", &ResponseError{HTTPStatus: 200, Empty: true}, failFault},
		{"HTML 429 from a WAF", &ResponseError{HTTPStatus: 429, ContentType: "text/html"}, failSlowDown},

		{"wait error", &WaitError{Err: context.DeadlineExceeded, LastErr: transportErr}, failPermanent},
		{"io error", io.ErrUnexpectedEOF, failPermanent},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// timedOut is a request cut by the client's own timeout in step.
func timedOut(step requestStep) error {
	return &TransportError{Method: "m", Err: &url.Error{Op: "Post", URL: "u", Err: &timeoutError{step: step, after: time.Minute}}}
}

// netHTTPTLSTimeout is net/http's tlsHandshakeTimeoutError, which is unexported.
type netHTTPTLSTimeout struct{}

func (netHTTPTLSTimeout) Error() string   { return "net/http: TLS handshake timeout" }
func (netHTTPTLSTimeout) Timeout() bool   { return true }
func (netHTTPTLSTimeout) Temporary() bool { return true }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// net's own timeout error matches context.DeadlineExceeded; a dial timeout
// must still be transient.
func (timeoutErr) Is(err error) bool { return err == context.DeadlineExceeded }

func TestIsAuthError_codes(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&Error{Code: "INVALID_CREDENTIALS", HTTPStatus: 401}, true},
		{&Error{Code: "insufficient_scope", HTTPStatus: 401}, true},
		{&Error{Code: "Insufficient_Auth_Type", HTTPStatus: 400}, true},
		{&Error{Code: "ACCESS_DENIED", HTTPStatus: 403}, true},
		{fmt.Errorf("poll 2: %w", &Error{Code: "expired_token"}), true},
		{&Error{Code: "ERROR_METHOD_NOT_FOUND", HTTPStatus: 404}, false},
		{&Error{Code: "QUERY_LIMIT_EXCEEDED", HTTPStatus: 503}, false},
		{&ResponseError{HTTPStatus: 401}, false},
		{nil, false},
	}
	for _, tc := range tests {
		if got := IsAuthError(tc.err); got != tc.want {
			t.Errorf("IsAuthError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
