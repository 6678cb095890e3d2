// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"strings"
	"time"
)

// A command inside a batch meets the retry policy of a plain request (see
// retry.go): the batch answered, but one command's answer is an error. A
// transient one puts that read back into the queue after the backoff a plain
// request would wait, counted against MaxRetries like a plain retry (the
// rate limit against the deadline only); the other commands keep their
// answers. An error the policy cannot judge from a batch answer sends the
// read alone, as a plain request, whose answer then decides (see sendAlone).

// needsPlainRead reports whether a result_error entry must be read again on its
// own to be judged as a plain request would judge it:
// OPERATION_TIME_LIMIT, because a batch answer carries no reset time for a
// failed command (result_time has keys only for commands that succeeded),
// and a code the policy does not know, because its HTTP status decides and
// a command has none of its own.
func needsPlainRead(err *Error) bool {
	code := strings.ToUpper(err.Code)
	if err.HasCode(ErrorCodeOperationTimeLimit) {
		return true
	}
	return !transientCodes[code] && !permanentCodes[code] && !authCodes[code]
}

// commandFailed handles a command's error for each read of its group: each
// read retries it, or fails with it, as the retry policy says for its own
// context.
func (b *importGetBatcher) commandFailed(g readGroup, err error) {
	client := b.service.client
	client.noteFailure(err) // a QUERY_LIMIT_EXCEEDED command empties the bucket too
	for _, r := range g.reads {
		b.mu.Lock()
		r.request = nil
		abandoned := r.abandoned
		b.mu.Unlock()
		if abandoned {
			continue
		}
		delay, finalErr := client.next(r.ctx, &r.retry, methodConfigurationImportGet, err)
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
	if sleep(r.ctx, b.service.client.clock, delay) != nil {
		return
	}
	now := time.Now()
	b.mu.Lock()
	if r.abandoned {
		b.mu.Unlock()
		return
	}
	r.queued, r.idle = now, !b.dispatching
	b.queue = append([]*importRead{r}, b.queue...)
	b.wakeLocked()
	b.mu.Unlock()
}

// sendAlone reads each group with a plain request of its own, with the
// plain request's retries, all at once; it returns when all are answered.
func (b *importGetBatcher) sendAlone(ctx context.Context, groups []readGroup) {
	done := make(chan struct{}, len(groups))
	for _, g := range groups {
		go func() {
			status, err := b.service.getOne(ctx, g.processID)
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
