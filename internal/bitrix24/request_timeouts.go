// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"sync"
	"time"
)

// The timeouts of one attempt run on Config.Clock, one per step, moved on
// by net/http's trace hooks (which any transport calls, that of
// Config.HTTPClient too): so the time a silent portal takes to fail is the
// same on the real clock and on the fake one of the tests. The timeout of
// the step an attempt is in cancels it with a *timeoutError, which says
// what got no reply. The transport's own timeouts (tls.go) are longer, and
// only end a dial or a handshake that net/http goes on with for its pool
// after the request gave up.
const (
	// connectTimeout bounds connecting: resolving the host, the TCP
	// connection, a proxy's CONNECT. As long as net/http's default dialer.
	connectTimeout = 30 * time.Second
	// tlsHandshakeTimeout bounds the TLS handshake, as net/http's default
	// transport does.
	tlsHandshakeTimeout = 10 * time.Second
)

// requestStep is where an attempt is. It only moves forward.
type requestStep int

const (
	stepConnect requestStep = iota // resolving, connecting, a proxy's CONNECT: connectTimeout
	stepTLS                        // the TLS handshake: tlsHandshakeTimeout
	stepAnswer                     // connected, no byte of the answer yet: Config.RequestTimeout
	stepBody                       // the answer has begun, in the same RequestTimeout
)

// attemptTimeouts times the steps of one attempt.
type attemptTimeouts struct {
	clock  Clock
	answer time.Duration // Config.RequestTimeout
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	step  requestStep
	since time.Time   // when the step began
	stop  func() bool // stops the running timeout
	ended bool
}

// startAttempt returns ctx bounded by the timeouts of one attempt, which
// the caller ends when the attempt is over.
func startAttempt(ctx context.Context, clock Clock, answer time.Duration) (context.Context, *attemptTimeouts) {
	attemptCtx, cancel := context.WithCancelCause(ctx)
	a := &attemptTimeouts{clock: clock, answer: answer, cancel: cancel}
	a.mu.Lock()
	a.enterLocked(stepConnect, connectTimeout)
	a.mu.Unlock()
	return httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
		TLSHandshakeStart:    func() { a.enter(stepTLS, tlsHandshakeTimeout) },
		GotConn:              func(httptrace.GotConnInfo) { a.enter(stepAnswer, a.answer) },
		GotFirstResponseByte: func() { a.enter(stepBody, 0) },
	}), a
}

// enter moves the attempt on to step, under a timeout of d from now; 0
// keeps the running one. The hooks of a dial that outlives its attempt
// (net/http goes on dialing for its pool) come after end, or after the
// attempt got another connection, and change nothing.
func (a *attemptTimeouts) enter(step requestStep, d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ended && step > a.step {
		a.enterLocked(step, d)
	}
}

func (a *attemptTimeouts) enterLocked(step requestStep, d time.Duration) {
	a.step, a.since = step, a.clock.Now()
	if d == 0 {
		return
	}
	if a.stop != nil {
		a.stop()
	}
	cause := &timeoutError{step: step, after: d}
	a.stop = afterFunc(a.clock, d, func() { a.cancel(cause) })
}

// end stops the running timeout and releases the attempt's context.
func (a *attemptTimeouts) end() {
	a.mu.Lock()
	a.ended = true
	if a.stop != nil {
		a.stop()
	}
	a.mu.Unlock()
	a.cancel(nil)
}

// waitingFor says what the attempt waited for, and since when: for the
// error of a read whose deadline passed meanwhile.
func (a *attemptTimeouts) waitingFor() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	since := formatTimeout(a.clock.Now().Sub(a.since))
	switch a.step {
	case stepConnect:
		return "the connection attempt in flight had no reply (for " + since + ")"
	case stepTLS:
		return "the TLS handshake in flight had no answer (for " + since + ")"
	case stepAnswer:
		return "the portal had not answered the request in flight (sent " + since + " before)"
	default:
		return "the portal's answer to the request in flight was still coming (begun " + since + " before)"
	}
}

// timeoutError is an attempt cut by the timeout of its step: which step
// got no reply, within how long.
type timeoutError struct {
	step  requestStep
	after time.Duration
}

func (e *timeoutError) Error() string {
	after := formatTimeout(e.after)
	switch e.step {
	case stepConnect:
		return "no reply to the connection attempt within " + after + " (a firewall may drop it)"
	case stepTLS:
		return "TLS handshake timed out: the portal accepted the connection and sent no TLS answer within " + after
	case stepAnswer:
		return "the portal accepted the connection and sent nothing for " + after
	default:
		return "the portal's answer did not end within " + after
	}
}

func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// problem is the TransportProblem of the step that got no reply.
func (e *timeoutError) problem() TransportProblem {
	switch e.step {
	case stepConnect:
		return ProblemConnectTimeout
	case stepTLS:
		return ProblemTLSHandshakeTimeout
	case stepAnswer:
		return ProblemNoResponse
	default:
		return ProblemNoAnswer
	}
}

// formatTimeout writes a duration of seconds the way the portal's docs
// do, "70 s", rounded to the second; others as Go does.
func formatTimeout(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	if d >= time.Second && d < 10*time.Minute {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}

// requestLog is what the attempts of one request have met, for the error
// that says where the caller's deadline cut it: the failure of the last
// attempt that ended, and the attempt in flight.
type requestLog struct {
	mu       sync.Mutex
	last     error
	inFlight *attemptTimeouts // nil between attempts
}

// begin records the attempt now in flight.
func (l *requestLog) begin(a *attemptTimeouts) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight = a
}

// end records the end of the attempt in flight, and its failure if any.
func (l *requestLog) end(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight = nil
	if err != nil {
		l.last = err
	}
}

// timedOut is the error of a read of method whose deadline passed after
// it had run for after. earlier is the failure it met before this request,
// if any (a batch command's). A nil log has nothing in flight.
func (l *requestLog) timedOut(method string, after time.Duration, earlier error) *ReadTimeoutError {
	e := &ReadTimeoutError{Method: method, After: after, Last: earlier}
	if l == nil {
		return e
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight != nil {
		e.InFlight = l.inFlight.waitingFor()
	}
	if l.last != nil {
		e.Last = l.last
	}
	return e
}
