// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// The retry policy is a small loop on the client's typed errors rather than
// go-retryablehttp: what to do depends on the Bitrix24 error code inside the
// body (QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT share HTTP 503), on the
// reset time OPERATION_TIME_LIMIT carries in its body, and on whether the
// portal has answered before, none of which a status-code policy sees. The
// same policy serves a plain request, a whole batch, and each command inside
// a batch (see configuration_import_retry.go).
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
}

// backoff is the pause before retry n (0-based): waitMin·2ⁿ capped at
// waitMax, of which a random half is taken off ("equal jitter"), so that
// many readers failing together do not come back together.
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.waitMax
	if n < 30 {
		d = min(p.waitMin<<n, p.waitMax)
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// retryKind is how the policy treats one failure.
type retryKind int

const (
	noRetry       retryKind = iota
	retryFault              // counts against MaxRetries
	retrySlowDown           // the portal's rate limit: bounded by the deadline only
	retryAtReset            // OPERATION_TIME_LIMIT with a reset time
)

// retryKindOf classifies err for the policy.
func (c *Client) retryKindOf(err error) retryKind {
	var apiErr *Error
	switch {
	case isRateLimitAnswer(err):
		return retrySlowDown
	case IsTransient(err):
		return retryFault
	case IsUnreachable(err):
		if c.answered.Load() {
			return retryFault
		}
	case errors.As(err, &apiErr) && apiErr.HasCode(ErrorCodeOperationTimeLimit) && !apiErr.ResetAt.IsZero():
		return retryAtReset
	}
	return noRetry
}

// retryState counts the tries of one request (or of one batch command).
type retryState struct {
	attempts  int // sent so far
	faults    int // retries spent on faults, against MaxRetries
	slowDowns int // retries spent on the rate limit
}

// next says whether err, the answer to the latest attempt, is worth
// another try and after how long; when it is not, it returns the error to
// give the caller. It counts the retry it allows.
func (c *Client) next(ctx context.Context, st *retryState, method string, err error) (time.Duration, error) {
	kind := c.retryKindOf(err)
	_, hasDeadline := ctx.Deadline()
	if kind == retrySlowDown && !hasDeadline {
		kind = retryFault
	}
	if kind == noRetry || ctx.Err() != nil {
		return 0, err
	}

	var delay time.Duration
	switch kind {
	case retryFault:
		if st.faults >= c.retry.maxRetries {
			if st.attempts == 1 {
				return 0, err // retries are off: nothing to tell
			}
			return 0, &RetryError{Attempts: st.attempts, MaxRetries: c.retry.maxRetries, Err: err}
		}
		delay = c.retry.backoff(st.faults)
	case retrySlowDown:
		delay = c.retry.backoff(st.slowDowns)
	case retryAtReset:
		var apiErr *Error
		errors.As(err, &apiErr)
		delay = max(apiErr.ResetAt.Add(resetMargin).Sub(c.clock.Now()), 0)
	}
	if deadline, ok := ctx.Deadline(); ok && c.clock.Now().Add(delay).After(deadline) {
		if kind == retryAtReset {
			return 0, err // its text says when the method is available again
		}
		return 0, &RetryError{Attempts: st.attempts, MaxRetries: c.retry.maxRetries, Deadline: true, Err: err}
	}

	switch kind {
	case retryFault:
		st.faults++
		c.logger.Warn(ctx, "Bitrix24 request failed; trying again", map[string]any{
			"method":   method,
			"retry":    st.faults,
			"of":       c.retry.maxRetries,
			"delay_ms": delay.Milliseconds(),
			"error":    err.Error(),
		})
	case retrySlowDown:
		st.slowDowns++
		c.logger.Info(ctx, "Bitrix24 portal asked to slow down (its rate limit); trying again after a pause", map[string]any{
			"method":   method,
			"attempt":  st.attempts,
			"delay_ms": delay.Milliseconds(),
			"reason":   err.Error(),
		})
	default:
		c.logger.Info(ctx, "Bitrix24 method time limit reached; trying again when it resets", map[string]any{
			"method":   method,
			"delay_ms": delay.Milliseconds(),
		})
	}
	return delay, nil
}

// callWithRetries sends a request until it succeeds or the policy gives up.
// st holds the tries made so far: a read retried out of a batch goes on
// counting where its command left off.
func (c *Client) callWithRetries(ctx context.Context, method string, body []byte, st retryState) (*Response, error) {
	for {
		if err := c.waitForRateLimit(ctx, method); err != nil {
			return nil, err
		}
		st.attempts++
		resp, err := c.send(ctx, method, body)
		if err == nil {
			c.answered.Store(true)
			return resp, nil
		}
		c.noteFailure(err)
		delay, finalErr := c.next(ctx, &st, method, err)
		if finalErr != nil {
			return nil, finalErr
		}
		if sleepErr := sleep(ctx, c.clock, delay); sleepErr != nil {
			return nil, fmt.Errorf("%s: %w while waiting to try again after: %w", method, sleepErr, err)
		}
	}
}

// pollMayGoOn reports whether a wait goes on to its next poll after a poll
// failed with err, its retries spent. Connection problems end it until the
// portal has answered once: before that they mean a wrong address, or a
// firewall in the way, which the next poll will not get past either.
func (c *Client) pollMayGoOn(err error) bool {
	if problem, ok := TransportProblemOf(err); ok && problem == ProblemConnectTimeout {
		return c.answered.Load()
	}
	return IsTransient(err) || (IsUnreachable(err) && c.answered.Load())
}

// noteFailure learns what a failure says about the portal: that it
// answers, and that its bucket is full.
func (c *Client) noteFailure(err error) {
	if gotAnswer(err) {
		c.answered.Store(true)
	}
	if c.limiter != nil && isQueryLimit(err) {
		c.limiter.portalBucketFull(c.clock.Now())
	}
}

func isQueryLimit(err error) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && apiErr.HasCode(ErrorCodeQueryLimitExceeded)
}

// isRateLimitAnswer reports whether err is the portal, or a firewall in
// front of it, asking the client to slow down: QUERY_LIMIT_EXCEEDED, or an
// HTTP 429 that is not the portal's JSON (OPERATION_TIME_LIMIT also comes
// with 429, as a JSON error).
func isRateLimitAnswer(err error) bool {
	var respErr *ResponseError
	return isQueryLimit(err) || (errors.As(err, &respErr) && respErr.HTTPStatus == http.StatusTooManyRequests)
}

// gotAnswer reports whether err came with an answer from the portal (or a
// gateway in front of it), rather than none at all.
func gotAnswer(err error) bool {
	var apiErr *Error
	var respErr *ResponseError
	return errors.As(err, &apiErr) || errors.As(err, &respErr)
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
		return fmt.Sprintf("%v; gave up after %s: the next try would come after the read's deadline", e.Err, attemptCount(e.Attempts))
	}
	return fmt.Sprintf("%v; gave up after %s (max_retries = %d)", e.Err, attemptCount(e.Attempts), e.MaxRetries)
}

func (e *RetryError) Unwrap() error { return e.Err }

func attemptCount(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
