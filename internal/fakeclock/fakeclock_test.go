// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package fakeclock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

var _ bitrix24.Clock = (*fakeclock.Clock)(nil)

var start = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func TestJumping_timerFiresAtOnceAtItsEnd(t *testing.T) {
	c := fakeclock.NewJumping(start)
	timer := c.NewTimer(time.Minute)
	select {
	case at := <-timer.C():
		if !at.Equal(start.Add(time.Minute)) || !c.Now().Equal(at) {
			t.Errorf("fired at %v, now %v; want both a minute on", at, c.Now())
		}
	default:
		t.Fatal("the timer has not fired")
	}
	if got := <-c.TimerMade(); got != time.Minute {
		t.Errorf("TimerMade got %v", got)
	}
}

func TestJumping_deadlineStopsTheJump(t *testing.T) {
	c := fakeclock.NewJumping(start)
	ctx := c.WithDeadline(context.Background(), 30*time.Second)
	timer := c.NewTimer(time.Minute)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !c.Now().Equal(start.Add(30*time.Second)) {
		t.Errorf("ctx %v at %v; want it ended at 30s", ctx.Err(), c.Now())
	}
	if timer.Stop() != true {
		t.Error("the timer past the deadline fired")
	}
}

func TestManual_movesOnlyWhenAdvanced(t *testing.T) {
	c := fakeclock.New(start)
	timer := c.NewTimer(time.Minute)
	c.Advance(59 * time.Second)
	select {
	case <-timer.C():
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Second)
	if at := <-timer.C(); !at.Equal(start.Add(time.Minute)) {
		t.Errorf("fired at %v", at)
	}
	stopped := c.NewTimer(time.Second)
	stopped.Stop()
	if got := c.Timers(); len(got) != 1 || got[0] != time.Minute {
		t.Errorf("Timers = %v; want the minute only, not the timer stopped before it fired", got)
	}
}

// A jump carries a timeout along: the work it bounds took no fake time.
// Advance reaches it, and AdvanceToTimeout goes straight to it, stopping
// at a deadline that comes first.
func TestTimeout_jumpsCarryItAdvanceReachesIt(t *testing.T) {
	c := fakeclock.NewJumping(start)
	fired := make(chan time.Time, 2)
	c.AfterFunc(30*time.Second, func() { fired <- c.Now() })
	if got := <-c.TimeoutMade(); got != 30*time.Second {
		t.Errorf("TimeoutMade got %v", got)
	}
	c.NewTimer(time.Minute) // jumps to 1m; the timeout is now due at 1m30s
	c.Advance(29 * time.Second)
	select {
	case at := <-fired:
		t.Fatalf("fired at %v, carried along by the jump it should have been", at.Sub(start))
	case <-time.After(20 * time.Millisecond):
	}
	if moved, ok := c.AdvanceToTimeout(); !ok || moved != time.Second {
		t.Fatalf("AdvanceToTimeout moved %v, %v; want 1s", moved, ok)
	}
	if at := <-fired; !at.Equal(start.Add(90 * time.Second)) {
		t.Errorf("fired at %v, want 1m30s", at.Sub(start))
	}

	ctx := c.WithDeadline(context.Background(), 5*time.Second)
	stop := c.AfterFunc(10*time.Second, func() { fired <- c.Now() })
	if moved, ok := c.AdvanceToTimeout(); !ok || moved != 5*time.Second || ctx.Err() == nil {
		t.Errorf("moved %v (%v), ctx %v; want the deadline first, 5s on", moved, ok, ctx.Err())
	}
	if !stop() || stop() {
		t.Error("stop did not report stopping the pending timeout once")
	}
	if _, ok := c.AdvanceToTimeout(); ok {
		t.Error("a stopped timeout is still pending")
	}
}

// A deadline on the fake clock still ends with its parent, so that a test's
// real-time limit reaches a wait that would otherwise hang.
func TestManual_deadlineEndsWithItsParent(t *testing.T) {
	c := fakeclock.New(start)
	parent, cancel := context.WithCancel(context.Background())
	ctx := c.WithDeadline(parent, time.Hour)
	cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the deadline context did not end with its parent")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("Err = %v, want the parent's context.Canceled", ctx.Err())
	}

	ctx = c.WithDeadline(context.Background(), time.Minute)
	c.Advance(time.Minute)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err = %v, want context.DeadlineExceeded at the fake deadline", ctx.Err())
	}
}
