// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// testPortal is an httptest server that answers with scripted replies and
// records the requests it got.
type testPortal struct {
	t      *testing.T
	server *httptest.Server

	mu       sync.Mutex
	replies  []http.HandlerFunc // one per request; the last repeats
	requests []recordedRequest
}

type recordedRequest struct {
	Method      string
	Path        string
	ContentType string
	UserAgent   string
	Body        string
}

func newTestPortal(t *testing.T, replies ...http.HandlerFunc) *testPortal {
	t.Helper()
	p := &testPortal{t: t, replies: replies}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.server.Close)
	return p
}

func (p *testPortal) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.requests = append(p.requests, recordedRequest{
		Method:      r.Method,
		Path:        r.URL.Path,
		ContentType: r.Header.Get("Content-Type"),
		UserAgent:   r.Header.Get("User-Agent"),
		Body:        string(body),
	})
	n := len(p.requests)
	var reply http.HandlerFunc
	if len(p.replies) > 0 {
		reply = p.replies[min(n, len(p.replies))-1]
	}
	p.mu.Unlock()

	if reply == nil {
		http.Error(w, "no reply scripted", http.StatusTeapot)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body))) // for replies that read it
	reply(w, r)
}

func (p *testPortal) Requests() []recordedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recordedRequest(nil), p.requests...)
}

// WebhookURL is the portal's webhook URL, with testWebhookCode.
func (p *testPortal) WebhookURL() string {
	return p.server.URL + "/rest/1/" + testWebhookCode + "/"
}

// Client returns a client of the portal; modify may change its Config.
func (p *testPortal) Client(modify ...func(*Config)) *Client {
	p.t.Helper()
	hook, err := ParseWebhookURL(p.WebhookURL())
	if err != nil {
		p.t.Fatalf("ParseWebhookURL: %v", err)
	}
	cfg := Config{Auth: hook, UserAgent: "bitrix24-test/1.0"}
	for _, m := range modify {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		p.t.Fatalf("NewClient: %v", err)
	}
	return c
}

// reply answers with a status and a JSON body.
func reply(status int, body string) http.HandlerFunc {
	return replyAs(status, "application/json; charset=utf-8", body)
}

func replyAs(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// ok answers 200 with a configuration.import.get result in an envelope.
func ok(result string) http.HandlerFunc {
	return reply(http.StatusOK, envelope(result))
}

// hang answers only after the request's context ends, or after a minute.
func hang(started chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- struct{}{}
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
}

// assertNoSecret fails when text contains the webhook code.
func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, testWebhookCode) {
		t.Errorf("%s contains the webhook code: %s", what, text)
	}
}

// recordingLogger keeps what the client logs.
type recordingLogger struct {
	mu      sync.Mutex
	entries []string
}

func (l *recordingLogger) Debug(_ context.Context, msg string, fields map[string]any) {
	l.record("DEBUG", msg, fields)
}

func (l *recordingLogger) Info(_ context.Context, msg string, fields map[string]any) {
	l.record("INFO", msg, fields)
}

func (l *recordingLogger) Warn(_ context.Context, msg string, fields map[string]any) {
	l.record("WARN", msg, fields)
}

func (l *recordingLogger) record(level, msg string, fields map[string]any) {
	data, _ := json.Marshal(fields)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("%s %s %s", level, msg, data))
}

func (l *recordingLogger) Entries() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.entries...)
}

// closedPortWebhook is a webhook on a loopback port where nothing listens.
func closedPortWebhook(t *testing.T) *Webhook {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()
	hook, err := ParseWebhookURL("http://" + addr + "/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	return hook
}

// fakeEpoch lies an hour ahead of the real time, so that a fake deadline,
// which the client reads with ctx.Deadline, is never in the real past: the
// network code would otherwise give up on it before sending anything.
var fakeEpoch = time.Now().Add(time.Hour).Truncate(time.Second)

// newFakeClock returns a fake clock at fakeEpoch, jumping when jump is set.
func newFakeClock(jump bool) *fakeclock.Clock {
	if jump {
		return fakeclock.NewJumping(fakeEpoch)
	}
	return fakeclock.New(fakeEpoch)
}

// hangLimit is how long a test lets a wait or a read run before it gives
// up on it: ample on a loaded machine, short against the suite's timeout.
const hangLimit = 10 * time.Second

// errHung is the cause of a context that withHangLimit ended.
var errHung = errors.New("the test's hang limit passed")

// withHangLimit returns ctx, cancelled with errHung once hangLimit has
// passed: the test's own deadline for what it waits on. It is no Deadline
// the client sees (the real time is an hour before the fake clock's, so a
// real-time deadline would read as long past), so it changes nothing but
// the end of a wait that would never end.
func withHangLimit(t *testing.T, ctx context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(hangLimit, func() { cancel(errHung) })
	t.Cleanup(func() {
		timer.Stop()
		cancel(nil)
	})
	return ctx
}

// testContext is the test's context under its hang limit.
func testContext(t *testing.T) context.Context {
	return withHangLimit(t, t.Context())
}

// assertNotHung fails the test if ctx was ended by its hang limit.
func assertNotHung(t *testing.T, ctx context.Context) {
	t.Helper()
	if errors.Is(context.Cause(ctx), errHung) {
		t.Errorf("did not end within %v", hangLimit)
	}
}

// within receives from ch, failing the test as what did not happen when
// nothing comes for 5 s.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal(what)
		var zero T
		return zero
	}
}

// errorAs is err as an E, failing the test when it is not one.
func errorAs[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error is %T (%v), want %T", err, err, target)
	}
	return target
}

// callError is the error of one configuration.import.get answered by reply.
func callError(t *testing.T, reply http.HandlerFunc) error {
	t.Helper()
	_, err := newTestPortal(t, reply).Client().call(context.Background(), "configuration.import.get", nil)
	return err
}
