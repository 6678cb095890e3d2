// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package fakeclock is the fake bitrix24.Clock of the tests and the bench.
// It does not import bitrix24, whose own tests use it: bitrix24.Timer is an
// alias of the unnamed interface Timer is, so a *Clock is a bitrix24.Clock.
package fakeclock

import (
	"context"
	"slices"
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
//
// A timeout (AfterFunc) bounds real work, such as a request to a server on
// loopback, which takes no fake time: a jump carries it along, so that
// only Advance and AdvanceToTimeout reach it. A test whose server stays
// silent moves the clock to the timeout with AdvanceToTimeout.
type Clock struct {
	mu            sync.Mutex
	now           time.Time
	jumping       bool
	timers        []*timer
	timeouts      []*timeout
	deadlines     []*deadlineCtx
	madeCh        chan time.Duration
	timeoutMadeCh chan time.Duration
}

// New returns a clock that reads start until moved.
func New(start time.Time) *Clock {
	return &Clock{now: start, madeCh: make(chan time.Duration, 100), timeoutMadeCh: make(chan time.Duration, 100)}
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
			c.carryTimeoutsLocked(dl.at)
			c.now = dl.at
			c.expireDeadlinesLocked()
		} else {
			c.carryTimeoutsLocked(t.at)
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

// Advance moves the time forward by d, firing the timers and timeouts and
// ending the deadlines that fall due.
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
	dl := &deadlineCtx{Context: parent, at: c.now.Add(d), done: make(chan struct{})}
	c.deadlines = append(c.deadlines, dl)
	c.mu.Unlock()
	// It ends with its parent too, as context.WithDeadline's does: a test's
	// own real-time limit, set on the parent, must reach what waits on it.
	if parent.Done() != nil {
		go func() {
			select {
			case <-parent.Done():
				c.mu.Lock()
				if !dl.expired {
					dl.expired, dl.parentEnded = true, true
					close(dl.done)
				}
				c.mu.Unlock()
			case <-dl.done:
			}
		}()
	}
	return dl
}

// AfterFunc calls f in its own goroutine once the clock reaches now+d,
// unless stop is called first; stop reports whether it stopped f. It is a
// timeout: a jump carries it along (see Clock).
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	t := &timeout{at: c.now.Add(d), f: f}
	c.timeouts = append(c.timeouts, t)
	c.mu.Unlock()

	select {
	case c.timeoutMadeCh <- d:
	default:
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.done {
			return false
		}
		t.done = true
		c.dropDoneTimeoutsLocked()
		return true
	}
}

// TimeoutMade receives the duration of each timeout as it is made (the
// first 100 that nobody took are kept).
func (c *Clock) TimeoutMade() <-chan time.Duration {
	return c.timeoutMadeCh
}

// AdvanceToTimeout moves the time to the end of the earliest pending
// timeout, or to a deadline of WithDeadline that comes before it, firing
// what falls due: what work stuck on a silent server meets first. It
// returns how far the time moved; false when no timeout was pending.
func (c *Clock) AdvanceToTimeout() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var to time.Time
	for _, t := range c.timeouts {
		if to.IsZero() || t.at.Before(to) {
			to = t.at
		}
	}
	if to.IsZero() {
		return 0, false
	}
	if dl := c.earliestDeadlineLocked(); dl != nil && dl.at.Before(to) {
		to = dl.at
	}
	moved := max(to.Sub(c.now), 0)
	c.advanceLocked(c.now.Add(moved))
	return moved, true
}

func (c *Clock) advanceLocked(to time.Time) {
	c.now = to
	for _, t := range c.timers {
		if !t.fired && !t.stopped && !t.at.After(c.now) {
			t.fired = true
			t.c <- t.at
		}
	}
	for _, t := range c.timeouts {
		if !t.at.After(c.now) {
			t.done = true
			go t.f()
		}
	}
	c.dropDoneTimeoutsLocked()
	c.expireDeadlinesLocked()
}

// carryTimeoutsLocked moves the pending timeouts along with a jump to to.
func (c *Clock) carryTimeoutsLocked(to time.Time) {
	jump := to.Sub(c.now)
	for _, t := range c.timeouts {
		t.at = t.at.Add(jump)
	}
}

func (c *Clock) dropDoneTimeoutsLocked() {
	c.timeouts = slices.DeleteFunc(c.timeouts, func(t *timeout) bool { return t.done })
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

// timeout is a pending AfterFunc; guarded by its clock's mutex. Fired and
// stopped ones are dropped from the clock.
type timeout struct {
	at   time.Time
	f    func()
	done bool
}

// deadlineCtx is a context ended by the clock. Its fields other than done
// are guarded by the clock's mutex.
type deadlineCtx struct {
	context.Context
	at          time.Time
	done        chan struct{}
	expired     bool
	parentEnded bool // set before done is closed
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.at, true }

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		if c.parentEnded {
			return c.Context.Err()
		}
		return context.DeadlineExceeded
	default:
		return c.Context.Err()
	}
}
