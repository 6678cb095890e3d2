// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// Clock is the client's one clock (Config.Clock): the wait, the backoff,
// the rate limit and the batcher read it, so tests and the bench run them
// on a fake one (package fakeclock).
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer that the client uses. It is an alias of
// an unnamed interface, so that fakeclock implements Clock without importing
// this package, whose tests use it.
type Timer = interface {
	C() <-chan time.Time
	Stop() bool
}

// timeoutClock is a Clock that runs timeouts apart from pauses: a
// request's timeouts bound real work, which takes no time on the fake clock
// of the tests while its pauses jump. With any other Clock, the timeouts
// run on the real time.
type timeoutClock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// afterFunc calls f after d on clock's time, unless stopped first.
func afterFunc(clock Clock, d time.Duration, f func()) (stop func() bool) {
	if tc, ok := clock.(timeoutClock); ok {
		return tc.AfterFunc(d, f)
	}
	return time.AfterFunc(d, f).Stop
}

// RealClock returns the Clock of the time package.
func RealClock() Clock {
	return realClock{}
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }

func (t realTimer) Stop() bool { return t.t.Stop() }
