// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// The numbers of the scheme in the package doc.
const (
	methodBatch      = "batch"
	maxBatchCommands = 50 // the portal answers each command past it with ERROR_BATCH_LENGTH_EXCEEDED
	maxNotRunTries   = 3  // batch answers in a row that may leave a read out before it fails
)

// importGetBatcher combines a client's configuration.import.get reads into
// batch requests (see the package doc); batch_send.go sends them.
type importGetBatcher struct {
	service *ConfigurationImportService
	clock   Clock
	wake    chan struct{} // a read arrived or left, a request ended, or a booked wait gave up

	// See holdLocked; tests that count requests raise them.
	gatherLimit, inFlightLimit, quietPeriod, burstLimit time.Duration

	mu          sync.Mutex
	queue       []*importRead // not sent yet, in order of arrival
	inFlight    int           // requests sent and not yet answered
	dispatching bool          // dispatch is running
	lastArrival time.Time     // of a read
	lastAnswer  time.Time     // when a request was last answered
	rounds      pollRounds
}

func newImportGetBatcher(service *ConfigurationImportService) *importGetBatcher {
	b := &importGetBatcher{
		service: service,
		clock:   service.client.clock,
		wake:    make(chan struct{}, 1),
		// Booked waits wake at one instant and a portal answers in well under
		// a second: these keep a stalled wait or request from holding reads.
		gatherLimit:   100 * time.Millisecond,
		inFlightLimit: time.Second,
		quietPeriod:   5 * time.Millisecond,
		burstLimit:    250 * time.Millisecond,
	}
	b.rounds = pollRounds{mu: &b.mu, byKey: map[time.Duration]*pollRound{}}
	return b
}

// importRead is one caller's read.
type importRead struct {
	processID int64
	ctx       context.Context // the caller's: its values (logging) and deadline serve the request
	slot      roundSlot       // the poll round the read belongs to; zero for none
	queued    time.Time       // when it was (last) queued
	idle      bool            // it arrived when nothing was queued, in flight or just answered
	done      chan struct{}   // closed once status and err are set
	status    *ImportStatus
	err       error
	expired   bool       // err came from a request whose own context passed its deadline
	retry     retryState // the tries of its command in batches

	// Guarded by the batcher's mutex.
	notRun    int            // batch answers that left this read out
	abandoned bool           // the caller's context ended; nobody waits for the answer
	request   *sharedRequest // the request carrying it, while in flight
	log       *requestLog    // the attempts of the latest request carrying it
	lastErr   error          // its command's latest failure, when it is retried
}

// sharedRequest is a request in flight for several reads.
type sharedRequest struct {
	cancel context.CancelFunc
	live   int // reads not abandoned; guarded by the batcher's mutex
}

// readGroup is the reads of one process id: one command, one answer.
type readGroup struct {
	processID int64
	reads     []*importRead
	status    *ImportStatus
	err       error
}

// get reads processID in the next request, in slot's poll round if any.
func (b *importGetBatcher) get(ctx context.Context, processID int64, slot roundSlot) (*ImportStatus, error) {
	if err := ctx.Err(); err != nil {
		b.unbook(slot)
		return nil, fmt.Errorf("%s: %w", methodConfigurationImportGet, err)
	}
	started := b.clock.Now()
	read := &importRead{processID: processID, ctx: ctx, slot: slot, done: make(chan struct{})}

	b.mu.Lock()
	slot.arrivedLocked()
	b.lastArrival = b.clock.Now()
	b.queueLocked(read, false)
	b.mu.Unlock()

	select {
	case <-read.done:
		if !read.expired {
			return read.status, read.err
		}
		// The shared request ran out at the latest of its callers'
		// deadlines: this caller's context learns so now or a moment later,
		// and its error below tells its own read, not the shared request.
		<-ctx.Done()
	case <-ctx.Done():
		select {
		case <-read.done: // answered in the same instant: the answer is worth more
			return read.status, read.err
		default:
		}
		defer b.abandon(read) // after the error below: it cancels the request in flight
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%s: %w", methodConfigurationImportGet, ctx.Err())
	}
	b.mu.Lock()
	log, lastErr := read.log, read.lastErr
	b.mu.Unlock()
	return nil, log.timedOut(methodConfigurationImportGet, b.clock.Now().Sub(started), lastErr)
}

// queueLocked queues read, at the head when it goes again after a
// backoff, and wakes dispatch.
func (b *importGetBatcher) queueLocked(read *importRead, head bool) {
	now := b.clock.Now()
	read.queued = now
	read.idle = len(b.queue) == 0 && b.inFlight == 0 && now.Sub(b.lastAnswer) >= b.quietPeriod
	if head {
		b.queue = append([]*importRead{read}, b.queue...)
	} else {
		b.queue = append(b.queue, read)
	}
	b.wakeLocked()
}

// wakeLocked starts dispatch when none runs, or pokes the one that does.
func (b *importGetBatcher) wakeLocked() {
	if !b.dispatching {
		b.dispatching = true
		go b.dispatch()
		return
	}
	b.poke()
}

// unbook withdraws a booking whose wait ended before the round.
func (b *importGetBatcher) unbook(slot roundSlot) {
	b.mu.Lock()
	slot.arrivedLocked()
	b.mu.Unlock()
	b.poke()
}

// poke wakes dispatch if it is holding reads.
func (b *importGetBatcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// abandon takes a read whose caller has gone out of its request, cancelled
// when nobody else waits for it.
func (b *importGetBatcher) abandon(read *importRead) {
	b.mu.Lock()
	read.abandoned = true
	if req := read.request; req != nil {
		req.live--
		if req.live == 0 {
			req.cancel()
		}
	}
	b.mu.Unlock()
	b.poke()
}

// dispatch sends what is queued until nothing is queued or in flight.
func (b *importGetBatcher) dispatch() {
	var holdingSince time.Time
	for {
		b.mu.Lock()
		b.queue = slices.DeleteFunc(b.queue, func(r *importRead) bool { return r.abandoned })
		if len(b.queue) == 0 {
			inFlight := b.inFlight > 0
			b.dispatching = inFlight
			b.mu.Unlock()
			if !inFlight {
				return
			}
			<-b.wake // until a request is answered or a read arrives
			continue
		}
		groups := groupReads(b.queue)
		wait := b.holdLocked(&holdingSince)
		if wait > 0 && len(groups) < maxBatchCommands {
			b.mu.Unlock()
			timer := b.clock.NewTimer(wait)
			select {
			case <-b.wake:
			case <-timer.C():
			}
			timer.Stop()
			continue
		}
		if wait > 0 { // send the full batches only; the rest waits on
			full := len(groups) - len(groups)%maxBatchCommands
			b.queue = nil
			for _, g := range groups[full:] {
				b.queue = append(b.queue, g.reads...)
			}
			groups = groups[:full]
		} else {
			holdingSince, b.queue = time.Time{}, nil
		}
		chunks := slices.Collect(slices.Chunk(groups, maxBatchCommands))
		b.inFlight += len(chunks)
		b.mu.Unlock()

		for _, chunk := range chunks {
			go b.sendRequest(chunk)
		}
	}
}

// requestAnswered counts a request out of flight and its plain follow-ups in
// before its reads are answered, so a read that follows sees if the client is idle.
func (b *importGetBatcher) requestAnswered(followUps int) {
	b.mu.Lock()
	b.inFlight += followUps - 1
	b.lastAnswer = b.clock.Now()
	b.mu.Unlock()
	b.poke()
}

// holdLocked says how long the queued reads wait before they are sent (0 or
// less: now), as the package doc says, within the limits.
func (b *importGetBatcher) holdLocked(holdingSince *time.Time) time.Duration {
	now := b.clock.Now()
	first := b.queue[0]
	var wait time.Duration
	if slices.ContainsFunc(b.queue, func(r *importRead) bool { return r.slot.bookedLocked() }) {
		if holdingSince.IsZero() {
			*holdingSince = now
		}
		wait = b.gatherLimit - now.Sub(*holdingSince)
	}
	if b.inFlight > 0 {
		wait = max(wait, b.inFlightLimit-now.Sub(first.queued))
	}
	if !first.idle {
		quiet := b.quietPeriod - now.Sub(b.lastArrival)
		wait = max(wait, min(quiet, b.burstLimit-now.Sub(first.queued)))
	}
	return wait
}

// groupReads groups reads by process id, in order of first arrival.
func groupReads(reads []*importRead) []readGroup {
	var groups []readGroup
	index := map[int64]int{}
	for _, r := range reads {
		i, ok := index[r.processID]
		if !ok {
			i = len(groups)
			index[r.processID] = i
			groups = append(groups, readGroup{processID: r.processID})
		}
		groups[i].reads = append(groups[i].reads, r)
	}
	return groups
}
