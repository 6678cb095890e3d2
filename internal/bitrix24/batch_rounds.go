// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"sync"
	"time"
)

// pollRound is the poll schedule shared by the waits of one client that
// poll at one interval (see the package doc): rounds start at anchor +
// k·interval. Its fields are guarded by the batcher's mutex.
type pollRound struct {
	interval time.Duration
	anchor   time.Time
	members  int           // waits using the schedule; at 0 it is forgotten
	booked   map[int64]int // round index -> waits sleeping until it, not yet polling
}

// roundSlot names one round of one schedule: the poll a wait booked.
type roundSlot struct {
	round *pollRound
	index int64
}

// pollRounds are the poll schedules of one client's waits, by interval,
// guarded by the batcher's mutex, as the batcher reads the bookings.
type pollRounds struct {
	mu    *sync.Mutex
	byKey map[time.Duration]*pollRound
}

// join returns the schedule of interval, starting one at anchor when no
// wait uses it yet. Each call must be matched by leave.
func (r *pollRounds) join(interval time.Duration, anchor time.Time) *pollRound {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.byKey[interval]
	if p == nil {
		p = &pollRound{interval: interval, anchor: anchor, booked: map[int64]int{}}
		r.byKey[interval] = p
	}
	p.members++
	return p
}

// leave forgets the schedule once its last wait has ended, so that a wait
// starting later polls on its own interval from its own start again.
func (r *pollRounds) leave(p *pollRound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.members--
	if p.members == 0 {
		delete(r.byKey, p.interval)
	}
}

// next returns when a wait that last polled at lastPoll polls next on p:
// the last boundary no later than lastPoll + interval, so never less often
// than its own interval says. p's interval and anchor never change.
func (p *pollRound) next(lastPoll time.Time) (time.Time, roundSlot) {
	since := lastPoll.Add(p.interval).Sub(p.anchor)
	k := int64(since / p.interval)
	if since%p.interval < 0 {
		k-- // rounded down, also when the anchor, read from another clock, lies ahead
	}
	return p.anchor.Add(time.Duration(k) * p.interval), roundSlot{round: p, index: k}
}

// book tells the batcher that a wait will poll in slot's round, whose first
// reads it then holds until every booked wait has sent its own.
func (r *pollRounds) book(slot roundSlot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slot.round.booked[slot.index]++
}

// arrivedLocked counts a booked wait as no longer expected.
func (s roundSlot) arrivedLocked() {
	if s.bookedLocked() {
		s.round.booked[s.index]--
		if s.round.booked[s.index] == 0 {
			delete(s.round.booked, s.index)
		}
	}
}

// bookedLocked reports whether waits that booked the slot's round are due.
func (s roundSlot) bookedLocked() bool {
	return s.round != nil && s.round.booked[s.index] > 0
}

// momentRounds keys the schedule of polls that a wait's rhythm moved, one
// round per whole second; no plain schedule's interval is negative.
const momentRounds = -time.Second

// momentSlot returns the whole second at or after t and its round.
func (p *pollRound) momentSlot(t time.Time) (time.Time, roundSlot) {
	at := t.Add(time.Second - 1).Truncate(time.Second)
	return at, roundSlot{round: p, index: at.Unix()}
}
