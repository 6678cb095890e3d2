// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// roundsFixture runs waits on one client against an importsPortal, on a
// fake clock that moves only when the test says so.
type roundsFixture struct {
	t      *testing.T
	clock  *fakeclock.Clock
	portal *importsPortal
	client *Client
	ctx    context.Context
	waits  sync.WaitGroup
}

func newRoundsFixture(t *testing.T, modify ...func(*Config)) *roundsFixture {
	t.Helper()
	p := newImportsPortal(t)
	p.defaultResult = resultLoad // every wait goes on until the test ends
	f := &roundsFixture{t: t, clock: newFakeClock(false), portal: p}
	f.client = p.batchingClient(append(modify, func(cfg *Config) { cfg.Clock = f.clock })...)
	if b := f.client.ConfigurationImport.batcher; b != nil {
		// The clock moves only when the test says so: a quiet period
		// after a burst of reads would never end.
		b.quietPeriod, b.burstLimit = 0, 0
	}
	ctx, cancel := context.WithCancel(testContext(t))
	f.ctx = ctx
	t.Cleanup(func() {
		cancel()
		f.waits.Wait()
	})
	return f
}

// startWait starts a wait for id with a one-minute poll interval.
func (f *roundsFixture) startWait(id int64) {
	f.waits.Go(func() {
		_, err := f.client.ConfigurationImport.Wait(f.ctx, id, WaitOptions{PollInterval: time.Minute})
		var waitErr *WaitError
		if !errors.As(err, &waitErr) || !waitErr.Cancelled {
			f.t.Errorf("wait for %d: %v", id, err)
		}
		assertNotHung(f.t, f.ctx)
	})
}

// awaitTimers waits until n timers have been made in all: every wait has
// polled and gone to sleep.
func (f *roundsFixture) awaitTimers(n int) []time.Duration {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if timers := f.clock.Timers(); len(timers) >= n {
			return timers
		}
	}
	f.t.Fatalf("fewer than %d timers made: %d", n, len(f.clock.Timers()))
	return nil
}

// round moves the clock by d and returns the requests the waits sent then,
// once the n waits are asleep again.
func (f *roundsFixture) round(d time.Duration, n int) []recordedRequest {
	f.t.Helper()
	before := len(f.portal.Requests())
	timers := len(f.clock.Timers())
	f.clock.Advance(d)
	f.awaitTimers(timers + n)
	return f.portal.Requests()[before:]
}

// N concurrent waits cost ceil(N/50) requests a poll round, each read once.
func TestWait_SharedPollRounds(t *testing.T) {
	for _, n := range []int{1, 50, 200} {
		t.Run(fmt.Sprintf("%d waits", n), func(t *testing.T) {
			f := newRoundsFixture(t)
			for id := range int64(n) {
				f.startWait(id)
			}
			f.awaitTimers(n)

			for round := 1; round <= 2; round++ {
				requests := f.round(time.Minute, n)
				want := (n + maxBatchCommands - 1) / maxBatchCommands
				if len(requests) != want {
					t.Errorf("%d waits, round %d: %d requests, want %d", n, round, len(requests), want)
				}
				read := map[int64]int{}
				for _, r := range requests {
					ids := batchCommands(t, r)
					if ids == nil && isPlainGet(r) {
						ids = []int64{-1} // a plain read: the single wait's
					}
					for _, id := range ids {
						read[id]++
					}
				}
				if n > 1 && len(read) != n {
					t.Errorf("%d waits, round %d: %d ids read", n, round, len(read))
				}
			}
		})
	}
}

// A wait that starts between rounds polls at once, then at the next round
// of the waits already running, sooner than its own interval would have it,
// so that its read joins theirs.
func TestWait_LateJoinerAlignsWithTheNextRound(t *testing.T) {
	f := newRoundsFixture(t)
	f.startWait(1)
	f.awaitTimers(1)

	f.clock.Advance(25 * time.Second)
	f.startWait(2)
	timers := f.awaitTimers(2)
	if timers[1] != 35*time.Second {
		t.Errorf("the late wait sleeps %s after its first poll, want 35s: until the round at 1m", timers[1])
	}

	requests := f.round(35*time.Second, 2)
	if len(requests) != 1 {
		t.Fatalf("%d requests in the round at 1m, want 1", len(requests))
	}
	ids := batchCommands(t, requests[0])
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{1, 2}) {
		t.Errorf("the round read %v, want a batch of 1 and 2", ids)
	}
	if timers := f.clock.Timers(); timers[2] != time.Minute || timers[3] != time.Minute {
		t.Errorf("after the shared round the waits sleep %v, want a minute each", timers[2:])
	}
}

// With PlainReads every wait keeps its own schedule, as before batching.
func TestWait_PlainReadsKeepTheirOwnSchedule(t *testing.T) {
	f := newRoundsFixture(t, func(cfg *Config) { cfg.PlainReads = true })
	f.startWait(1)
	f.awaitTimers(1)
	f.clock.Advance(25 * time.Second)
	f.startWait(2)
	if timers := f.awaitTimers(2); timers[1] != time.Minute {
		t.Errorf("the second wait sleeps %s, want its own minute", timers[1])
	}
}

// A wait that ends while booked for a round does not hold the round back.
func TestWait_CancelledWaitLeavesItsRound(t *testing.T) {
	f := newRoundsFixture(t)
	f.startWait(1)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := f.client.ConfigurationImport.Wait(ctx, 2, WaitOptions{PollInterval: time.Minute})
		done <- err
	}()
	f.awaitTimers(2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled wait: %v", err)
	}

	started := time.Now()
	requests := f.round(time.Minute, 1)
	if len(requests) != 1 || !isPlainGet(requests[0]) {
		t.Errorf("requests %+v, want one plain read of 1", requests)
	}
	if waited := time.Since(started); waited > 5*time.Second {
		t.Errorf("the round waited %s for a wait that had ended", waited)
	}
}

// A wait polls next at the last round boundary no later than its own
// interval after its last poll.
func TestPollRound_Next(t *testing.T) {
	anchor := fakeEpoch
	p := &pollRound{interval: time.Minute, anchor: anchor}
	tests := []struct {
		t         time.Duration // lastPoll + interval, since the anchor
		want      time.Duration
		wantIndex int64
	}{
		{time.Minute, time.Minute, 1},
		{85 * time.Second, time.Minute, 1},
		{119 * time.Second, time.Minute, 1},
		{2 * time.Minute, 2 * time.Minute, 2},
		{0, 0, 0},
		{-time.Second, -time.Minute, -1}, // an anchor after t (another clock)
		{-time.Minute, -time.Minute, -1},
	}
	for _, tt := range tests {
		at, slot := p.next(anchor.Add(tt.t - time.Minute))
		if got := at.Sub(anchor); got != tt.want || slot.index != tt.wantIndex || slot.round != p {
			t.Errorf("next(anchor%+v) = anchor%+v (round %d), want anchor%+v (round %d)", tt.t-time.Minute, got, slot.index, tt.want, tt.wantIndex)
		}
	}
}
