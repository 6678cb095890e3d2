// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// TransportError means the request got no answer: DNS, a refused, timed-out
// or reset connection, a TLS handshake that failed, one request timing out.
// Its text is redacted: net/http's *url.Error quotes the request URL, which
// carries the webhook code. Problem says which of these it was.
//
// When the caller's context ends, the client returns its error instead.
type TransportError struct {
	Method string
	Err    error

	redact func(string) string
}

func (e *TransportError) Error() string {
	msg := e.Method + ": request failed"
	var timeoutErr *timeoutError
	if cause := problemCauses[e.Problem()]; cause != "" && !errors.As(e.Err, &timeoutErr) {
		msg += ": " + cause // the client's own timeouts say it themselves, at the end
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.redact != nil {
		msg = e.redact(msg)
	}
	return msg
}

func (e *TransportError) Unwrap() error {
	return e.Err
}

// TransportProblem is why a request got no answer. Callers turn it into
// advice: each one has a different fix.
type TransportProblem int

const (
	// ProblemNoAnswer: the connection was dropped or reset, or the answer
	// broke off. Worth another try.
	ProblemNoAnswer TransportProblem = iota
	// ProblemUnknownHost: the portal's host name does not resolve.
	ProblemUnknownHost
	// ProblemConnectionRefused: nothing listens on the port, or no route
	// leads to the host.
	ProblemConnectionRefused
	// ProblemConnectTimeout: the connection attempt got no reply at all.
	// Worth another try.
	ProblemConnectTimeout
	// ProblemCertificate: the portal's certificate is not trusted.
	ProblemCertificate
	// ProblemPlainHTTP: an https address answered plain HTTP: the scheme
	// or the port is wrong.
	ProblemPlainHTTP
	// ProblemTLSHandshake: the other side refused the TLS handshake with an
	// alert, or answered with something that is not TLS.
	ProblemTLSHandshake
	// ProblemTLSHandshakeTimeout: the portal accepted the connection and
	// sent no TLS answer in time: the port serves something else, or
	// something on the way holds the connection.
	ProblemTLSHandshakeTimeout
	// ProblemNoResponse: the portal accepted the connection and sent
	// nothing back within Config.RequestTimeout: it, or a gateway before
	// it, hangs.
	ProblemNoResponse
)

// problemCauses say the problems in words, where the wrapped error does
// not say them well enough.
var problemCauses = map[TransportProblem]string{
	ProblemUnknownHost:       "the portal's host name does not resolve",
	ProblemConnectionRefused: "the portal's host refused the connection",
	ProblemConnectTimeout:    "no reply to the connection attempt (a firewall may drop it)",
	ProblemPlainHTTP:         "the portal answered plain HTTP on an https address",
	ProblemTLSHandshake:      "the TLS handshake with the portal failed",
	// When net/http's own timeout (of Config.HTTPClient) cut it.
	ProblemTLSHandshakeTimeout: "TLS handshake timed out: the portal accepted the connection and sent no TLS answer",
}

// Problem says why the request got no answer.
func (e *TransportError) Problem() TransportProblem {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
		dnsErr           *net.DNSError
		opErr            *net.OpError
		timeoutErr       *timeoutError
		timeout          interface{ Timeout() bool }
	)
	switch {
	case errors.As(e.Err, &timeoutErr):
		return steps[timeoutErr.step].problem
	case errors.As(e.Err, &unknownAuthority), errors.As(e.Err, &invalid),
		errors.As(e.Err, &hostname), errors.As(e.Err, &verification):
		return ProblemCertificate
	case errors.Is(e.Err, http.ErrSchemeMismatch):
		return ProblemPlainHTTP
	case errors.As(e.Err, &recordHeader), errors.As(e.Err, &alert),
		// An alert the other side sent: crypto/tls wraps it, in a type of its
		// own, in a *net.OpError "remote error".
		errors.As(e.Err, &opErr) && opErr.Op == "remote error" && opErr.Err != nil && strings.HasPrefix(opErr.Err.Error(), "tls: "):
		return ProblemTLSHandshake
	case errors.As(e.Err, &timeout) && timeout.Timeout() && strings.HasSuffix(e.Err.Error(), "TLS handshake timeout"):
		// net/http's own (a transport's TLSHandshakeTimeout), of an unexported type.
		return ProblemTLSHandshakeTimeout
	case errors.As(e.Err, &dnsErr) && dnsErr.IsNotFound:
		return ProblemUnknownHost
	case errors.Is(e.Err, syscall.ECONNREFUSED), errors.Is(e.Err, syscall.EHOSTUNREACH),
		errors.Is(e.Err, syscall.ENETUNREACH):
		return ProblemConnectionRefused
	case errors.As(e.Err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		// A dialer's own timeout, as of Config.HTTPClient's transport.
		return ProblemConnectTimeout
	}
	return ProblemNoAnswer
}

// TransportProblemOf returns the problem of a *TransportError in err's
// chain; ok is false when there is none.
func TransportProblemOf(err error) (problem TransportProblem, ok bool) {
	if transportErr, ok := errors.AsType[*TransportError](err); ok {
		return transportErr.Problem(), true
	}
	return 0, false
}
