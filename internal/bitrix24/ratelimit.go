// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter keeps a client under the portal's leaky bucket, which refuses
// requests with QUERY_LIMIT_EXCEEDED once more than its burst arrive faster
// than it drains. A nil one does not limit.
type rateLimiter struct {
	limiter *rate.Limiter
	burst   int // the portal's
	clock   Clock
	logger  Logger
}

// newRateLimiter keeps one request of headroom below the portal's burst
// (while the burst allows it): a request that overtakes an earlier one on
// the way to the portal would otherwise meet a bucket full by a hair.
func newRateLimiter(perSecond float64, burst int, clock Clock, logger Logger) *rateLimiter {
	return &rateLimiter{limiter: rate.NewLimiter(rate.Limit(perSecond), max(burst-1, 1)), burst: burst, clock: clock, logger: logger}
}

// portalBucketFull empties the client's bucket after the portal refused a
// request for its rate limit: another process (the terraform plan that ran
// just before, another integration) filled the portal's, so the requests
// that follow must come at the rate it drains rather than as a burst.
func (l *rateLimiter) portalBucketFull() {
	if l == nil {
		return
	}
	now := l.clock.Now()
	if tokens := int(l.limiter.TokensAt(now)); tokens > 0 {
		l.limiter.ReserveN(now, tokens)
	}
}

// RateLimitError means a request could not be sent before the caller's
// deadline without going over the client-side rate limit.
type RateLimitError struct {
	Method string
	Delay  time.Duration // how long the request would have had to wait
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: not sent: the client-side rate limit would delay it by %s, past the read's deadline",
		e.Method, e.Delay.Round(time.Millisecond))
}

// wait blocks until the limiter lets one request of method go, or ctx ends.
// A wait that would end after ctx's deadline fails at once.
func (l *rateLimiter) wait(ctx context.Context, method string) error {
	if l == nil {
		return nil
	}
	now := l.clock.Now()
	reservation := l.limiter.ReserveN(now, 1)
	delay := reservation.DelayFrom(now)
	if delay <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(delay).After(deadline) {
		reservation.CancelAt(now)
		return &RateLimitError{Method: method, Delay: delay}
	}
	l.logger.Debug(ctx, "Waiting for the client-side rate limit, which keeps the portal from refusing requests with QUERY_LIMIT_EXCEEDED", map[string]any{
		"method":     method,
		"delay_ms":   delay.Milliseconds(),
		"rate_limit": float64(l.limiter.Limit()),
		"rate_burst": l.burst,
	})
	if err := sleep(ctx, l.clock, delay); err != nil {
		reservation.CancelAt(l.clock.Now())
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// sleep waits d on clock, or until ctx ends (then it returns ctx.Err()).
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	timer := clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C():
		return nil
	}
}
