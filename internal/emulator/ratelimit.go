// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import "time"

// RateLimit is the portal's leaky bucket: a counter that grows by one for
// each request it admits and drains continuously at Rate per second. A
// request that would take the counter above Burst is refused with HTTP 503
// QUERY_LIMIT_EXCEEDED: the method does not run and the counter does not
// grow. The zero value (any Burst <= 0) is no limit.
type RateLimit struct {
	Rate  float64 // how many requests drain per second
	Burst int     // the most the counter may hold
}

// The limits of the portal's plans.
var (
	StandardRateLimit   = RateLimit{Rate: 2, Burst: 50}
	EnterpriseRateLimit = RateLimit{Rate: 5, Burst: 250}
)

// leakyBucket counts requests against a RateLimit.
type leakyBucket struct {
	limit RateLimit
	level float64
	last  time.Time // when level was last drained
}

// admit drains the counter up to now and takes one request in, or refuses
// it, leaving the counter as it was.
func (b *leakyBucket) admit(now time.Time) bool {
	if b.limit.Burst <= 0 {
		return true
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.level = max(0, b.level-max(b.limit.Rate, 0)*elapsed)
		b.last = now
	}
	if b.level+1 > float64(b.limit.Burst) {
		return false
	}
	b.level++
	return true
}
