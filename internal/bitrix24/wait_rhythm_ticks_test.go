// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"testing"
	"time"
)

// The portal's clock, from the answers' time blocks: the smallest gap
// between arrival and the portal's finish is the offset; a frozen clock is
// not trusted.
func TestServerClock_offsetAndFrozenClock(t *testing.T) {
	local := time.Unix(1_700_000_000, 0)
	at := func(s float64) *Time { return &Time{Finish: s} }
	var c serverClock
	c.sample(local, at(1_700_000_000-30.5))                  // 30.5 s + the way back
	c.sample(local.Add(time.Minute), at(1_700_000_060-30.2)) // a faster answer
	if !c.trusted || c.offset != 30200*time.Millisecond {
		t.Fatalf("offset %v, trusted %v; want 30.2 s, trusted", c.offset, c.trusted)
	}
	if got := c.skew(); got != 30200*time.Millisecond {
		t.Errorf("skew = %v", got)
	}
	c.sample(local.Add(2*time.Minute), at(1_700_000_060-30.2)) // the server's clock stood still
	if c.trusted {
		t.Error("a frozen server clock is trusted")
	}
	if got := c.skew(); got != 0 {
		t.Errorf("untrusted skew = %v; want none, the local time", got)
	}
}

// A tick poll comes just after the portal's minute, mapped back to the
// local clock: here the portal's clock is 30.2 s behind.
func TestTickPlanner_pollsJustAfterThePortalsMinute(t *testing.T) {
	local := time.Unix(1_700_000_000, 0).Truncate(time.Minute)
	plan := &pollPlan{interval: time.Minute, changeLo: local.Add(-time.Minute), changeAt: local, lastRegular: local}
	tp := tickPlanner{pollPlan: plan, on: true, late: defaultTickLate}
	tp.server.sample(local, &Time{Finish: float64(local.Unix()) - 30.2})
	tp.plan(local, true, pollRhythm)
	// The next run can run from 56 s on (an interval less pollLate and the
	// tick's lateness): the portal's next minute then is local+90.2 s.
	if got := plan.next.Sub(local).Round(time.Millisecond); got != 90200*time.Millisecond+defaultTickLate || plan.nextKind != pollRhythm {
		t.Errorf("next poll %v after the change (%d); want 93.2 s, just after the portal's minute", got, plan.nextKind)
	}
}
