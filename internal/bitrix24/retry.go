// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// retryPolicy is a small loop on the client's typed errors rather than
// go-retryablehttp: what to do depends on the error code inside the body
// (QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT share HTTP 503), on the reset
// time OPERATION_TIME_LIMIT carries, and on whether the portal has answered
// before. The rate limit is retried for as long as ctx's deadline allows
// (without one it counts as a fault), faults up to MaxRetries times, a
// timeout once only until the portal has answered, OPERATION_TIME_LIMIT at
// its reset, an unreachable address only once the portal has answered; the
// rest fails at once. No backoff outlives ctx's deadline.
type retryPolicy struct {
	maxRetries       int
	waitMin, waitMax time.Duration
	clock            Clock
	logger           Logger
}

// backoff is the pause before retry n (0-based): waitMin·2ⁿ capped at
// waitMax, of which a random half is taken off ("equal jitter"), so that
// many readers failing together do not come back together.
func (p *retryPolicy) backoff(n int) time.Duration {
	d := p.waitMax
	if n < 30 {
		d = min(p.waitMin<<n, p.waitMax)
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// resetMargin is added to operating_reset_at, which the portal gives in
// whole seconds, so that the retry does not land a moment too early.
const resetMargin = 2 * time.Second

// retryState counts the tries of one request (or of one batch command).
type retryState struct {
	attempts  int // sent so far
	faults    int // retries spent on faults, against MaxRetries
	slowDowns int // retries spent on the rate limit
}

// next says after how long to try again after err, the answer to the
// latest attempt, counting that retry; or else the error to give the caller,
// a *RetryError when the policy gave up on a failure it retries. answered is
// whether the portal has ever answered the client.
func (p *retryPolicy) next(ctx context.Context, st *retryState, method string, err error, answered bool) (time.Duration, error) {
	f := classify(err)
	var apiErr *Error
	_, hasDeadline := ctx.Deadline()
	limit := p.maxRetries // of retries of faults
	switch {
	case f == failSilence && !answered:
		limit = min(limit, 1) // a timeout of a portal that never answered: once
		f = failFault
	case f == failSlowDown && !hasDeadline, f == failNoAnswer, f == failSilence, f == failUnreachable && answered:
		f = failFault // counted against MaxRetries
	case f == failAtReset && (!errors.As(err, &apiErr) || apiErr.ResetAt.IsZero()):
		f = failFinal // its text says the method's window
	}
	if (f != failFault && f != failSlowDown && f != failAtReset) || ctx.Err() != nil {
		return 0, err
	}

	var delay time.Duration
	switch f {
	case failFault:
		if st.faults >= limit {
			if st.attempts == 1 {
				return 0, err // retries are off: nothing to tell
			}
			return 0, &RetryError{Attempts: st.attempts, MaxRetries: p.maxRetries, Unanswered: limit < p.maxRetries, Err: err}
		}
		delay = p.backoff(st.faults)
	case failSlowDown:
		delay = p.backoff(st.slowDowns)
	case failAtReset:
		delay = max(apiErr.ResetAt.Add(resetMargin).Sub(p.clock.Now()), 0)
	}
	if deadline, ok := ctx.Deadline(); ok && p.clock.Now().Add(delay).After(deadline) {
		if f == failAtReset {
			return 0, err // its text says when the method is available again
		}
		return 0, &RetryError{Attempts: st.attempts, MaxRetries: p.maxRetries, Deadline: true, Err: err}
	}

	fields := map[string]any{"method": method, "delay_ms": delay.Milliseconds()}
	switch f {
	case failFault:
		st.faults++
		fields["retry"], fields["of"], fields["error"] = st.faults, limit, err.Error()
		p.logger.Warn(ctx, "Bitrix24 request failed; trying again", fields)
	case failSlowDown:
		st.slowDowns++
		fields["attempt"], fields["reason"] = st.attempts, err.Error()
		p.logger.Info(ctx, "Bitrix24 portal asked to slow down (its rate limit); trying again after a pause", fields)
	default:
		p.logger.Info(ctx, "Bitrix24 method time limit reached; trying again when it resets", fields)
	}
	return delay, nil
}

// RetryError is the last failure of a request that the retry policy gave up
// on: after MaxRetries faults, after one timeout retried of a portal that
// never answered, or before a try the caller's deadline would cut. errors.As
// finds the failure through it.
type RetryError struct {
	Attempts   int  // requests sent
	MaxRetries int  // the client's MaxRetries
	Deadline   bool // stopped by the deadline, not by MaxRetries
	Unanswered bool // stopped after one retry: the portal has never answered this client
	Err        error
}

func (e *RetryError) Error() string {
	attempts := count(e.Attempts, "attempt")
	switch {
	case e.Deadline:
		return fmt.Sprintf("%v; gave up after %s: the next try would come after the read's deadline", e.Err, attempts)
	case e.Unanswered:
		return fmt.Sprintf("%v; gave up after %s: the portal has not answered once in this run, so a timeout is tried again only once", e.Err, attempts)
	}
	return fmt.Sprintf("%v; gave up after %s (max_retries = %d)", e.Err, attempts, e.MaxRetries)
}

func (e *RetryError) Unwrap() error { return e.Err }
