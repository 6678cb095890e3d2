// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"sync"
	"time"
)

// fakeClock is a Clock whose time moves only when told to. In auto mode,
// NewTimer moves time to the timer's end at once (and fires it), so a wait
// runs at full speed while every reading of Now is exact; a pending fake
// deadline that comes first wins instead.
type fakeClock struct {
	mu        sync.Mutex
	now       time.Time
	auto      bool
	timers    []*fakeTimer
	created   []time.Duration // the duration of every NewTimer
	deadlines []*fakeDeadlineCtx

	// timerCreated receives a value (when there is room) on each NewTimer.
	timerCreated chan time.Duration
}

// fakeEpoch lies an hour ahead of the real time, so that a fake deadline,
// which the client reads with ctx.Deadline, is never in the real past: the
// network code would otherwise give up on it before sending anything.
var fakeEpoch = time.Now().Add(time.Hour).Truncate(time.Second)

func newFakeClock(auto bool) *fakeClock {
	return &fakeClock{now: fakeEpoch, auto: auto, timerCreated: make(chan time.Duration, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	c.timers = append(c.timers, t)
	c.created = append(c.created, d)
	if c.auto {
		if dl := c.earliestDeadlineLocked(); dl != nil && !dl.at.After(t.at) {
			c.now = dl.at
			c.expireDeadlinesLocked()
		} else {
			c.advanceLocked(t.at)
		}
	}
	c.mu.Unlock()

	select {
	case c.timerCreated <- d:
	default:
	}
	return t
}

// Advance moves time forward by d, firing timers and deadlines due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(c.now.Add(d))
}

// Timers returns the durations of all timers made so far.
func (c *fakeClock) Timers() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.created...)
}

func (c *fakeClock) advanceLocked(to time.Time) {
	c.now = to
	for _, t := range c.timers {
		if !t.fired && !t.stopped && !t.at.After(c.now) {
			t.fired = true
			t.c <- t.at
		}
	}
	c.expireDeadlinesLocked()
}

func (c *fakeClock) earliestDeadlineLocked() *fakeDeadlineCtx {
	var first *fakeDeadlineCtx
	for _, dl := range c.deadlines {
		if !dl.expired && (first == nil || dl.at.Before(first.at)) {
			first = dl
		}
	}
	return first
}

func (c *fakeClock) expireDeadlinesLocked() {
	for _, dl := range c.deadlines {
		if !dl.expired && !dl.at.After(c.now) {
			dl.expired = true
			close(dl.done)
		}
	}
}

// WithDeadline returns a context that ends with context.DeadlineExceeded when
// the fake time reaches now+d, and reports that time as its Deadline.
func (c *fakeClock) WithDeadline(parent context.Context, d time.Duration) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	dl := &fakeDeadlineCtx{Context: parent, at: c.now.Add(d), done: make(chan struct{})}
	c.deadlines = append(c.deadlines, dl)
	return dl
}

type fakeTimer struct {
	clock   *fakeClock
	c       chan time.Time
	at      time.Time
	fired   bool
	stopped bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	active := !t.fired && !t.stopped
	t.stopped = true
	return active
}

// fakeDeadlineCtx is a context ended by the fake clock. Its fields other than
// done are guarded by the clock's mutex.
type fakeDeadlineCtx struct {
	context.Context
	at      time.Time
	done    chan struct{}
	expired bool
}

func (c *fakeDeadlineCtx) Deadline() (time.Time, bool) { return c.at, true }

func (c *fakeDeadlineCtx) Done() <-chan struct{} { return c.done }

func (c *fakeDeadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return c.Context.Err()
	}
}
