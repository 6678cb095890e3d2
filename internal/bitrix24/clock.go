// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// Clock is the client's one clock (Config.Clock): the wait, the backoff,
// the rate limit, the batcher and each request's timeouts run on it, so
// tests and the bench run them on a fake one (package fakeclock).
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f after d, unless stop is called first. It times a
	// request's timeouts, which bound real work: a fake clock runs them
	// apart from its pauses, since real work takes no fake time.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Timer is the part of *time.Timer that the client uses. It is an alias of
// an unnamed interface, so that fakeclock implements Clock without importing
// this package, whose tests use it.
type Timer = interface {
	C() <-chan time.Time
	Stop() bool
}

// RealClock returns the Clock of the time package.
func RealClock() Clock {
	return realClock{}
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

type realTimer struct{ *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.Timer.C }
