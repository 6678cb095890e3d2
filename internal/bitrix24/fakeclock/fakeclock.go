// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package fakeclock is the fake bitrix24.Clock of the tests and the bench.
// It does not import bitrix24, whose own tests use it: bitrix24.Timer is an
// alias of the unnamed interface Timer is, so a *Clock is a bitrix24.Clock.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Timer is bitrix24.Timer.
type Timer = interface {
	C() <-chan time.Time
	Stop() bool
}

// Clock is a clock whose time moves only when told to (Advance). A jumping
// clock also moves it to the end of each timer as the timer is made, and
// fires the timer: a wait of an hour runs in milliseconds while every time
// it reads is exact. A deadline of WithDeadline that comes before such a
// timer's end stops the jump there and ends its context instead.
type Clock struct {
	mu        sync.Mutex
	now       time.Time
	jumping   bool
	timers    []*timer
	deadlines []*deadlineCtx
	madeCh    chan time.Duration
}

// New returns a clock that reads start until moved.
func New(start time.Time) *Clock {
	return &Clock{now: start, madeCh: make(chan time.Duration, 100)}
}

// NewJumping returns a jumping clock that starts at start.
func NewJumping(start time.Time) *Clock {
	c := New(start)
	c.jumping = true
	return c
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &timer{clock: c, c: make(chan time.Time, 1), d: d, at: c.now.Add(d)}
	c.timers = append(c.timers, t)
	if c.jumping {
		if dl := c.earliestDeadlineLocked(); dl != nil && !dl.at.After(t.at) {
			c.now = dl.at
			c.expireDeadlinesLocked()
		} else {
			c.advanceLocked(t.at)
		}
	}
	c.mu.Unlock()

	select {
	case c.madeCh <- d:
	default:
	}
	return t
}

// Advance moves the time forward by d, firing the timers and ending the
// deadlines that fall due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(c.now.Add(d))
}

// Timers returns the durations of the timers made so far, in order, but
// for those stopped before they fired: the sleeps that ran or are running,
// not a hold that something else ended (as the batcher's are).
func (c *Clock) Timers() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		if t.fired || !t.stopped {
			ds = append(ds, t.d)
		}
	}
	return ds
}

// TimerMade receives the duration of each timer as it is made (the first
// 100 that nobody took are kept).
func (c *Clock) TimerMade() <-chan time.Duration {
	return c.madeCh
}

// WithDeadline returns a context that ends with context.DeadlineExceeded
// when the clock reaches now+d, and reports that time as its Deadline.
func (c *Clock) WithDeadline(parent context.Context, d time.Duration) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	dl := &deadlineCtx{Context: parent, at: c.now.Add(d), done: make(chan struct{})}
	c.deadlines = append(c.deadlines, dl)
	return dl
}

func (c *Clock) advanceLocked(to time.Time) {
	c.now = to
	for _, t := range c.timers {
		if !t.fired && !t.stopped && !t.at.After(c.now) {
			t.fired = true
			t.c <- t.at
		}
	}
	c.expireDeadlinesLocked()
}

func (c *Clock) earliestDeadlineLocked() *deadlineCtx {
	var first *deadlineCtx
	for _, dl := range c.deadlines {
		if !dl.expired && (first == nil || dl.at.Before(first.at)) {
			first = dl
		}
	}
	return first
}

func (c *Clock) expireDeadlinesLocked() {
	for _, dl := range c.deadlines {
		if !dl.expired && !dl.at.After(c.now) {
			dl.expired = true
			close(dl.done)
		}
	}
}

// timer's fields other than c are guarded by its clock's mutex.
type timer struct {
	clock   *Clock
	c       chan time.Time
	d       time.Duration
	at      time.Time
	fired   bool
	stopped bool
}

func (t *timer) C() <-chan time.Time { return t.c }

func (t *timer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	active := !t.fired && !t.stopped
	t.stopped = true
	return active
}

// deadlineCtx is a context ended by the clock. Its fields other than done
// are guarded by the clock's mutex.
type deadlineCtx struct {
	context.Context
	at      time.Time
	done    chan struct{}
	expired bool
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.at, true }

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return c.Context.Err()
	}
}
