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
// portal has answered before, none of which a status-code policy sees.
//
//   - Transient failures (IsTransient: the portal's rate limit, 5xx and
//     gateway pages, an HTML 429, dropped connections, request timeouts,
//     empty or truncated bodies) are retried with jittered exponential
//     backoff, up to MaxRetries times.
//   - OPERATION_TIME_LIMIT is retried once its operating_reset_at has
//     passed, when the answer gives it and it comes before ctx's deadline.
//   - An unreachable address (unknown host, refused connection) is retried
//     only once the portal has answered something: before that it is a
//     wrong URL.
//   - Everything else fails at once: credentials, access, unknown method,
//     OVERLOAD_LIMIT, an untrusted certificate.
//
// No retry outlives ctx: a backoff that would end after its deadline is
// not started, and the last failure is returned instead.

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

// callWithRetries sends a request until it succeeds or the policy gives up.
func (c *Client) callWithRetries(ctx context.Context, method string, body []byte) (*Response, error) {
	for retry := 0; ; retry++ {
		if err := c.waitForRateLimit(ctx, method); err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, method, body)
		if err == nil {
			c.answered.Store(true)
			return resp, nil
		}
		if gotAnswer(err) {
			c.answered.Store(true)
		}
		if c.limiter != nil && isQueryLimit(err) {
			c.limiter.portalBucketFull(c.clock.Now())
		}
		if ctx.Err() != nil || retry >= c.retry.maxRetries {
			return nil, err
		}
		delay, ok := c.retryDelay(err, retry)
		if !ok {
			return nil, err
		}
		if deadline, ok := ctx.Deadline(); ok && c.clock.Now().Add(delay).After(deadline) {
			return nil, err
		}
		c.logger.Warn(ctx, "Bitrix24 request failed; trying again", map[string]any{
			"method":   method,
			"retry":    retry + 1,
			"of":       c.retry.maxRetries,
			"delay_ms": delay.Milliseconds(),
			"error":    err.Error(),
		})
		if sleepErr := sleep(ctx, c.clock, delay); sleepErr != nil {
			return nil, fmt.Errorf("%s: %w while waiting to try again after: %w", method, sleepErr, err)
		}
	}
}

// retryDelay says whether err is worth another try, and after how long.
func (c *Client) retryDelay(err error, retry int) (time.Duration, bool) {
	var apiErr *Error
	switch {
	case IsTransient(err):
		return c.retry.backoff(retry), true
	case IsUnreachable(err):
		return c.retry.backoff(retry), c.answered.Load()
	case errors.As(err, &apiErr) && apiErr.HasCode(ErrorCodeOperationTimeLimit) && !apiErr.ResetAt.IsZero():
		return max(apiErr.ResetAt.Add(resetMargin).Sub(c.clock.Now()), 0), true
	}
	return 0, false
}

func isQueryLimit(err error) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && apiErr.HasCode(ErrorCodeQueryLimitExceeded)
}

// gotAnswer reports whether err came with an answer from the portal (or a
// gateway in front of it), rather than none at all.
func gotAnswer(err error) bool {
	var apiErr *Error
	var respErr *ResponseError
	return errors.As(err, &apiErr) || errors.As(err, &respErr)
}
