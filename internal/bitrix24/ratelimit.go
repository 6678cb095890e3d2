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
// than it drains. One limiter serves every call of a client; a nil one
// does not limit.
type rateLimiter struct {
	limiter *rate.Limiter
	rate    float64
	burst   int
	clock   Clock
	logger  Logger
}

// newRateLimiter keeps one request of headroom below the portal's burst
// (while the burst allows it): requests reach the portal a little later than
// the client sends them, and a request that overtakes an earlier one by a
// few milliseconds would otherwise meet a bucket that is full by a hair.
func newRateLimiter(perSecond float64, burst int, clock Clock, logger Logger) *rateLimiter {
	return &rateLimiter{
		limiter: rate.NewLimiter(rate.Limit(perSecond), max(burst-1, 1)),
		rate:    perSecond,
		burst:   burst,
		clock:   clock,
		logger:  logger,
	}
}

// portalBucketFull is told that the portal refused a request for its rate
// limit: its bucket is full, whatever this client counted (another process,
// such as the terraform plan that ran just before, or another integration,
// filled it). The client's own bucket is emptied, so that the requests that
// follow come at the rate the portal drains rather than as a burst.
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
// It does not wait when the wait would end after ctx's deadline: the
// request could not be sent anyway.
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
		"rate_limit": l.rate,
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
