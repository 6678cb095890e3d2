// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WaitOptions configures ConfigurationImportService.Wait.
type WaitOptions struct {
	// PollInterval is the nominal time from the start of one poll to the
	// start of the next; required. The agent's rhythm moves polls from it
	// (see the package doc).
	PollInterval time.Duration

	OnPoll      func(PollEvent)      // after each successful poll (provider logs it at INFO)
	OnPollError func(PollErrorEvent) // after each transient failure (provider logs at WARN)
}

// PollEvent reports a successful poll. Poll counts from 1.
type PollEvent struct {
	ProcessID int64
	Poll      int
	Elapsed   time.Duration
	Status    *ImportStatus
}

// PollErrorEvent reports a poll that failed in a way worth another try.
type PollErrorEvent struct {
	ProcessID int64
	Poll      int
	Elapsed   time.Duration
	Err       error
}

// Wait polls the import until it is finished (F), failed (E) or unknown
// (U), and returns that status with a nil error: whether E or U is fatal is
// the caller's decision (see ImportFailure). The package doc says when it
// polls and which failures it polls on after; any other ends the wait,
// wrapped (errors.As finds *Error). When ctx ends, it returns a *WaitError.
func (s *ConfigurationImportService) Wait(ctx context.Context, processID int64, opts WaitOptions) (*ImportStatus, error) {
	if opts.PollInterval <= 0 {
		return nil, errors.New("bitrix24: WaitOptions.PollInterval must be positive")
	}
	clock := s.client.clock
	started := clock.Now()
	w := &WaitError{ProcessID: processID}
	gaveUp := func() error {
		w.Err = ctx.Err()
		w.Cancelled = errors.Is(w.Err, context.Canceled)
		w.Waited = clock.Now().Sub(started)
		return w
	}

	var round, moments *pollRound // nil: the wait polls on its own schedule
	if s.batcher != nil {
		round = s.batcher.rounds.join(opts.PollInterval, started)
		defer s.batcher.rounds.leave(round)
		moments = s.batcher.rounds.join(momentRounds, time.Unix(0, 0))
		defer s.batcher.rounds.leave(moments)
	}
	rhythm := newAgentRhythm(opts.PollInterval)
	var slot roundSlot // the round the next poll was booked for; zero for none
	defer func() {
		if slot.round != nil {
			s.batcher.unbook(slot) // the wait ended before the poll it booked
		}
	}()

	lastPollDone := false
	for ctx.Err() == nil {
		pollStarted := clock.Now()
		w.Polls++
		status, err := s.read(ctx, processID, slot)
		slot = roundSlot{}

		switch {
		case err == nil:
			rhythm.observe(clock.Now(), status)
			w.Last, w.LastErr = status, nil
			if opts.OnPoll != nil {
				opts.OnPoll(PollEvent{ProcessID: processID, Poll: w.Polls, Elapsed: clock.Now().Sub(started), Status: status})
			}
			if status.Terminal() {
				return status, nil
			}
		case ctx.Err() != nil:
			// Cut short by ctx: what the poll was waiting for says why.
			errors.As(err, &w.Cut)
			return nil, gaveUp()
		case errors.As(err, new(*RateLimitError)):
			// Not sendable before the deadline: time out then, as if sent.
			w.Polls--
			if deadline, ok := ctx.Deadline(); ok {
				_ = sleep(ctx, clock, deadline.Sub(clock.Now()))
			}
			<-ctx.Done() // at the deadline, or a moment after it
			return nil, gaveUp()
		case pollGoesOn(err, s.client.answered.Load()):
			w.LastErr = err
			if opts.OnPollError != nil {
				opts.OnPollError(PollErrorEvent{ProcessID: processID, Poll: w.Polls, Elapsed: clock.Now().Sub(started), Err: err})
			}
		default:
			return nil, fmt.Errorf("waiting for configuration import %d: poll %d: %w", processID, w.Polls, err)
		}

		if ctx.Err() != nil {
			break
		}
		next := pollStarted.Add(opts.PollInterval)
		if !rhythm.next.IsZero() && err == nil {
			next = rhythm.next
			if rhythm.nextKind == pollRhythm && moments != nil {
				next, slot = moments.momentSlot(next)
			}
		} else if round != nil {
			next, slot = round.next(pollStarted)
		}
		if deadline, ok := ctx.Deadline(); ok {
			// A poll that would come at or after the deadline comes a tenth
			// of the wait (at most 10 s, for a slow answer) before it, so the
			// wait ends on a fresh status; after that one, the deadline ends it.
			lastPoll := deadline.Add(-min(10*time.Second, deadline.Sub(started)/10))
			if !next.Before(lastPoll) {
				next, slot = lastPoll, roundSlot{} // a poll of its own
				if lastPollDone || !lastPoll.After(pollStarted) {
					next = deadline
				}
				lastPollDone = true
			}
		}
		if slot.round != nil {
			s.batcher.rounds.book(slot)
		}
		if delay := next.Sub(clock.Now()); delay > 0 && sleep(ctx, clock, delay) != nil {
			break
		}
	}
	return nil, gaveUp()
}

// pollGoesOn reports whether a wait polls on after a poll failed with err,
// its retries spent (see the package doc): before the portal has answered,
// a silence means a wrong address or a hung portal the next poll will not
// get past either.
func pollGoesOn(err error, answered bool) bool {
	switch classify(err) {
	case failFault, failNoAnswer, failSlowDown:
		return true
	case failSilence, failUnreachable:
		return answered
	}
	return false
}

// WaitError means the context ended before the import reached F, E or U.
type WaitError struct {
	ProcessID int64
	Cancelled bool // ctx was cancelled; otherwise its deadline passed
	Waited    time.Duration
	Polls     int           // polls started, including one cut short
	Last      *ImportStatus // nil if no poll succeeded
	LastErr   error         // the last poll's transient failure; nil when the last poll succeeded
	// Cut is the poll in flight when ctx's deadline passed: what it was
	// waiting for, and what its try before met. Nil when none was.
	Cut *ReadTimeoutError
	Err error // ctx.Err()
}

func (e *WaitError) Error() string {
	format := "gave up waiting for configuration import %d after %s and %s: "
	if e.Cancelled {
		format = "waiting for configuration import %d was cancelled after %s and %s; "
	}
	var b strings.Builder
	fmt.Fprintf(&b, format, e.ProcessID, roundWaited(e.Waited), count(e.Polls, "poll"))
	if e.Last != nil {
		b.WriteString("last status " + e.Last.Describe())
	} else {
		b.WriteString("no poll succeeded")
	}
	if e.LastErr != nil {
		b.WriteString("; the last poll failed: " + e.LastErr.Error())
	}
	if e.Cut != nil {
		b.WriteString("; the time ran out " + e.Cut.Situation())
	}
	return b.String()
}

// Unwrap returns ctx.Err(), so errors.Is(err, context.DeadlineExceeded) works.
func (e *WaitError) Unwrap() error {
	return e.Err
}

// roundWaited rounds a wait to the second, or to the millisecond under one.
func roundWaited(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
