// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGet_SingleReadIsAPlainRequest(t *testing.T) {
	p := newImportsPortal(t)
	p.results[42] = resultLoad
	c := p.batchingClient()

	for range 3 { // one after another: nothing ever waits to be combined
		status, err := c.ConfigurationImport.Get(context.Background(), 42)
		if err != nil || status.Status != StatusProcessing || status.ProcessID != 42 {
			t.Fatalf("status %+v, error %v", status, err)
		}
	}
	requests := p.Requests()
	if len(requests) != 3 {
		t.Fatalf("%d requests, want 3", len(requests))
	}
	for _, r := range requests {
		if !isPlainGet(r) || r.Body != `{"processId":42}` {
			t.Errorf("request %s %s, want a plain configuration.import.get", r.Path, r.Body)
		}
	}
}

// Reads that arrive while a request is in flight go out together in the
// next request, a batch, and each caller gets its own status.
func TestGet_ConcurrentReadsShareABatch(t *testing.T) {
	p := newImportsPortal(t)
	ids := []int64{2, 3, 4, 5, 6}
	letters := map[int64]string{2: StatusStarted, 3: StatusProcessing, 4: StatusFinished, 5: StatusFailed, 6: StatusUnknown}
	p.results[2], p.results[3], p.results[4], p.results[5] = resultStarted, resultLoad, resultFinishedWithResult, resultFailed
	c := p.batchingClient()

	outcomes := gatherBehindFirst(t, p, c, ids)

	for i, o := range outcomes {
		if o.err != nil {
			t.Errorf("read of %d: %v", ids[i], o.err)
			continue
		}
		if o.status.ProcessID != ids[i] || o.status.Status != letters[ids[i]] || o.status.Time == nil {
			t.Errorf("read of %d: %+v", ids[i], o.status)
		}
	}
	if f := outcomes[2].status; len(f.CreatedItems) == 0 || len(f.Notices) != 1 {
		t.Errorf("the finished import lost its details: %+v", f)
	}
	requests := p.Requests()
	if len(requests) != 2 || !isPlainGet(requests[0]) {
		t.Fatalf("requests %+v, want the plain read of 1 and one batch", requests)
	}
	got := batchCommands(t, requests[1])
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Errorf("the batch read %v, want %v", got, ids)
	}
	if !strings.Contains(requests[1].Body, `"halt":0`) || !strings.Contains(requests[1].Body, `"p4":"configuration.import.get?processId=4"`) {
		t.Errorf("batch body %s", requests[1].Body)
	}
}

// More than 50 process ids waiting go out as several batches of at most 50
// commands; a full batch goes out at once, without waiting for the request
// in flight.
func TestGet_MoreThan50AtOnce(t *testing.T) {
	p := newImportsPortal(t)
	var ids []int64
	for id := int64(100); id < 220; id++ {
		p.results[id] = []string{resultStarted, resultLoad, resultFinishedEmpty}[id%3]
		ids = append(ids, id)
	}
	c := p.batchingClient()

	outcomes := gatherBehindFirst(t, p, c, ids)

	for i, o := range outcomes {
		want := []string{StatusStarted, StatusProcessing, StatusFinished}[ids[i]%3]
		if o.err != nil || o.status.ProcessID != ids[i] || o.status.Status != want {
			t.Errorf("read of %d: %+v, %v", ids[i], o.status, o.err)
		}
	}
	requests := p.Requests()[1:]
	var sizes []int
	seen := map[int64]int{}
	for _, r := range requests {
		commands := batchCommands(t, r)
		sizes = append(sizes, len(commands))
		for _, id := range commands {
			seen[id]++
		}
	}
	if !slices.Equal(sizes, []int{50, 50, 20}) {
		t.Errorf("batches of %v commands after the first request, want [50 50 20]", sizes)
	}
	for id := int64(100); id < 220; id++ {
		if seen[id] != 1 {
			t.Errorf("id %d read by %d commands, want 1", id, seen[id])
		}
	}
}

// Exactly 50 process ids waiting fill a batch: it goes out at once, while
// the request before it is still in flight.
func TestGet_Exactly50GoOutAtOnce(t *testing.T) {
	p := newImportsPortal(t)
	c := p.batchingClient()
	ctx := testContext(t)
	p.hold()
	first := startRead(ctx, c, 1)
	held := p.nextHeld(t)
	var ids []int64
	var reads []<-chan readOutcome
	for id := int64(100); id < 100+maxBatchCommands; id++ {
		p.results[id] = resultLoad
		ids = append(ids, id)
		reads = append(reads, startRead(ctx, c, id))
	}

	full := p.nextHeld(t) // while the first is held: not after it
	requests := p.Requests()
	if len(requests) != 2 {
		t.Fatalf("%d requests, want the first and one batch", len(requests))
	}
	got := batchCommands(t, requests[1])
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Errorf("the batch read %v, want the 50 ids %v", got, ids)
	}
	go releaseAll(ctx, p, held)
	close(full.release)
	if o := outcome(t, first); o.err != nil {
		t.Errorf("the first read: %v", o.err)
	}
	for i, r := range reads {
		if o := outcome(t, r); o.err != nil || o.status.ProcessID != ids[i] {
			t.Errorf("read of %d: %+v, %v", ids[i], o.status, o.err)
		}
	}
	if n := len(p.Requests()); n != 2 {
		t.Errorf("%d requests in all, want 2", n)
	}
}

// Callers of the same process id share one command, and each gets its own
// copy of the status.
func TestGet_DuplicatesShareOneCommand(t *testing.T) {
	p := newImportsPortal(t)
	p.results[7], p.results[8], p.results[9] = resultStarted, resultLoad, resultFinishedEmpty
	c := p.batchingClient()

	ids := []int64{7, 8, 7, 9, 7, 8}
	outcomes := gatherBehindFirst(t, p, c, ids)

	for i, o := range outcomes {
		if o.err != nil || o.status.ProcessID != ids[i] {
			t.Errorf("read of %d: %+v, %v", ids[i], o.status, o.err)
		}
	}
	if outcomes[0].status == outcomes[2].status {
		t.Error("two callers of the same id share one *ImportStatus")
	}
	requests := p.Requests()
	if len(requests) != 2 {
		t.Fatalf("%d requests, want 2", len(requests))
	}
	got := batchCommands(t, requests[1])
	slices.Sort(got)
	if !slices.Equal(got, []int64{7, 8, 9}) {
		t.Errorf("the batch read %v, want 7, 8 and 9 once each", got)
	}
}

// Reads that trickle in, each after the one before has been answered, are
// gathered while they keep coming.
func TestGet_BurstIsGathered(t *testing.T) {
	p := newImportsPortal(t)
	p.defaultResult = resultLoad
	c := p.batchingClient()
	c.ConfigurationImport.batcher.quietPeriod = 300 * time.Millisecond // wide enough for a busy machine

	if _, err := c.ConfigurationImport.Get(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	var reads []<-chan readOutcome
	for id := int64(2); id <= 21; id++ {
		reads = append(reads, startRead(context.Background(), c, id))
		time.Sleep(time.Millisecond)
	}
	for _, r := range reads {
		if o := outcome(t, r); o.err != nil {
			t.Error(o.err)
		}
	}
	requests := p.Requests()
	if len(requests) != 2 || len(batchCommands(t, requests[1])) != 20 {
		t.Errorf("%d requests; want the first read alone, then one batch of the 20 that followed it", len(requests))
	}
}

// A command's error, in result_error or inside its result, reaches only
// its caller; the others get their statuses.
func TestGet_CommandErrorsReachOnlyTheirCaller(t *testing.T) {
	p := newImportsPortal(t)
	p.results[2] = resultFinishedEmpty
	p.cmdErrors[3] = `{"error":"insufficient_scope","error_description":""}`
	p.results[4] = `{"error":"PROCESS_NOT_FOUND","error_description":"Process doesn't found."}`
	p.cmdErrorsOnce[5] = []string{`{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit."}`}
	p.results[5] = resultLoad // what the read of 5 alone gets
	p.results[6] = `"not an object"`
	c := p.batchingClient()

	outcomes := gatherBehindFirst(t, p, c, []int64{2, 3, 4, 5, 6})

	if o := outcomes[0]; o.err != nil || !o.status.Finished() {
		t.Errorf("read of 2: %+v, %v", o.status, o.err)
	}
	var apiErr *Error
	if o := outcomes[1]; !errors.As(o.err, &apiErr) || apiErr.Code != "insufficient_scope" || apiErr.Description != "" ||
		apiErr.HTTPStatus != 200 || apiErr.Method != methodConfigurationImportGet || !IsAuthError(o.err) {
		t.Errorf("read of 3: %v", o.err)
	}
	if o := outcomes[2]; !errors.As(o.err, &apiErr) || !apiErr.HasCode("PROCESS_NOT_FOUND") || apiErr.HTTPStatus != 200 {
		t.Errorf("read of 4: %v", o.err)
	}
	// A batch answer has no reset time for a failed command: the read is
	// sent alone, as a plain request, to learn it; here the method is open
	// again by then.
	if o := outcomes[3]; o.err != nil || o.status.Status != StatusProcessing {
		t.Errorf("read of 5: %+v, %v", o.status, o.err)
	}
	var respErr *ResponseError
	if o := outcomes[4]; !errors.As(o.err, &respErr) || respErr.HTTPStatus != 200 || respErr.Excerpt != `"not an object"` {
		t.Errorf("read of 6: %v", o.err)
	}
	requests := p.Requests()
	if len(requests) != 3 || !isPlainGet(requests[2]) || !strings.Contains(requests[2].Body, `"processId":5`) {
		t.Errorf("%d requests, want 3: the first, the batch, and the read of 5 alone; command errors are not retried as a whole", len(requests))
	}
}

// A key in neither result nor result_error was not run (halt): it goes
// into the next request; one the portal never runs fails after a few.
func TestGet_NotRunIsRetried(t *testing.T) {
	p := newImportsPortal(t)
	p.results[2], p.results[3], p.results[4], p.results[5] = resultLoad, resultFinishedEmpty, resultStarted, resultStarted
	p.leaveOut[3] = 1
	p.leaveOut[4], p.leaveOut[5] = 100, 100
	c := p.batchingClient()

	outcomes := gatherBehindFirst(t, p, c, []int64{2, 3, 4, 5})

	if o := outcomes[0]; o.err != nil || o.status.Status != StatusProcessing {
		t.Errorf("read of 2: %+v, %v", o.status, o.err)
	}
	if o := outcomes[1]; o.err != nil || !o.status.Finished() {
		t.Errorf("read of 3, left out once: %+v, %v", o.status, o.err)
	}
	for _, o := range outcomes[2:] {
		var respErr *ResponseError
		if !errors.As(o.err, &respErr) || !strings.Contains(respErr.Reason, "did not run it") {
			t.Errorf("read never run: %v", o.err)
		}
	}
	var commands [][]int64
	for _, r := range p.Requests()[1:] {
		ids := batchCommands(t, r)
		slices.Sort(ids)
		commands = append(commands, ids)
	}
	want := [][]int64{{2, 3, 4, 5}, {3, 4, 5}, {4, 5}}
	if !slices.EqualFunc(commands, want, slices.Equal) {
		t.Errorf("commands per request after the first: %v, want %v", commands, want)
	}
}

// A failed batch request is retried like any read; an error that is not
// worth a retry reaches every caller in the batch.
func TestGet_FailedBatch(t *testing.T) {
	fastRetries := func(cfg *Config) {
		cfg.MaxRetries = 2
		cfg.RetryWaitMin = time.Millisecond
		cfg.RetryWaitMax = time.Millisecond
	}

	t.Run("retried", func(t *testing.T) {
		p := newImportsPortal(t)
		p.results[2], p.results[3] = resultLoad, resultFinishedEmpty
		p.batchFailures = []http.HandlerFunc{
			reply(http.StatusServiceUnavailable, answerQueryLimit),
			replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML),
		}
		c := p.batchingClient(fastRetries)

		outcomes := gatherBehindFirst(t, p, c, []int64{2, 3})

		if outcomes[0].err != nil || outcomes[1].err != nil || !outcomes[1].status.Finished() {
			t.Errorf("outcomes %+v", outcomes)
		}
		if n := len(p.Requests()); n != 4 {
			t.Errorf("%d requests, want the first read and three tries of the batch", n)
		}
	})

	t.Run("permanent", func(t *testing.T) {
		p := newImportsPortal(t)
		p.batchFailures = []http.HandlerFunc{reply(http.StatusUnauthorized, answerInvalidCredentials)}
		c := p.batchingClient(fastRetries)

		outcomes := gatherBehindFirst(t, p, c, []int64{2, 3, 4})

		for i, o := range outcomes {
			var apiErr *Error
			if !errors.As(o.err, &apiErr) || !apiErr.HasCode(ErrorCodeInvalidCredentials) || apiErr.Method != methodBatch {
				t.Errorf("read %d: %v", i, o.err)
			}
		}
		if n := len(p.Requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}

// A caller that gives up gets its context's error at once; the request it
// was part of goes on for the others, and is cancelled only when nobody
// waits for it any more.
func TestGet_OneCallerCancelledAmongMany(t *testing.T) {
	p := newImportsPortal(t)
	p.defaultResult = resultLoad
	c := p.batchingClient()
	p.hold()

	first := startRead(context.Background(), c, 1)
	firstHeld := p.nextHeld(t)
	// The read to cancel queues first: its context is the one whose values
	// the shared request keeps, and it must not end the request.
	cancelCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := []<-chan readOutcome{startRead(cancelCtx, c, 2)}
	awaitQueued(t, c, 1)
	for id := int64(3); id <= 11; id++ {
		reads = append(reads, startRead(context.Background(), c, id))
	}
	awaitQueued(t, c, 10)
	close(firstHeld.release)
	outcome(t, first)
	batch := p.nextHeld(t) // the batch of 2..11, held

	cancel()
	if o := outcome(t, reads[0]); !errors.Is(o.err, context.Canceled) || o.status != nil {
		t.Fatalf("the cancelled read: %+v, %v", o.status, o.err)
	}
	time.Sleep(20 * time.Millisecond) // time for a wrongly cancelled request to be seen as such
	if err := batch.request.Context().Err(); err != nil {
		t.Fatalf("one caller's cancellation cut the shared request: %v", err)
	}
	close(batch.release)
	for i, r := range reads[1:] {
		if o := outcome(t, r); o.err != nil || o.status.Status != StatusProcessing {
			t.Errorf("read of %d: %+v, %v", i+3, o.status, o.err)
		}
	}
	if ids := batchCommands(t, p.Requests()[1]); len(ids) != 10 {
		t.Errorf("the batch read %v", ids)
	}
}

func TestGet_AllCallersCancelledCancelsTheRequest(t *testing.T) {
	p := newImportsPortal(t)
	c := p.batchingClient()
	p.hold()

	first := startRead(context.Background(), c, 1)
	firstHeld := p.nextHeld(t)
	ctx, cancel := context.WithCancel(context.Background())
	reads := []<-chan readOutcome{startRead(ctx, c, 2), startRead(ctx, c, 3)}
	awaitQueued(t, c, 2)
	close(firstHeld.release)
	outcome(t, first)
	batch := p.nextHeld(t)

	cancel()
	for _, r := range reads {
		if o := outcome(t, r); !errors.Is(o.err, context.Canceled) {
			t.Errorf("read: %v", o.err)
		}
	}
	within(t, batch.request.Context().Done(), "the request went on with nobody waiting for it")
}

// A read whose context has ended sends nothing.
func TestGet_ContextAlreadyDone(t *testing.T) {
	p := newImportsPortal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.batchingClient().ConfigurationImport.Get(ctx, 42); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v", err)
	}
	if n := len(p.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestGet_PlainReads(t *testing.T) {
	p := newImportsPortal(t)
	p.defaultResult = resultLoad
	c := p.batchingClient(func(cfg *Config) { cfg.PlainReads = true })

	var wg sync.WaitGroup
	for id := range int64(20) {
		wg.Go(func() {
			if _, err := c.ConfigurationImport.Get(context.Background(), id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	requests := p.Requests()
	if len(requests) != 20 {
		t.Errorf("%d requests, want 20", len(requests))
	}
	for _, r := range requests {
		if !isPlainGet(r) {
			t.Errorf("request %s with PlainReads", r.Path)
		}
	}
}

// Many readers at once, under the race detector: every reader gets the
// status of its own id.
func TestGet_ManyConcurrentReaders(t *testing.T) {
	p := newImportsPortal(t)
	for id := range int64(300) {
		p.results[id] = []string{resultStarted, resultLoad, resultFinishedEmpty, resultFailed}[id%4]
	}
	c := p.batchingClient()

	var wg sync.WaitGroup
	for i := range 600 {
		id := int64(i % 300)
		wg.Go(func() {
			status, err := c.ConfigurationImport.Get(context.Background(), id)
			want := []string{StatusStarted, StatusProcessing, StatusFinished, StatusFailed}[id%4]
			if err != nil || status.ProcessID != id || status.Status != want {
				t.Errorf("read of %d: %+v, %v", id, status, err)
			}
		})
	}
	wg.Wait()
	requests := p.Requests()
	for _, r := range requests {
		if n := len(batchCommands(t, r)); n > maxBatchCommands {
			t.Errorf("a batch of %d commands", n)
		}
	}
	t.Logf("600 reads of 300 ids took %d requests", len(requests))
}

func TestDecodeBatchAnswer_Shapes(t *testing.T) {
	tests := []struct {
		name                    string
		result                  string
		results, errors, timing []string // keys
	}{
		{"objects", `{"result":{"p1":{"status":"F"}},"result_error":{"p2":{"error":"X","error_description":""}},"result_time":{"p1":{}}}`,
			[]string{"p1"}, []string{"p2"}, []string{"p1"}},
		{"empty parts as lists", `{"result":{"p1":{"status":"F"}},"result_error":[],"result_total":[],"result_next":[],"result_time":[]}`,
			[]string{"p1"}, nil, nil},
		{"a part with keys 0..n-1 as a list", `{"result":[{"status":"S"},{"status":"P"}],"result_error":[]}`,
			[]string{"0", "1"}, nil, nil},
		{"an empty batch", `[]`, nil, nil, nil},
		{"parts missing or null", `{"result":null}`, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := decodeBatchAnswer(&Response{Result: []byte(tt.result)}, nil)
			if err != nil {
				t.Fatalf("not decoded: %v", err)
			}
			for part, want := range map[string][]string{"result": tt.results, "result_error": tt.errors, "result_time": tt.timing} {
				got := map[string][]string{"result": keys(answer.results), "result_error": keys(answer.errors), "result_time": keys(answer.times)}[part]
				if !slices.Equal(got, want) {
					t.Errorf("%s keys %v, want %v", part, got, want)
				}
			}
		})
	}
	var respErr *ResponseError
	if _, err := decodeBatchAnswer(&Response{Result: []byte(`"text"`), HTTPStatus: 200}, nil); !errors.As(err, &respErr) ||
		respErr.Method != methodBatch || respErr.HTTPStatus != 200 || respErr.Excerpt != `"text"` {
		t.Errorf("a string decoded as a batch answer: %v", err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestBatchKey(t *testing.T) {
	for id, want := range map[int64]string{42: "p42", 0: "p0", 9007199254740993: "p9007199254740993"} {
		if got := batchKey(id); got != want {
			t.Errorf("batchKey(%d) = %q, want %q", id, got, want)
		}
	}
}

// A request that hangs holds the reads that arrived after it only so long:
// then they go out on their own.
func TestGet_SlowRequestHoldsOthersOnlySoLong(t *testing.T) {
	p := newImportsPortal(t)
	p.defaultResult = resultLoad
	c := p.Client()
	c.ConfigurationImport.batcher.inFlightLimit = 50 * time.Millisecond
	p.hold()

	first := startRead(context.Background(), c, 1)
	firstHeld := p.nextHeld(t)
	second := startRead(context.Background(), c, 2)
	secondHeld := p.nextHeld(t) // sent while the first is still held
	close(secondHeld.release)
	if o := outcome(t, second); o.err != nil || o.status.ProcessID != 2 {
		t.Errorf("the second read: %+v, %v", o.status, o.err)
	}
	close(firstHeld.release)
	if o := outcome(t, first); o.err != nil || o.status.ProcessID != 1 {
		t.Errorf("the first read: %+v, %v", o.status, o.err)
	}
}

// lateDoneCtx has a deadline that has passed, but learns so only when done
// closes, as a context whose timer has not fired yet.
type lateDoneCtx struct {
	context.Context
	deadline time.Time
	done     chan struct{}
}

func (c *lateDoneCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *lateDoneCtx) Done() <-chan struct{}       { return c.done }
func (c *lateDoneCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// A shared request that runs out at its callers' deadline ends their waits
// as timeouts, even when a caller's own context learns of the deadline a
// moment after the request's.
func TestGet_SharedRequestDeadlineIsTheCallersTimeout(t *testing.T) {
	portal := newTestPortal(t, ok(resultLoad))
	ctx := &lateDoneCtx{Context: testContext(t), deadline: time.Now().Add(-time.Millisecond), done: make(chan struct{})}
	time.AfterFunc(50*time.Millisecond, func() { close(ctx.done) })

	_, err := portal.Client().ConfigurationImport.Wait(ctx, 42, WaitOptions{PollInterval: time.Minute})
	var waitErr *WaitError
	if !errors.As(err, &waitErr) || !errors.Is(waitErr, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want a WaitError that timed out", err)
	}
}
