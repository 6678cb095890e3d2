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
	"time"
)

// The sending half of importGetBatcher (see the package doc).

// sendRequest sends one request for groups: a plain configuration.import.get
// for a single process id, a batch for several.
func (b *importGetBatcher) sendRequest(groups []readGroup) {
	ctx, groups, log, cancel := b.startRequest(groups)
	if len(groups) == 0 {
		b.requestAnswered(0)
		return
	}
	defer cancel()

	if len(groups) == 1 {
		status, err := b.service.getOne(ctx, groups[0].processID, groups[0].tries(), log)
		b.requestAnswered(0)
		b.finish(ctx, groups[0], status, err)
		return
	}
	b.sendBatch(ctx, groups, log)
}

// startRequest drops abandoned reads and ties the rest to a new request,
// whose attempts the returned log records. Its context, detached from the
// callers (see the package doc), keeps the first caller's values (its
// logger); with a caller without a deadline it has none either
// (RequestTimeout and MaxRetries still bound it).
func (b *importGetBatcher) startRequest(groups []readGroup) (context.Context, []readGroup, *requestLog, context.CancelFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()

	req := &sharedRequest{}
	log := &requestLog{}
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
			r.request, r.log = req, log
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
		return nil, nil, nil, nil
	}

	ctx := context.WithoutCancel(first)
	var cancel context.CancelFunc
	if bounded {
		ctx, cancel = context.WithDeadline(ctx, latest)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	req.cancel = cancel
	return ctx, live, log, cancel
}

// sendBatch reads several process ids in one batch request, whose attempts
// log records.
func (b *importGetBatcher) sendBatch(ctx context.Context, groups []readGroup, log *requestLog) {
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

	body, err := encodeParams(methodBatch, map[string]any{"halt": 0, "cmd": cmd})
	var resp *Response
	if err == nil {
		resp, err = client.callWithRetries(ctx, methodBatch, body, retryState{}, log)
	}
	var answer batchAnswer
	if err == nil {
		var ok bool
		if answer, ok = decodeBatchAnswer(resp.Result); !ok {
			err = &ResponseError{Method: methodBatch, HTTPStatus: resp.HTTPStatus,
				Reason: "the result is neither a JSON object nor a list", Excerpt: excerpt(resp.Result, client.auth.Redact)}
		}
	}
	if err != nil {
		b.requestAnswered(0)
		for _, g := range groups {
			b.finish(ctx, g, nil, err)
		}
		return
	}

	type commandAnswer struct {
		g      readGroup
		status *ImportStatus
		err    error
	}
	var answers []commandAnswer
	var notRun, alone []readGroup
	for _, g := range groups {
		key := batchKey(g.processID)
		if raw, ok := answer.results[key]; ok {
			t := resp.Time
			if commandTime, ok := decodeTime(answer.times[key]); ok {
				t = commandTime
			}
			// An error inside the result came with HTTP 200 as it would
			// have in a plain request: judged alike.
			status, err := b.service.decodeStatus(raw, resp.HTTPStatus, t, g.processID)
			answers = append(answers, commandAnswer{g, status, err})
		} else if raw, ok := answer.errors[key]; ok {
			cmdErr := commandError(raw, resp.HTTPStatus, client.auth.Redact)
			if f, known := codeFailure(cmdErr.Code); !known || f == failAtReset {
				// A plain read judges it as a plain request would: a batch
				// answer has no reset time for a failed command, and a
				// command no HTTP status of its own.
				alone = append(alone, g)
				continue
			}
			answers = append(answers, commandAnswer{g, nil, cmdErr})
		} else {
			notRun = append(notRun, g)
		}
	}
	b.requestAnswered(len(alone))
	for _, a := range answers {
		if a.err != nil {
			b.commandFailed(a.g, a.err)
		} else {
			b.finish(ctx, a.g, a.status, nil)
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
	if len(again) > 0 {
		b.queue = append(again, b.queue...)
		b.wakeLocked()
	}
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
		return byIndex(list)
	}
	return nil
}

// commandError is a result_error entry: {"error": ..., "error_description":
// ...}, the description possibly empty, or a bare code.
func commandError(raw json.RawMessage, httpStatus int, redact func(string) string) *Error {
	e := &Error{Method: methodConfigurationImportGet, Code: jsonText(raw)}
	if members, ok := jsonObject(raw); ok {
		e.Code, e.Description = jsonText(members["error"]), jsonText(members["error_description"])
	}
	return portalError(e, httpStatus, redact)
}

// commandFailed handles a command's error for each read of its group: each
// read retries it, or fails with it, as the retry policy says for its own
// context.
func (b *importGetBatcher) commandFailed(g readGroup, err error) {
	client := b.service.client
	client.noteFailure(err) // a QUERY_LIMIT_EXCEEDED command empties the bucket too
	for _, r := range g.reads {
		b.mu.Lock()
		r.request, r.lastErr = nil, err
		abandoned := r.abandoned
		b.mu.Unlock()
		if abandoned {
			continue
		}
		delay, finalErr := client.retry.next(r.ctx, &r.retry, methodConfigurationImportGet, err, client.answered.Load())
		if finalErr != nil {
			b.finishRead(r, nil, finalErr, false) // the batch was answered
			continue
		}
		go b.retryLater(r, delay)
	}
}

// retryLater puts r back at the head of the queue after delay, unless its
// caller gives up first (then Get has returned already).
func (b *importGetBatcher) retryLater(r *importRead, delay time.Duration) {
	if sleep(r.ctx, b.clock, delay) != nil {
		return
	}
	b.mu.Lock()
	if !r.abandoned {
		b.queueLocked(r, true)
	}
	b.mu.Unlock()
}

// sendAlone reads each group with a plain request of its own, with the
// plain request's retries counted on from its command's, all at once; it
// returns when all are answered.
// The requests are counted in flight already (see sendBatch).
func (b *importGetBatcher) sendAlone(ctx context.Context, groups []readGroup) {
	done := make(chan struct{}, len(groups))
	for _, g := range groups {
		log := &requestLog{}
		b.mu.Lock()
		for _, r := range g.reads {
			r.log = log
		}
		b.mu.Unlock()
		go func() {
			status, err := b.service.getOne(ctx, g.processID, g.tries(), log)
			b.requestAnswered(0)
			b.finish(ctx, g, status, err)
			done <- struct{}{}
		}()
	}
	for range groups {
		<-done
	}
}

// tries is what the group's reads have spent on their command so far: the
// most any of them has.
func (g readGroup) tries() retryState {
	var st retryState
	for _, r := range g.reads {
		if r.retry.attempts > st.attempts {
			st = r.retry
		}
	}
	return st
}
