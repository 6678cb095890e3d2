// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// How concurrent reads become batch requests (the package doc has the
// scheme in prose).
const (
	methodBatch = "batch"

	// maxBatchCommands is how many commands the portal runs in one batch;
	// it answers each one past it with ERROR_BATCH_LENGTH_EXCEEDED.
	maxBatchCommands = 50

	// maxNotRunTries is how many batch answers in a row may leave a read
	// out (neither a result nor an error: the portal did not run it)
	// before the read fails rather than going into yet another batch.
	maxNotRunTries = 3

	// roundGatherLimit bounds how long a poll round's reads are held for
	// waits that booked the round and have not sent their read yet. They
	// wake at the same instant, so they normally arrive within a
	// millisecond; the limit only keeps a stalled one from holding the rest.
	roundGatherLimit = 100 * time.Millisecond

	// inFlightWaitLimit bounds how long a read waits for requests it is not
	// part of. A portal answers in well under a second, so normally the
	// gathered reads go out when the requests in flight are answered; a
	// request that hangs or backs off before a retry holds them no longer
	// than this.
	inFlightWaitLimit = time.Second

	// burstQuietPeriod and burstGatherLimit gather a burst of reads that
	// trickle in: Terraform starts its reads one by one, about a
	// millisecond apart, each after evaluating its configuration, while the
	// emulator (or a portal close by) answers a read in less. Reads that
	// follow other reads closely are gathered until none has arrived for
	// burstQuietPeriod, at most burstGatherLimit after the first of them.
	// A read that comes when the client is idle is never held.
	burstQuietPeriod = 5 * time.Millisecond
	burstGatherLimit = 250 * time.Millisecond
)

// importGetBatcher combines the configuration.import.get reads of one
// client: a read that finds nothing in flight is sent at once, as a plain
// request; reads that arrive while requests are in flight are gathered and
// sent together when those are done, as batch requests of at most
// maxBatchCommands commands, one command per process id.
type importGetBatcher struct {
	service *ConfigurationImportService
	wake    chan struct{} // a read arrived or left, a request ended, or a booked wait gave up

	// roundGatherLimit, inFlightWaitLimit, burstQuietPeriod and
	// burstGatherLimit; tests that count requests raise the limits, so as
	// not to race against them.
	gatherLimit, inFlightLimit, quietPeriod, burstLimit time.Duration

	mu          sync.Mutex
	queue       []*importRead // not sent yet, in order of arrival
	inFlight    int           // requests sent and not yet answered
	dispatching bool          // dispatch is running: requests are in flight, or reads queued
	lastArrival time.Time     // of a read, on the real clock
	lastAnswer  time.Time     // when a request last ended
	callers     callerLimit
	rounds      map[time.Duration]*pollRound
}

func newImportGetBatcher(service *ConfigurationImportService) *importGetBatcher {
	return &importGetBatcher{
		service:       service,
		wake:          make(chan struct{}, 1),
		gatherLimit:   roundGatherLimit,
		inFlightLimit: inFlightWaitLimit,
		quietPeriod:   burstQuietPeriod,
		burstLimit:    burstGatherLimit,
		rounds:        map[time.Duration]*pollRound{},
	}
}

// importRead is one caller's read.
type importRead struct {
	processID int64
	ctx       context.Context // the caller's: its values (logging) and deadline serve the request
	slot      roundSlot       // the poll round the read belongs to; zero for none
	queued    time.Time       // when it was (last) queued, on the real clock
	idle      bool            // it arrived when nothing was queued, in flight or just answered
	done      chan struct{}   // closed once status and err are set
	status    *ImportStatus
	err       error
	expired   bool // err came from a request whose own context passed its deadline

	retry retryState // the tries of its command in batches (see commandFailed)

	// Guarded by the batcher's mutex.
	notRun    int            // batch answers that left this read out
	abandoned bool           // the caller's context ended; nobody waits for the answer
	request   *sharedRequest // the request carrying it, while in flight
}

// sharedRequest is one request in flight on behalf of several reads. It is
// cancelled only when every one of them has been abandoned.
type sharedRequest struct {
	cancel context.CancelFunc
	live   int // reads not abandoned; guarded by the batcher's mutex
}

// readGroup is the reads of one process id: they share one command.
type readGroup struct {
	processID int64
	reads     []*importRead
}

// get reads processID as part of the next request that goes out. The
// caller's context governs only its own wait: when it ends, get returns its
// error at once and the request goes on for the other reads in it.
func (b *importGetBatcher) get(ctx context.Context, processID int64, slot roundSlot) (*ImportStatus, error) {
	if err := ctx.Err(); err != nil {
		b.unbook(slot)
		return nil, fmt.Errorf("%s: %w", methodConfigurationImportGet, err)
	}
	now := time.Now()
	read := &importRead{processID: processID, ctx: ctx, slot: slot, queued: now, done: make(chan struct{})}

	b.mu.Lock()
	b.arrivedLocked(slot)
	read.idle = !b.dispatching && now.Sub(b.lastAnswer) >= b.quietPeriod
	b.lastArrival = now
	b.callers.arrive(now)
	b.queue = append(b.queue, read)
	start := !b.dispatching
	b.dispatching = true
	b.mu.Unlock()
	if start {
		go b.dispatch()
	} else {
		b.poke()
	}

	defer b.left()
	select {
	case <-read.done:
		if read.expired {
			// The shared request ran out at the latest of its callers'
			// deadlines, so this caller's has passed too; its context
			// may learn so a moment later, and callers tell a timeout
			// from a failure by their own context.
			<-ctx.Done()
			return nil, fmt.Errorf("%s: %w", methodConfigurationImportGet, ctx.Err())
		}
		return read.status, read.err
	case <-ctx.Done():
		select {
		case <-read.done: // answered in the same instant: the answer is worth more
			return read.status, read.err
		default:
		}
		b.abandon(read)
		return nil, fmt.Errorf("%s: %w", methodConfigurationImportGet, ctx.Err())
	}
}

// left counts a caller out of the batcher.
func (b *importGetBatcher) left() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.callers.leave()
}

// poke wakes dispatch if it is holding a round.
func (b *importGetBatcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// abandon takes a read whose caller has gone out of its request, and
// cancels the request when nobody else waits for it.
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

// dispatch sends what is queued and runs until the queue is empty and every
// request answered. A read that arrives when the client is idle goes out at
// once. Other reads are gathered: until the requests in flight are
// answered (at most inFlightLimit), until no read has arrived for
// quietPeriod (at most burstLimit after the first), and until every wait
// that booked a round in the queue has sent its read (at most gatherLimit),
// so that a round costs ceil(N/50) requests rather than one plain request
// for the first to wake and batches for the rest. Whenever 50 process ids
// are queued, a full batch goes out at once: waiting would not make it
// cheaper.
func (b *importGetBatcher) dispatch() {
	var holdingSince time.Time
	for {
		b.mu.Lock()
		b.queue = slices.DeleteFunc(b.queue, func(r *importRead) bool { return r.abandoned })
		if len(b.queue) == 0 && b.inFlight == 0 {
			b.dispatching = false
			b.mu.Unlock()
			return
		}
		groups := groupReads(b.queue)
		wait := b.holdLocked(&holdingSince)
		if wait > 0 && len(groups) < maxBatchCommands {
			b.mu.Unlock()
			timer := time.NewTimer(wait)
			select {
			case <-b.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		if wait > 0 { // send the full batches only; the rest waits on
			full := len(groups) - len(groups)%maxBatchCommands
			groups, b.queue = groups[:full], readsOf(groups[full:])
		} else {
			if !b.queue[0].idle && !b.callers.saturated {
				b.callers.sentAfterQuiet()
			}
			holdingSince, b.queue = time.Time{}, nil
			b.callers.saturated = false
		}
		chunks := slices.Collect(slices.Chunk(groups, maxBatchCommands))
		b.inFlight += len(chunks)
		b.mu.Unlock()

		for _, chunk := range chunks {
			go func() {
				b.sendRequest(chunk)
				b.mu.Lock()
				b.inFlight--
				b.lastAnswer = time.Now()
				b.mu.Unlock()
				b.poke()
			}()
		}
	}
}

// holdLocked says how long the queue must wait before it is sent; 0 or less
// means now. An empty queue waits for the requests in flight.
func (b *importGetBatcher) holdLocked(holdingSince *time.Time) time.Duration {
	if len(b.queue) == 0 {
		return b.inFlightLimit // until a request ends or a read arrives
	}
	now := time.Now()
	first := b.queue[0]
	var wait time.Duration
	if b.roundIncompleteLocked() {
		if holdingSince.IsZero() {
			*holdingSince = now
		}
		wait = b.gatherLimit - now.Sub(*holdingSince)
	}
	if b.inFlight > 0 {
		wait = max(wait, b.inFlightLimit-now.Sub(first.queued))
	}
	if !first.idle && !b.callers.saturated {
		quiet := b.quietPeriod - now.Sub(b.lastArrival)
		wait = max(wait, min(quiet, b.burstLimit-now.Sub(first.queued)))
	}
	return wait
}

// readsOf lists the reads of groups.
func readsOf(groups []readGroup) []*importRead {
	var reads []*importRead
	for _, g := range groups {
		reads = append(reads, g.reads...)
	}
	return reads
}

// roundIncompleteLocked reports whether a queued read belongs to a round
// that booked waits have yet to join.
func (b *importGetBatcher) roundIncompleteLocked() bool {
	for _, r := range b.queue {
		if r.slot.round != nil && r.slot.round.booked[r.slot.index] > 0 {
			return true
		}
	}
	return false
}

// groupReads groups reads by process id, in order of first arrival: the
// reads of one id share one command.
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

// sendRequest sends one request for groups: a plain configuration.import.get
// for a single process id, a batch for several.
func (b *importGetBatcher) sendRequest(groups []readGroup) {
	ctx, groups, cancel := b.startRequest(groups)
	if len(groups) == 0 {
		return
	}
	defer cancel()

	if len(groups) == 1 {
		status, err := b.service.getOneAfter(ctx, groups[0].processID, groups[0].tries())
		b.finish(ctx, groups[0], status, err)
		return
	}
	b.sendBatch(ctx, groups)
}

// startRequest drops abandoned reads and ties the rest to a new request.
// The request's context is detached from the callers, so that one caller
// giving up does not cut it short for the others: it keeps the values of
// the first caller's context (its logger) and ends at the latest of the
// callers' deadlines, or never when one of them has none (RequestTimeout
// and MaxRetries still bound it). The retry policy's rule that no backoff
// outlives the deadline thus holds for the longest-waiting caller.
func (b *importGetBatcher) startRequest(groups []readGroup) (context.Context, []readGroup, context.CancelFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()

	req := &sharedRequest{}
	var live []readGroup
	var first context.Context
	var latest time.Time
	bounded := true
	for _, g := range groups {
		g.reads = slices.DeleteFunc(g.reads, func(r *importRead) bool { return r.abandoned })
		if len(g.reads) == 0 {
			continue
		}
		for _, r := range g.reads {
			r.request = req
			req.live++
			if first == nil {
				first = r.ctx
			}
			if deadline, ok := r.ctx.Deadline(); !ok {
				bounded = false
			} else if deadline.After(latest) {
				latest = deadline
			}
		}
		live = append(live, g)
	}
	if len(live) == 0 {
		return nil, nil, nil
	}

	ctx := context.WithoutCancel(first)
	var cancel context.CancelFunc
	if bounded {
		ctx, cancel = context.WithDeadline(ctx, latest)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	req.cancel = cancel
	return ctx, live, cancel
}

// sendBatch reads several process ids in one batch request.
func (b *importGetBatcher) sendBatch(ctx context.Context, groups []readGroup) {
	client := b.service.client
	cmd := make(map[string]string, len(groups))
	reads := 0
	for _, g := range groups {
		cmd[batchKey(g.processID)] = methodConfigurationImportGet + "?processId=" + strconv.FormatInt(g.processID, 10)
		reads += len(g.reads)
		for _, r := range g.reads {
			r.retry.attempts++
		}
	}
	client.logger.Debug(ctx, "Reading configuration imports in one batch request", map[string]any{
		"commands": len(groups),
		"reads":    reads,
	})

	resp, err := client.Call(ctx, methodBatch, map[string]any{"halt": 0, "cmd": cmd})
	if err != nil {
		for _, g := range groups {
			b.finish(ctx, g, nil, err)
		}
		return
	}
	answer, ok := decodeBatchAnswer(resp.Result)
	if !ok {
		err := &ResponseError{
			Method:     methodBatch,
			HTTPStatus: resp.HTTPStatus,
			Reason:     "the result is neither a JSON object nor a list",
			Excerpt:    excerpt(resp.Result, client.auth.Redact),
		}
		for _, g := range groups {
			b.finish(ctx, g, nil, err)
		}
		return
	}

	var notRun, alone []readGroup
	for _, g := range groups {
		key := batchKey(g.processID)
		if raw, ok := answer.results[key]; ok {
			t := resp.Time
			if commandTime, ok := decodeTime(answer.times[key]); ok {
				t = commandTime
			}
			status, err := b.service.decodeStatus(raw, resp.HTTPStatus, t, g.processID)
			if err != nil {
				// Inside the result, the error came with HTTP 200 as
				// it would have in a plain request: judged alike.
				b.commandFailed(g, err)
				continue
			}
			b.finish(ctx, g, status, nil)
		} else if raw, ok := answer.errors[key]; ok {
			cmdErr := commandError(raw, resp.HTTPStatus, client.auth.Redact)
			if needsPlainRead(cmdErr) {
				alone = append(alone, g)
				continue
			}
			b.commandFailed(g, cmdErr)
		} else {
			notRun = append(notRun, g)
		}
	}
	b.requeueNotRun(notRun, resp.HTTPStatus)
	b.sendAlone(ctx, alone)
}

// requeueNotRun puts reads a batch did not run at the head of the queue, to
// go out with the next request without waiting for others in flight; a
// read left out maxNotRunTries times fails.
func (b *importGetBatcher) requeueNotRun(groups []readGroup, httpStatus int) {
	var failed []*importRead
	b.mu.Lock()
	var again []*importRead
	for _, g := range groups {
		for _, r := range g.reads {
			r.request = nil
			if r.abandoned {
				continue
			}
			r.notRun++
			if r.notRun >= maxNotRunTries {
				failed = append(failed, r)
				continue
			}
			again = append(again, r)
		}
	}
	b.queue = append(again, b.queue...)
	b.mu.Unlock()

	for _, r := range failed {
		b.finishRead(r, nil, &ResponseError{
			Method:     methodConfigurationImportGet,
			HTTPStatus: httpStatus,
			Reason:     fmt.Sprintf("%d batch answers in a row had neither a result nor an error for this read: the portal did not run it", r.notRun),
		}, false)
	}
}

// finish hands a group's answer to each of its reads; each gets its own
// copy of the status. ctx is the request's: whether it ran out is decided
// from it, never from the shape of err (a connection attempt that timed out
// looks like a deadline too).
func (b *importGetBatcher) finish(ctx context.Context, g readGroup, status *ImportStatus, err error) {
	expired := err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	for _, r := range g.reads {
		b.finishRead(r, status, err, expired)
	}
}

// finishRead hands one read its answer.
func (b *importGetBatcher) finishRead(r *importRead, status *ImportStatus, err error, expired bool) {
	if status != nil {
		own := *status
		r.status = &own
	}
	r.err, r.expired = err, expired
	close(r.done)
}

// batchKey is the command key of a process id. It is not numeric: the
// portal would turn keys 0..n-1 into a JSON list, and parameters that look
// like $result[...] are substituted.
func batchKey(processID int64) string {
	return "p" + strconv.FormatInt(processID, 10)
}

// batchAnswer is the result of a batch call, by command key.
type batchAnswer struct {
	results map[string]json.RawMessage
	errors  map[string]json.RawMessage
	times   map[string]json.RawMessage
}

// decodeBatchAnswer reads result, result_error and result_time; ok is false
// when the result is not an object. An empty part arrives as [] and a part
// whose keys are 0..n-1 as a list (PHP's json_encode): both are read.
func decodeBatchAnswer(result json.RawMessage) (batchAnswer, bool) {
	if jsonKind(result) == '[' {
		return batchAnswer{}, true // an empty batch result, as PHP encodes it
	}
	members, ok := jsonObject(result)
	if !ok {
		return batchAnswer{}, false
	}
	return batchAnswer{
		results: batchPart(members["result"]),
		errors:  batchPart(members["result_error"]),
		times:   batchPart(members["result_time"]),
	}, true
}

// batchPart reads one part of a batch answer as a map by key.
func batchPart(raw json.RawMessage) map[string]json.RawMessage {
	switch jsonKind(raw) {
	case '{':
		members, _ := jsonObject(raw)
		return members
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		members := make(map[string]json.RawMessage, len(list))
		for i, v := range list {
			members[strconv.Itoa(i)] = v
		}
		return members
	}
	return nil
}

// commandError is a result_error entry: {"error": ..., "error_description":
// ...}, the description possibly empty.
func commandError(raw json.RawMessage, httpStatus int, redact func(string) string) *Error {
	e := &Error{Method: methodConfigurationImportGet, HTTPStatus: httpStatus}
	if members, ok := jsonObject(raw); ok {
		e.Code = redact(jsonText(members["error"]))
		e.Description = redact(jsonText(members["error_description"]))
	} else {
		e.Code = redact(jsonText(raw))
	}
	return e
}
