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
// by net/http's trace hooks, which any transport calls (Config.HTTPClient's
// too): so a silent portal takes as long to fail on the fake clock of the
// tests as on the real one. They are as long as net/http's defaults.
const (
	connectTimeout      = 30 * time.Second // resolving, the TCP connection, a proxy's CONNECT
	tlsHandshakeTimeout = 10 * time.Second
)

// requestStep is where an attempt is. It only moves forward.
type requestStep int

const (
	stepConnect requestStep = iota // connectTimeout
	stepTLS                        // tlsHandshakeTimeout
	stepAnswer                     // connected, no byte of the answer yet: Config.RequestTimeout
	stepBody                       // the answer has begun, in the same RequestTimeout
)

// steps say what a timeout cutting each step means, as a problem and in
// words, and what a read whose deadline passed in it was waiting for.
var steps = [...]struct {
	problem          TransportProblem
	timedOut, waited string
}{
	stepConnect: {ProblemConnectTimeout,
		"no reply to the connection attempt within %s (a firewall may drop it)",
		"the connection attempt in flight had no reply (for %s)"},
	stepTLS: {ProblemTLSHandshakeTimeout,
		"TLS handshake timed out: the portal accepted the connection and sent no TLS answer within %s",
		"the TLS handshake in flight had no answer (for %s)"},
	stepAnswer: {ProblemNoResponse,
		"the portal accepted the connection and sent nothing for %s",
		"the portal had not answered the request in flight (sent %s before)"},
	stepBody: {ProblemNoAnswer,
		"the portal's answer did not end within %s",
		"the portal's answer to the request in flight was still coming (begun %s before)"},
}

// attemptTimeouts times the steps of one attempt.
type attemptTimeouts struct {
	clock  Clock
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	step  requestStep
	since time.Time   // when the step began
	stop  func() bool // stops the running timeout
	ended bool
}

// startAttempt returns ctx bounded by the timeouts of one attempt (answer:
// Config.RequestTimeout), which the caller ends when the attempt is over.
// The step that times out cancels the attempt with a *timeoutError.
func startAttempt(ctx context.Context, clock Clock, answer time.Duration) (context.Context, *attemptTimeouts) {
	attemptCtx, cancel := context.WithCancelCause(ctx)
	a := &attemptTimeouts{clock: clock, cancel: cancel, step: stepConnect - 1}
	a.enter(stepConnect, connectTimeout)
	return httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
		TLSHandshakeStart:    func() { a.enter(stepTLS, tlsHandshakeTimeout) },
		GotConn:              func(httptrace.GotConnInfo) { a.enter(stepAnswer, answer) },
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
	if a.ended || step <= a.step {
		return
	}
	a.step, a.since = step, a.clock.Now()
	if d == 0 {
		return
	}
	if a.stop != nil {
		a.stop()
	}
	cause := &timeoutError{step: step, after: d}
	a.stop = a.clock.AfterFunc(d, func() { a.cancel(cause) })
}

// end stops the running timeout and releases the attempt's context.
func (a *attemptTimeouts) end() {
	a.mu.Lock()
	a.ended = true
	a.stop()
	a.mu.Unlock()
	a.cancel(nil)
}

// timeoutError is an attempt cut by the timeout of its step.
type timeoutError struct {
	step  requestStep
	after time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf(steps[e.step].timedOut, formatTimeout(e.after))
}

func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

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
	if a := l.inFlight; a != nil {
		a.mu.Lock()
		e.InFlight = fmt.Sprintf(steps[a.step].waited, formatTimeout(a.clock.Now().Sub(a.since)))
		a.mu.Unlock()
	}
	if l.last != nil {
		e.Last = l.last
	}
	return e
}
