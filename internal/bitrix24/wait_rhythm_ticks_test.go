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
