// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// sendRequest sends the groups' live reads in one request, plain for one id.
// Its context keeps the first caller's values (its logger), and has no
// deadline when a caller has none (RequestTimeout and MaxRetries bound it).
func (b *importGetBatcher) sendRequest(groups []readGroup) {
	b.mu.Lock()
	req, log := &sharedRequest{}, &requestLog{}
	var live []readGroup
	var latest time.Time
	bounded := true
	for _, g := range groups {
		g.reads = slices.DeleteFunc(g.reads, func(r *importRead) bool { return r.abandoned })
		for _, r := range g.reads {
			r.request, r.log = req, log
			req.live++
			deadline, ok := r.ctx.Deadline()
			bounded, latest = bounded && ok, maxTime(latest, deadline)
		}
		if len(g.reads) > 0 {
			live = append(live, g)
		}
	}
	if len(live) == 0 {
		b.mu.Unlock()
		b.requestAnswered(0)
		return
	}
	ctx := context.WithoutCancel(live[0].reads[0].ctx)
	if bounded {
		ctx, req.cancel = context.WithDeadline(ctx, latest)
	} else {
		ctx, req.cancel = context.WithCancel(ctx)
	}
	defer req.cancel()
	b.mu.Unlock()

	if len(live) == 1 {
		b.readAlone(ctx, live[0], log)
		return
	}
	b.sendBatch(ctx, live, log)
}

// sendBatch reads several process ids in one batch request.
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

	body, _ := json.Marshal(map[string]any{"halt": 0, "cmd": cmd}) // strings always encode
	resp, err := client.callWithRetries(ctx, methodBatch, body, retryState{}, log)
	var answer batchAnswer
	if err == nil {
		answer, err = decodeBatchAnswer(resp, client.auth.Redact)
	}
	if err != nil {
		b.requestAnswered(0)
		for _, g := range groups {
			g.err = err
			b.finish(ctx, g)
		}
		return
	}

	var answered, notRun, alone []readGroup
	for _, g := range groups {
		key := batchKey(g.processID)
		if raw, ok := answer.results[key]; ok {
			commandTime, _ := decodeTime(answer.times[key]) // nil when absent: the batch's time then
			// An error inside the result came with HTTP 200 as it would
			// have in a plain request: judged alike.
			g.status, g.err = b.service.decodeStatus(raw, resp.HTTPStatus, cmp.Or(commandTime, resp.Time), g.processID)
		} else if raw, ok := answer.errors[key]; ok {
			cmdErr := commandError(raw, resp.HTTPStatus, client.auth.Redact)
			if f, known := codeFailure(cmdErr.Code); !known || f == failAtReset {
				// A plain read judges it as a plain request would: a batch
				// answer has no reset time for a failed command, and a
				// command no HTTP status of its own.
				alone = append(alone, g)
				continue
			}
			g.err = cmdErr
		} else {
			notRun = append(notRun, g)
			continue
		}
		answered = append(answered, g)
	}
	b.requestAnswered(len(alone))
	for _, g := range answered {
		if g.err != nil {
			b.commandFailed(g)
		} else {
			b.finish(ctx, g)
		}
	}
	b.requeueNotRun(notRun, resp.HTTPStatus)

	// Each with a plain request, counted in flight above.
	var plain sync.WaitGroup
	for _, g := range alone {
		log := &requestLog{}
		b.mu.Lock()
		for _, r := range g.reads {
			r.log = log
		}
		b.mu.Unlock()
		plain.Go(func() { b.readAlone(ctx, g, log) })
	}
	plain.Wait()
}

// readAlone reads g with a plain request, counting on its reads' most tries.
func (b *importGetBatcher) readAlone(ctx context.Context, g readGroup, log *requestLog) {
	most := slices.MaxFunc(g.reads, func(a, b *importRead) int { return cmp.Compare(a.retry.attempts, b.retry.attempts) })
	g.status, g.err = b.service.getOne(ctx, g.processID, most.retry, log)
	b.requestAnswered(0)
	b.finish(ctx, g)
}

// requeueNotRun puts reads a batch did not run at the head of the queue, to
// go out with the next request; a read left out maxNotRunTries times fails.
func (b *importGetBatcher) requeueNotRun(groups []readGroup, httpStatus int) {
	var again, failed []*importRead
	b.mu.Lock()
	for _, g := range groups {
		for _, r := range g.reads {
			r.request, r.log = nil, nil // out of the request, and of its failures
			if r.abandoned {
				continue
			}
			r.notRun++
			if r.notRun >= maxNotRunTries {
				failed = append(failed, r)
			} else {
				again = append(again, r)
			}
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

// finish hands a group's answer to each of its reads. Whether the request
// ran out is decided from its ctx, never from the error (a connection
// attempt that timed out looks like a deadline too).
func (b *importGetBatcher) finish(ctx context.Context, g readGroup) {
	expired := g.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
	for _, r := range g.reads {
		b.finishRead(r, g.status, g.err, expired)
	}
}

// finishRead hands one read its answer, with a copy of the status of its own.
func (b *importGetBatcher) finishRead(r *importRead, status *ImportStatus, err error, expired bool) {
	if status != nil {
		own := *status
		r.status = &own
	}
	r.err, r.expired = err, expired
	close(r.done)
}

// commandFailed retries each read of g at the head of the queue after the
// backoff, or fails it, as the retry policy says for the read's context.
func (b *importGetBatcher) commandFailed(g readGroup) {
	client := b.service.client
	client.noteFailure(g.err) // a QUERY_LIMIT_EXCEEDED command empties the bucket too
	for _, r := range g.reads {
		b.mu.Lock()
		r.request, r.log, r.lastErr = nil, nil, g.err // its command's failure is the latest, not the request's
		abandoned := r.abandoned
		b.mu.Unlock()
		if abandoned {
			continue
		}
		delay, finalErr := client.retry.next(r.ctx, &r.retry, methodConfigurationImportGet, g.err, client.answered.Load())
		if finalErr != nil {
			b.finishRead(r, nil, finalErr, false) // the batch was answered
			continue
		}
		go func() {
			if sleep(r.ctx, b.clock, delay) != nil {
				return // the caller gave up: Get has returned
			}
			b.mu.Lock()
			if !r.abandoned {
				b.queueLocked(r, true)
			}
			b.mu.Unlock()
		}()
	}
}

// batchKey is a process id's command key, not numeric: the portal would
// send keys 0..n-1 as a list and substitutes $result[...] in parameters.
func batchKey(processID int64) string {
	return "p" + strconv.FormatInt(processID, 10)
}

// batchAnswer is the result of a batch call, by command key.
type batchAnswer struct {
	results, errors, times map[string]json.RawMessage
}

// decodeBatchAnswer reads result, result_error and result_time of a batch
// result, an object or a list (empty, as PHP sends it).
func decodeBatchAnswer(resp *Response, redact func(string) string) (batchAnswer, error) {
	members, ok := jsonObject(resp.Result)
	if !ok && jsonKind(resp.Result) != '[' {
		return batchAnswer{}, &ResponseError{Method: methodBatch, HTTPStatus: resp.HTTPStatus,
			Reason: "the result is neither a JSON object nor a list", Excerpt: excerpt(resp.Result, redact)}
	}
	return batchAnswer{
		results: batchPart(members["result"]),
		errors:  batchPart(members["result_error"]),
		times:   batchPart(members["result_time"]),
	}, nil
}

// batchPart reads one part of a batch answer by key, also sent as a list.
func batchPart(raw json.RawMessage) map[string]json.RawMessage {
	if members, ok := jsonObject(raw); ok {
		return members
	}
	var list []json.RawMessage
	_ = json.Unmarshal(raw, &list) // anything else has no entries
	return byIndex(list)
}

// commandError is a result_error entry: {"error", "error_description"} or a code.
func commandError(raw json.RawMessage, httpStatus int, redact func(string) string) *Error {
	e := &Error{Method: methodConfigurationImportGet, Code: jsonText(raw)}
	if members, ok := jsonObject(raw); ok {
		e.Code, e.Description = jsonText(members["error"]), jsonText(members["error_description"])
	}
	return portalError(e, httpStatus, redact)
}
