// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// serverClock maps the local clock to the portal's, from the time block of
// each answer: the smallest gap between an answer's arrival and the
// portal's finish is the offset (the rest was the way back). An answer
// whose gap is far from it (a frozen or jumping server clock) makes it
// untrusted, and the local clock stands in.
type serverClock struct {
	offset  time.Duration // local minus server
	sampled bool
	trusted bool
}

// serverClockSlack is how far an answer's gap may lie from the offset
// before the portal's clock is not trusted.
const serverClockSlack = 2 * time.Second

// sample takes an answer that arrived at (local time) with time block t.
func (c *serverClock) sample(at time.Time, t *Time) {
	if t == nil || t.Finish <= 0 {
		c.trusted = false
		return
	}
	gap := at.Sub(unixTime(t.Finish))
	c.trusted = !c.sampled || (gap-c.offset).Abs() < serverClockSlack
	if !c.sampled || gap < c.offset {
		c.offset = gap
	}
	c.sampled = true
}

// skew is what to subtract from a local time for the portal's: the offset,
// or zero while the portal's clock is not trusted.
func (c *serverClock) skew() time.Duration {
	if !c.trusted {
		return 0
	}
	return c.offset
}
