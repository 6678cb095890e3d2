// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package fakeclock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24/fakeclock"
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
