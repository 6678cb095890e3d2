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

// The retry policy is a small loop on the client's typed errors rather than
// go-retryablehttp: what to do depends on the Bitrix24 error code inside the
// body (QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT share HTTP 503), on the
// reset time OPERATION_TIME_LIMIT carries in its body, and on whether the
// portal has answered before, none of which a status-code policy sees. The
// same policy serves a plain request, a whole batch, and each command inside
// a batch (see batch_send.go). classify (failure.go) says what a failure is.
//
//   - The portal's rate limit (QUERY_LIMIT_EXCEEDED, an HTML 429) means
//     "slow down", not "broken": it is retried with jittered exponential
//     backoff for as long as ctx's deadline allows, and does not count
//     against MaxRetries. Without a deadline it counts as a fault, so that
//     nothing retries forever.
//   - Faults (5xx and gateway pages, dropped connections, connection
//     attempts without a reply, request timeouts, empty or truncated
//     bodies) are retried with the same backoff, up to MaxRetries times.
//   - OPERATION_TIME_LIMIT is retried once its operating_reset_at has
//     passed, when the answer gives it and it comes before ctx's deadline.
//   - An unreachable address (unknown host, refused connection) is retried
//     as a fault only once the portal has answered something: before that
//     it is a wrong URL.
//   - Everything else fails at once: credentials, access, unknown method,
//     OVERLOAD_LIMIT, an untrusted certificate, a failed TLS handshake,
//     plain HTTP on an https address.
//
// No retry outlives ctx: a backoff that would end after its deadline is
// not started, and the last failure is returned instead. A failure that
// the policy would have retried comes back as a *RetryError that says how
// many attempts were made.

// resetMargin is added to operating_reset_at, which the portal gives in
// whole seconds, so that the retry does not land a moment too early.
const resetMargin = 2 * time.Second

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

// retryState counts the tries of one request (or of one batch command).
type retryState struct {
	attempts  int // sent so far
	faults    int // retries spent on faults, against MaxRetries
	slowDowns int // retries spent on the rate limit
}

// next says whether err, the answer to the latest attempt, is worth
// another try and after how long; when it is not, it returns the error to
// give the caller. answered is whether the portal has ever answered the
// client. It counts the retry it allows.
func (p *retryPolicy) next(ctx context.Context, st *retryState, method string, err error, answered bool) (time.Duration, error) {
	f := classify(err)
	var apiErr *Error
	_, hasDeadline := ctx.Deadline()
	switch {
	case f == failSlowDown && !hasDeadline, f == failNoAnswer, f == failNoReply, f == failUnreachable && answered:
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
		if st.faults >= p.maxRetries {
			if st.attempts == 1 {
				return 0, err // retries are off: nothing to tell
			}
			return 0, &RetryError{Attempts: st.attempts, MaxRetries: p.maxRetries, Err: err}
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

	switch f {
	case failFault:
		st.faults++
		p.logger.Warn(ctx, "Bitrix24 request failed; trying again", map[string]any{
			"method":   method,
			"retry":    st.faults,
			"of":       p.maxRetries,
			"delay_ms": delay.Milliseconds(),
			"error":    err.Error(),
		})
	case failSlowDown:
		st.slowDowns++
		p.logger.Info(ctx, "Bitrix24 portal asked to slow down (its rate limit); trying again after a pause", map[string]any{
			"method":   method,
			"attempt":  st.attempts,
			"delay_ms": delay.Milliseconds(),
			"reason":   err.Error(),
		})
	default:
		p.logger.Info(ctx, "Bitrix24 method time limit reached; trying again when it resets", map[string]any{
			"method":   method,
			"delay_ms": delay.Milliseconds(),
		})
	}
	return delay, nil
}

// RetryError is the last failure of a request that the retry policy gave
// up on: MaxRetries faults were retried already, or another try would not
// be answered before the caller's deadline. errors.As finds the failure
// itself through it.
type RetryError struct {
	Attempts   int  // requests sent
	MaxRetries int  // the client's MaxRetries
	Deadline   bool // stopped by the deadline, not by MaxRetries
	Err        error
}

func (e *RetryError) Error() string {
	if e.Deadline {
		return fmt.Sprintf("%v; gave up after %s: the next try would come after the read's deadline", e.Err, count(e.Attempts, "attempt"))
	}
	return fmt.Sprintf("%v; gave up after %s (max_retries = %d)", e.Err, count(e.Attempts, "attempt"), e.MaxRetries)
}

func (e *RetryError) Unwrap() error { return e.Err }
