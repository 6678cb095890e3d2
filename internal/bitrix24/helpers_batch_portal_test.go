// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// importsPortal answers configuration.import.get and batch from a table of
// results by process id, as a portal does, and can hold each request until
// the test releases it.
type importsPortal struct {
	*testPortal

	mu            sync.Mutex
	results       map[int64]string   // result JSON by process id
	defaultResult string             // for ids not in results; resultUnknown unless set
	cmdErrors     map[int64]string   // result_error entries by process id
	cmdErrorsOnce map[int64][]string // result_error entries by process id, one batch answer each
	leaveOut      map[int64]int      // how many batch answers leave the id out (not run)
	batchFailures []http.HandlerFunc
	holdRequests  bool
	held          chan heldRequest
}

// heldRequest is a request the portal holds until release is closed.
type heldRequest struct {
	request *http.Request
	release chan struct{}
}

func newImportsPortal(t *testing.T) *importsPortal {
	t.Helper()
	p := &importsPortal{
		results:       map[int64]string{},
		defaultResult: resultUnknown,
		cmdErrors:     map[int64]string{},
		cmdErrorsOnce: map[int64][]string{},
		leaveOut:      map[int64]int{},
		held:          make(chan heldRequest, 100),
	}
	p.testPortal = newTestPortal(t, p.answer)
	return p
}

// batchingClient returns a client of the portal whose batcher waits as long
// as it takes for requests in flight and for booked waits: tests that count
// requests must not race against those safety limits.
func (p *importsPortal) batchingClient(modify ...func(*Config)) *Client {
	c := p.Client(modify...)
	if b := c.ConfigurationImport.batcher; b != nil {
		b.gatherLimit, b.inFlightLimit = time.Minute, time.Minute
	}
	return c
}

// hold makes every request from now on wait until the test releases it.
func (p *importsPortal) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdRequests = true
}

// nextHeld returns the next request the portal holds.
func (p *importsPortal) nextHeld(t *testing.T) heldRequest {
	t.Helper()
	return within(t, p.held, "no request reached the portal")
}

func (p *importsPortal) answer(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	holding := p.holdRequests
	p.mu.Unlock()
	if holding {
		release := make(chan struct{})
		p.held <- heldRequest{request: r, release: release}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}

	var body struct {
		ProcessID int64             `json:"processId"`
		Cmd       map[string]string `json:"cmd"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		p.t.Errorf("the portal could not read a request: %v", err)
	}
	if strings.HasSuffix(r.URL.Path, "/batch.json") {
		p.answerBatch(w, r, body.Cmd)
		return
	}
	if cmdErr, failed := p.takeCommandError(body.ProcessID); failed {
		// A plain request meets the error a command would, at the top
		// level, with the status the portal sends it with.
		reply(errorStatus(cmdErr), cmdErr)(w, r)
		return
	}
	ok(p.result(body.ProcessID))(w, r)
}

// takeCommandError returns the error the next read of id gets, if any.
func (p *importsPortal) takeCommandError(id int64) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmdErr, failed := p.cmdErrors[id]
	if once := p.cmdErrorsOnce[id]; len(once) > 0 {
		cmdErr, failed = once[0], true
		p.cmdErrorsOnce[id] = once[1:]
	}
	return cmdErr, failed
}

// errorStatus is the HTTP status the portal sends an error envelope with.
func errorStatus(envelope string) int {
	for code, status := range map[string]int{
		ErrorCodeQueryLimitExceeded: http.StatusServiceUnavailable, ErrorCodeInternalServerError: http.StatusInternalServerError,
		ErrorCodeOperationTimeLimit: http.StatusTooManyRequests, ErrorCodeAccessDenied: http.StatusForbidden,
		ErrorCodeInsufficientScope: http.StatusUnauthorized,
	} {
		if strings.Contains(envelope, `"`+code+`"`) {
			return status
		}
	}
	return http.StatusBadRequest
}

func (p *importsPortal) result(id int64) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if result, ok := p.results[id]; ok {
		return result
	}
	return p.defaultResult
}

// answerBatch runs each command as the portal does: results, result_error
// and result_time by key, each [] when empty.
func (p *importsPortal) answerBatch(w http.ResponseWriter, r *http.Request, cmd map[string]string) {
	p.mu.Lock()
	if len(p.batchFailures) > 0 {
		failure := p.batchFailures[0]
		p.batchFailures = p.batchFailures[1:]
		p.mu.Unlock()
		failure(w, r)
		return
	}
	p.mu.Unlock()

	if len(cmd) > maxBatchCommands {
		p.t.Errorf("a batch of %d commands", len(cmd))
	}
	results, errs, times := map[string]json.RawMessage{}, map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for key, line := range cmd {
		id, ok := commandProcessID(line)
		if !ok || key != "p"+strconv.FormatInt(id, 10) {
			p.t.Errorf("command %q = %q", key, line)
			continue
		}
		p.mu.Lock()
		leaveOut := p.leaveOut[id] > 0
		if leaveOut {
			p.leaveOut[id]--
		}
		p.mu.Unlock()
		var cmdErr string
		var failed bool
		if !leaveOut {
			cmdErr, failed = p.takeCommandError(id)
		}
		switch {
		case leaveOut:
		case failed:
			errs[key] = json.RawMessage(cmdErr)
		default:
			results[key] = json.RawMessage(p.result(id))
			times[key] = json.RawMessage(timeCloud)
		}
	}
	ok(`{"result":`+phpJSON(results)+`,"result_error":`+phpJSON(errs)+
		`,"result_total":[],"result_next":[],"result_time":`+phpJSON(times)+`}`)(w, r)
}

// phpJSON encodes a part as PHP does: an empty one as [].
func phpJSON(part map[string]json.RawMessage) string {
	if len(part) == 0 {
		return "[]"
	}
	data, _ := json.Marshal(part)
	return string(data)
}

// commandProcessID reads "configuration.import.get?processId=N".
func commandProcessID(line string) (int64, bool) {
	method, query, _ := strings.Cut(line, "?")
	values, err := url.ParseQuery(query)
	if method != methodConfigurationImportGet || err != nil {
		return 0, false
	}
	id, err := strconv.ParseInt(values.Get("processId"), 10, 64)
	return id, err == nil
}

// batchCommands returns the process ids a recorded batch request read, or
// nil for a request that is not a batch.
func batchCommands(t *testing.T, r recordedRequest) []int64 {
	t.Helper()
	if !strings.HasSuffix(r.Path, "/batch.json") {
		return nil
	}
	var body struct {
		Halt int               `json:"halt"`
		Cmd  map[string]string `json:"cmd"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("batch body %s: %v", r.Body, err)
	}
	ids := make([]int64, 0, len(body.Cmd))
	for _, line := range body.Cmd {
		id, ok := commandProcessID(line)
		if !ok {
			t.Fatalf("batch command %q", line)
		}
		ids = append(ids, id)
	}
	return ids
}

func isPlainGet(r recordedRequest) bool {
	return strings.HasSuffix(r.Path, "/configuration.import.get.json")
}

// readOutcome is what one Get returned.
type readOutcome struct {
	status *ImportStatus
	err    error
}

// startRead runs Get in the background.
func startRead(ctx context.Context, c *Client, id int64) <-chan readOutcome {
	out := make(chan readOutcome, 1)
	go func() {
		status, err := c.ConfigurationImport.Get(ctx, id)
		out <- readOutcome{status, err}
	}()
	return out
}

func outcome(t *testing.T, ch <-chan readOutcome) readOutcome {
	t.Helper()
	return within(t, ch, "a read did not return")
}

// awaitQueued waits until n reads are queued behind the request in flight.
func awaitQueued(t *testing.T, c *Client, n int) {
	t.Helper()
	awaitGathered(t, nil, c, n)
}

// awaitGathered waits until n reads are queued behind the first request,
// or sent after it (a full batch of 50 ids goes out at once). A read is
// counted as sent by its command, so reads of the same id must not be
// split between a full batch and the queue.
func awaitGathered(t *testing.T, p *importsPortal, c *Client, n int) {
	t.Helper()
	b := c.ConfigurationImport.batcher
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b.mu.Lock()
		gathered := len(b.queue)
		b.mu.Unlock()
		if p != nil {
			for _, r := range p.Requests()[1:] {
				gathered += max(len(batchCommands(t, r)), 1)
			}
		}
		if gathered >= n {
			return
		}
	}
	t.Fatalf("fewer than %d reads gathered", n)
}

// gatherBehindFirst reads id 1 and, while its request is held, reads ids,
// which queue up for the next request; then it lets everything through.
// It returns the outcomes of the reads of ids, in order.
func gatherBehindFirst(t *testing.T, p *importsPortal, c *Client, ids []int64) []readOutcome {
	t.Helper()
	return gatherBehindFirstWithin(context.Background(), t, p, c, ids)
}

// gatherBehindFirstWithin is gatherBehindFirst with reads of ids under ctx.
func gatherBehindFirstWithin(ctx context.Context, t *testing.T, p *importsPortal, c *Client, ids []int64) []readOutcome {
	t.Helper()
	p.hold()
	first := startRead(context.Background(), c, 1)
	held := p.nextHeld(t)
	reads := make([]<-chan readOutcome, len(ids))
	for i, id := range ids {
		reads[i] = startRead(ctx, c, id)
	}
	awaitGathered(t, p, c, len(ids))
	go releaseAll(t.Context(), p, held)

	if o := outcome(t, first); o.err != nil {
		t.Fatalf("the first read: %v", o.err)
	}
	outcomes := make([]readOutcome, len(reads))
	for i, r := range reads {
		outcomes[i] = outcome(t, r)
	}
	return outcomes
}

// releaseAll releases first and every request held after it, until the
// test ends.
func releaseAll(ctx context.Context, p *importsPortal, first heldRequest) {
	close(first.release)
	for {
		select {
		case h := <-p.held:
			close(h.release)
		case <-ctx.Done():
			return
		}
	}
}
