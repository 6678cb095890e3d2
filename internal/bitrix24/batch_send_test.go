// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	commandInternalError = `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`
	commandQueryLimit    = `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`
)

// commandsOf counts, by process id, the reads the portal was sent: plain
// requests and batch commands.
func commandsOf(t *testing.T, p *importsPortal) map[int64]int {
	t.Helper()
	n := map[int64]int{}
	for _, r := range p.Requests() {
		if ids := batchCommands(t, r); ids != nil {
			for _, id := range ids {
				n[id]++
			}
			continue
		}
		for id := range int64(10) {
			if strings.Contains(r.Body, `"processId":`+string(rune('0'+id))+`}`) {
				n[id]++
			}
		}
	}
	return n
}

// A transient command error re-queues that command alone, after a plain
// request's backoff; the other commands keep their answers. A command's
// QUERY_LIMIT_EXCEEDED empties the client's bucket as a request's does.
func TestGet_TransientCommandErrorIsRetried(t *testing.T) {
	p := newImportsPortal(t)
	p.results[2], p.results[3], p.results[4] = resultLoad, resultFinishedEmpty, resultStarted
	p.cmdErrorsOnce[3] = []string{commandInternalError}
	p.cmdErrorsOnce[4] = []string{commandQueryLimit, commandQueryLimit}
	// The real clock, with short backoffs: on a jumping clock the batcher's
	// hold behind the first request would end at once.
	c := p.batchingClient(func(cfg *Config) {
		cfg.MaxRetries = 1
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, 2*time.Millisecond
		cfg.RateLimit, cfg.RateBurst = DefaultRateLimit, DefaultRateBurst
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	outcomes := gatherBehindFirstWithin(ctx, t, p, c, []int64{2, 3, 4})

	for i, want := range []string{StatusProcessing, StatusFinished, StatusStarted} {
		if o := outcomes[i]; o.err != nil || o.status.Status != want {
			t.Errorf("read %d: %+v, %v", i, o.status, o.err)
		}
	}
	if got := commandsOf(t, p); got[2] != 1 || got[3] != 2 || got[4] != 3 {
		t.Errorf("reads sent by id: %v; want 2 once, 3 twice (one fault), 4 three times (rate limits do not count)", got)
	}
	if tokens := c.limiter.limiter.TokensAt(time.Now()); tokens > 5 {
		t.Errorf("%.1f tokens left in the client's bucket: QUERY_LIMIT_EXCEEDED did not empty it", tokens)
	}
}

// A command that keeps failing fails after MaxRetries retries, saying so.
func TestGet_CommandErrorRetriesAreLimited(t *testing.T) {
	p := newImportsPortal(t)
	p.results[2] = resultLoad
	p.cmdErrors[3] = commandInternalError
	logger := &recordingLogger{}
	c := p.batchingClient(func(cfg *Config) {
		cfg.MaxRetries = 2
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, 2*time.Millisecond
		cfg.Logger = logger
	})

	outcomes := gatherBehindFirst(t, p, c, []int64{2, 3})

	if o := outcomes[0]; o.err != nil {
		t.Errorf("read of 2: %v", o.err)
	}
	var retryErr *RetryError
	var apiErr *Error
	err := outcomes[1].err
	if !errors.As(err, &retryErr) || retryErr.Attempts != 3 || !errors.As(err, &apiErr) ||
		!apiErr.HasCode(ErrorCodeInternalServerError) || !strings.HasSuffix(err.Error(), "after 3 attempts (max_retries = 2)") {
		t.Errorf("read of 3: %v", err)
	}
	if got := commandsOf(t, p); got[3] != 3 {
		t.Errorf("reads of 3 sent: %d, want 3", got[3])
	}
	var backoffs []string
	for _, e := range logger.Entries() {
		if strings.Contains(e, "trying again") {
			backoffs = append(backoffs, e)
		}
	}
	if len(backoffs) != 2 {
		t.Errorf("backoffs %v, want 2", backoffs)
	}
}

// A code the policy does not know is judged as a plain request would be:
// the read goes alone, and the plain answer decides.
func TestGet_UnknownCommandErrorIsReadAlone(t *testing.T) {
	p := newImportsPortal(t)
	p.results[2], p.results[3] = resultLoad, resultFinishedEmpty
	p.cmdErrorsOnce[3] = []string{`{"error":"SOMETHING_NEW","error_description":"A code of a newer portal"}`}
	c := p.batchingClient()

	outcomes := gatherBehindFirst(t, p, c, []int64{2, 3})

	if o := outcomes[1]; o.err != nil || !o.status.Finished() {
		t.Errorf("read of 3: %+v, %v", o.status, o.err)
	}
	requests := p.Requests()
	if len(requests) != 3 || !isPlainGet(requests[2]) {
		t.Errorf("%d requests, want the first, the batch and a plain read of 3", len(requests))
	}
}

// An error inside a command's result has the webhook code redacted, as a
// plain request's has.
func TestGet_CommandErrorInResultIsRedacted(t *testing.T) {
	p := newImportsPortal(t)
	p.results[2] = resultLoad
	p.results[3] = `{"error":"ACCESS_DENIED","error_description":"Webhook ` + testWebhookCode + ` may not read this"}`
	p.cmdErrors[4] = `{"error":"ACCESS_DENIED","error_description":"Webhook ` + testWebhookCode + ` may not read this"}`
	c := p.batchingClient()

	outcomes := gatherBehindFirst(t, p, c, []int64{2, 3, 4})

	for _, o := range outcomes[1:] {
		if o.err == nil || !IsAuthError(o.err) {
			t.Fatalf("error %v, want ACCESS_DENIED", o.err)
		}
		assertNoSecret(t, "the error", o.err.Error())
	}
	if got := commandsOf(t, p); !slices.Equal([]int{got[3], got[4]}, []int{1, 1}) {
		t.Errorf("permanent command errors were retried: %v", got)
	}
}

// A batch whose request gets no answer before the callers' deadline ends
// their reads as timeouts: decided from the request's own context.
func TestGet_SharedRequestOutOfTimeIsATimeout(t *testing.T) {
	portal := newTestPortal(t, hang(nil))
	c := portal.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.ConfigurationImport.Get(ctx, 42)
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() == nil {
		t.Errorf("error = %v, want the caller's deadline", err)
	}
}

// An import's own messages, which a failed import's error quotes, have the
// webhook code redacted too, in both modes.
func TestGet_ImportMessagesAreRedacted(t *testing.T) {
	failed := `{"status":"E","exception":[{"code":"","message":"Cannot fetch https://portal/rest/1/` + testWebhookCode + `/x","type":"exception"}]}`
	for _, plain := range []bool{false, true} {
		portal := newTestPortal(t, ok(failed))
		c := portal.Client(func(cfg *Config) { cfg.PlainReads = plain })
		status, err := c.ConfigurationImport.Get(context.Background(), 42)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, "the import's error", ImportFailure(status).Error())
	}
}
