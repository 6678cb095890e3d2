// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// waitFixture runs Wait against a scripted portal on a fake clock.
type waitFixture struct {
	t      *testing.T
	clock  *fakeclock.Clock
	portal *testPortal
	client *Client

	mu        sync.Mutex
	pollTimes []time.Duration // fake time of each request since the start

	polls      []PollEvent
	pollErrors []PollErrorEvent
}

func newWaitFixture(t *testing.T, auto bool, replies ...http.HandlerFunc) *waitFixture {
	t.Helper()
	f := &waitFixture{t: t, clock: newFakeClock(auto)}
	timed := make([]http.HandlerFunc, len(replies))
	for i, r := range replies {
		timed[i] = func(w http.ResponseWriter, req *http.Request) {
			f.mu.Lock()
			f.pollTimes = append(f.pollTimes, f.clock.Now().Sub(fakeEpoch))
			f.mu.Unlock()
			r(w, req)
		}
	}
	f.portal = newTestPortal(t, timed...)
	f.client = f.portal.Client(func(cfg *Config) { cfg.Clock = f.clock })
	return f
}

func (f *waitFixture) options(interval time.Duration) WaitOptions {
	return WaitOptions{
		PollInterval: interval,
		OnPoll:       func(e PollEvent) { f.polls = append(f.polls, e) },
		OnPollError:  func(e PollErrorEvent) { f.pollErrors = append(f.pollErrors, e) },
	}
}

// wait waits for import 42 under ctx and the test's hang limit.
func (f *waitFixture) wait(ctx context.Context, interval time.Duration) (*ImportStatus, error) {
	ctx = withHangLimit(f.t, ctx)
	defer assertNotHung(f.t, ctx)
	return f.client.ConfigurationImport.Wait(ctx, 42, f.options(interval))
}

func (f *waitFixture) PollTimes() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.pollTimes...)
}

// advancing makes a reply that takes d of fake time.
func advancing(clock **fakeclock.Clock, d time.Duration, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		(*clock).Advance(d)
		h(w, r)
	}
}

func minutes(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Minute
	}
	return out
}

func TestWait_FinishedAtOnce(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultFinishedWithResult))

	status, err := f.wait(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !status.Finished() || status.ProcessID != 42 {
		t.Errorf("status = %+v", status)
	}
	if n := len(f.portal.Requests()); n != 1 {
		t.Errorf("%d polls, want 1", n)
	}
	if timers := f.clock.Timers(); len(timers) != 0 {
		t.Errorf("Wait waited: timers %v", timers)
	}
	if len(f.polls) != 1 || f.polls[0].Poll != 1 || f.polls[0].Elapsed != 0 || f.polls[0].Status != status || f.polls[0].ProcessID != 42 {
		t.Errorf("OnPoll events = %+v", f.polls)
	}
}

func TestWait_StartedProcessingFinished(t *testing.T) {
	f := newWaitFixture(t, true,
		ok(resultStarted), ok(resultStart), ok(resultManifest), ok(resultLoad), ok(resultActionFalse), ok(resultFinishedEmpty))

	status, err := f.wait(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if status.Status != StatusFinished {
		t.Errorf("status = %+v", status)
	}
	// The plain interval until the first change; after it a follow-up 5 s
	// past a gap after the poll before it finds the next change, and the
	// poll a gap after that sees another nobody awaited (a busy portal):
	// from then on each poll comes a gap after the change before (see
	// wait_rhythm_test.go).
	polls := []time.Duration{0, time.Minute, time.Minute + 5*time.Second, 2*time.Minute + 7*time.Second,
		3*time.Minute + 9*time.Second, 4*time.Minute + 11*time.Second}
	if got := f.PollTimes(); !reflect.DeepEqual(got, polls) {
		t.Errorf("polls at %v, want %v", got, polls)
	}
	gap := time.Minute + 2*time.Second
	if got, want := f.clock.Timers(), []time.Duration{time.Minute, 5 * time.Second, gap, gap, gap}; !reflect.DeepEqual(got, want) {
		t.Errorf("timers %v, want %v", got, want)
	}
	var letters []string
	for i, e := range f.polls {
		letters = append(letters, e.Status.Status)
		if e.Poll != i+1 || e.Elapsed != polls[i] {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	if got := strings.Join(letters, ""); got != "SPPPPF" {
		t.Errorf("OnPoll saw %s", got)
	}
}

func TestWait_ReturnsTerminalFailures(t *testing.T) {
	t.Run("failed", func(t *testing.T) {
		f := newWaitFixture(t, true, ok(resultLoad), ok(resultFailed))
		status, err := f.wait(context.Background(), time.Minute)
		if err != nil {
			t.Fatalf("Wait returned an error for E: %v", err)
		}
		if status.Status != StatusFailed || len(status.Exceptions) != 1 {
			t.Errorf("status = %+v", status)
		}
		if err := ImportFailure(status); err == nil || !strings.HasPrefix(err.Error(), "configuration import 42 failed: Cannot read file 12.json") {
			t.Errorf("ImportFailure = %v", err)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		f := newWaitFixture(t, true, ok(resultUnknown))
		status, err := f.wait(context.Background(), time.Minute)
		if err != nil {
			t.Fatalf("Wait returned an error for U: %v", err)
		}
		if status.Status != StatusUnknown || len(f.portal.Requests()) != 1 {
			t.Errorf("status = %+v after %d polls", status, len(f.portal.Requests()))
		}
	})
}

func TestWait_KeepsWaiting(t *testing.T) {
	t.Run("action false", func(t *testing.T) {
		f := newWaitFixture(t, true, ok(resultFinish), ok(resultActionFalse), ok(resultActionFalse), ok(resultFinishedEmpty))
		status, err := f.wait(context.Background(), time.Minute)
		if err != nil || !status.Finished() || len(f.portal.Requests()) != 4 {
			t.Errorf("status %+v, error %v, %d polls", status, err, len(f.portal.Requests()))
		}
	})

	t.Run("unrecognised letter", func(t *testing.T) {
		f := newWaitFixture(t, true, ok(resultUnrecognised), ok(resultFinishedEmpty))
		status, err := f.wait(context.Background(), time.Minute)
		if err != nil || !status.Finished() || len(f.portal.Requests()) != 2 {
			t.Errorf("status %+v, error %v, %d polls", status, err, len(f.portal.Requests()))
		}
	})
}

func TestWait_TransientFailures(t *testing.T) {
	f := newWaitFixture(t, true,
		ok(resultLoad),
		reply(http.StatusServiceUnavailable, answerQueryLimit),
		replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML),
		ok(resultFinishedEmpty),
	)

	status, err := f.wait(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !status.Finished() {
		t.Errorf("status = %+v", status)
	}
	if got, want := f.PollTimes(), minutes(0, 1, 2, 3); !reflect.DeepEqual(got, want) {
		t.Errorf("polls at %v, want %v", got, want)
	}
	if len(f.pollErrors) != 2 {
		t.Fatalf("OnPollError events = %+v", f.pollErrors)
	}
	var apiErr *Error
	if e := f.pollErrors[0]; e.Poll != 2 || e.Elapsed != time.Minute || e.ProcessID != 42 || !errors.As(e.Err, &apiErr) || !apiErr.HasCode(ErrorCodeQueryLimitExceeded) {
		t.Errorf("first error event = %+v", e)
	}
	var respErr *ResponseError
	if e := f.pollErrors[1]; e.Poll != 3 || !errors.As(e.Err, &respErr) || respErr.HTTPStatus != 502 {
		t.Errorf("second error event = %+v", e)
	}
	if len(f.polls) != 2 {
		t.Errorf("OnPoll events = %+v", f.polls)
	}
}

func TestWait_PermanentErrorEndsAtOnce(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultLoad), reply(http.StatusUnauthorized, answerInvalidCredentials), ok(resultFinishedEmpty))

	status, err := f.wait(context.Background(), time.Minute)
	if status != nil {
		t.Errorf("status = %+v", status)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.HasCode(ErrorCodeInvalidCredentials) {
		t.Fatalf("error = %v, want INVALID_CREDENTIALS", err)
	}
	var waitErr *WaitError
	if errors.As(err, &waitErr) {
		t.Error("a permanent error came as a WaitError")
	}
	want := "waiting for configuration import 42: poll 2: configuration.import.get: INVALID_CREDENTIALS: Invalid request credentials (HTTP 401)"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if n := len(f.portal.Requests()); n != 2 {
		t.Errorf("%d polls, want 2", n)
	}
	if len(f.pollErrors) != 0 {
		t.Errorf("OnPollError called for a permanent error: %+v", f.pollErrors)
	}
}

func TestWait_Timeout(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultLoad))
	ctx := f.clock.WithDeadline(context.Background(), 150*time.Second)

	status, err := f.wait(ctx, time.Minute)
	if status != nil {
		t.Errorf("status = %+v", status)
	}
	waitErr := errorAs[*WaitError](t, err)
	if waitErr.Cancelled || !errors.Is(waitErr, context.DeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %+v", waitErr)
	}
	if waitErr.ProcessID != 42 || waitErr.Polls != 4 || waitErr.Waited != 150*time.Second || waitErr.LastErr != nil {
		t.Errorf("error = %+v", waitErr)
	}
	// The poll due at 3m, after the deadline, comes 10 s before it instead.
	if got, want := f.PollTimes(), []time.Duration{0, time.Minute, 2 * time.Minute, 140 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("polls at %v, want %v", got, want)
	}
	if waitErr.Last == nil || waitErr.Last.Progress == nil || waitErr.Last.Progress.Action != "load" {
		t.Errorf("Last = %+v", waitErr.Last)
	}
	want := "gave up waiting for configuration import 42 after 2m30s and 4 polls: last status P (processing), " +
		"action load, step 3, section CRM_STATUS"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	if transient(err) {
		t.Error("transient = true for a WaitError")
	}
}

func TestWait_TimeoutWithoutASuccessfulPoll(t *testing.T) {
	f := newWaitFixture(t, true, reply(http.StatusInternalServerError, `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`))
	ctx := f.clock.WithDeadline(context.Background(), 90*time.Second)

	_, err := f.wait(ctx, time.Minute)
	waitErr := errorAs[*WaitError](t, err)
	if waitErr.Last != nil || waitErr.Polls != 3 || waitErr.LastErr == nil {
		t.Errorf("error = %+v", waitErr)
	}
	if got, want := f.PollTimes(), []time.Duration{0, time.Minute, 81 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("polls at %v, want %v", got, want)
	}
	want := "gave up waiting for configuration import 42 after 1m30s and 3 polls: no poll succeeded; the last poll failed: " +
		"configuration.import.get: INTERNAL_SERVER_ERROR: Internal server error (HTTP 500)"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

// A poll interval longer than the whole wait still ends on a fresh status:
// one poll at the start and one just before the deadline.
func TestWait_PollIntervalLongerThanTheDeadline(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultLoad), ok(resultFinishedEmpty))
	ctx := f.clock.WithDeadline(context.Background(), 5*time.Minute)

	status, err := f.wait(ctx, time.Hour)
	if err != nil || !status.Finished() {
		t.Fatalf("status %+v, error %v", status, err)
	}
	if got, want := f.PollTimes(), []time.Duration{0, 4*time.Minute + 50*time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("polls at %v, want %v", got, want)
	}
}

func TestWait_CancelledBetweenPolls(t *testing.T) {
	f := newWaitFixture(t, false, ok(resultLoad))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type outcome struct {
		status *ImportStatus
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		status, err := f.wait(ctx, time.Minute)
		done <- outcome{status, err}
	}()

	// The first poll is done and Wait sleeps on its timer; 12 s pass.
	within(t, f.clock.TimerMade(), "Wait did not start its timer")
	f.clock.Advance(12 * time.Second)
	cancel()

	got := within(t, done, "Wait did not return after cancel")
	waitErr := errorAs[*WaitError](t, got.err)
	if !waitErr.Cancelled || errors.Is(waitErr, context.DeadlineExceeded) || !errors.Is(got.err, context.Canceled) || waitErr.Polls != 1 || waitErr.Waited != 12*time.Second {
		t.Errorf("error = %+v", waitErr)
	}
	want := "waiting for configuration import 42 was cancelled after 12s and 1 poll; last status P (processing), " +
		"action load, step 3, section CRM_STATUS"
	if got.err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got.err, want)
	}
	if n := len(f.portal.Requests()); n != 1 {
		t.Errorf("%d polls, want 1", n)
	}
}

func TestWait_CancelledDuringAPoll(t *testing.T) {
	started := make(chan struct{}, 1)
	f := newWaitFixture(t, true, ok(resultLoad), hang(started))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := make(chan error, 1)
	go func() {
		_, err := f.wait(ctx, time.Minute)
		done <- err
	}()

	within(t, started, "the second poll did not start")
	cancel()

	err := within(t, done, "Wait did not return after cancel")
	waitErr := errorAs[*WaitError](t, err)
	var transportErr *TransportError
	if errors.As(err, &transportErr) {
		t.Error("a WaitError wraps a TransportError")
	}
	if !waitErr.Cancelled || waitErr.Polls != 2 || waitErr.LastErr != nil || waitErr.Last == nil {
		t.Errorf("error = %+v", waitErr)
	}
	if len(f.pollErrors) != 0 {
		t.Errorf("the cut-short poll was reported as a failure: %+v", f.pollErrors)
	}
}

func TestWait_ContextAlreadyDone(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultFinishedEmpty))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := f.wait(ctx, time.Minute)
	var waitErr *WaitError
	if !errors.As(err, &waitErr) || waitErr.Polls != 0 || !waitErr.Cancelled {
		t.Fatalf("error = %#v", err)
	}
	if n := len(f.portal.Requests()); n != 0 {
		t.Errorf("%d polls, want 0", n)
	}
	if !strings.Contains(err.Error(), "after 0s and 0 polls; no poll succeeded") {
		t.Errorf("Error() = %q", err)
	}
}

func TestWait_IntervalCountsFromThePollStart(t *testing.T) {
	var clock *fakeclock.Clock
	slow := advancing(&clock, 20*time.Second, ok(resultLoad))
	f := newWaitFixture(t, true, slow, slow, advancing(&clock, 20*time.Second, ok(resultFinishedEmpty)))
	clock = f.clock

	if _, err := f.wait(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := f.PollTimes(), minutes(0, 1, 2); !reflect.DeepEqual(got, want) {
		t.Errorf("polls at %v, want %v", got, want)
	}
	if got, want := f.clock.Timers(), []time.Duration{40 * time.Second, 40 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("timers %v, want %v", got, want)
	}
}

func TestWait_PollSlowerThanTheInterval(t *testing.T) {
	var clock *fakeclock.Clock
	f := newWaitFixture(t, true, advancing(&clock, 90*time.Second, ok(resultLoad)), ok(resultFinishedEmpty))
	clock = f.clock
	// Batched, the poll that follows an answer at once would be held for
	// the batcher's quiet period (5 ms on the same clock). The answer takes
	// longer than the default request timeout, which runs on the same clock.
	f.client = f.portal.Client(func(cfg *Config) {
		cfg.Clock, cfg.PlainReads, cfg.RequestTimeout = f.clock, true, 2*time.Minute
	})

	if _, err := f.wait(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := f.PollTimes(), []time.Duration{0, 90 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("polls at %v, want %v", got, want)
	}
	if timers := f.clock.Timers(); len(timers) != 0 {
		t.Errorf("timers %v, want none", timers)
	}
}

// A lone batched wait's reads are idle, so the batcher never holds them:
// on the client's jumping clock it makes no timer of its own, and the polls
// stay on the minute.
func TestWait_BatchedPollsAreNotHeld(t *testing.T) {
	replies := make([]http.HandlerFunc, 0, 101)
	for range 100 {
		replies = append(replies, ok(resultLoad))
	}
	f := newWaitFixture(t, true, append(replies, ok(resultFinishedEmpty))...)
	if _, err := f.wait(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	for i, at := range f.PollTimes() {
		if at != time.Duration(i)*time.Minute {
			t.Fatalf("poll %d at %v, want %v", i+1, at, time.Duration(i)*time.Minute)
		}
	}
	for _, d := range f.clock.Timers() {
		if d != time.Minute {
			t.Fatalf("a timer of %v; want only the wait's minutes", d)
		}
	}
}

func TestWait_Options(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultFinishedEmpty))
	for _, interval := range []time.Duration{0, -time.Second} {
		_, err := f.client.ConfigurationImport.Wait(testContext(t), 42, WaitOptions{PollInterval: interval})
		if err == nil {
			t.Errorf("PollInterval %v: no error", interval)
		}
	}
	if n := len(f.portal.Requests()); n != 0 {
		t.Errorf("%d polls with invalid options", n)
	}

	// Without callbacks, and no wait for F.
	status, err := f.client.ConfigurationImport.Wait(testContext(t), 42, WaitOptions{PollInterval: time.Hour})
	if err != nil || !status.Finished() {
		t.Errorf("status %+v, error %v", status, err)
	}
}

func TestWaitError_Texts(t *testing.T) {
	last := &ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"}}
	tests := []struct {
		err  *WaitError
		want string
	}{
		{
			&WaitError{ProcessID: 42, Waited: time.Minute, Polls: 3, Last: last, Err: context.DeadlineExceeded},
			"gave up waiting for configuration import 42 after 1m0s and 3 polls: last status P (processing), action load, step 3, section CRM_STATUS",
		},
		{
			&WaitError{ProcessID: 42, Cancelled: true, Waited: 12*time.Second + 300*time.Millisecond, Polls: 2, Last: last, Err: context.Canceled},
			"waiting for configuration import 42 was cancelled after 12s and 2 polls; last status P (processing), action load, step 3, section CRM_STATUS",
		},
		{
			&WaitError{ProcessID: 1, Cancelled: true, Waited: 1500 * time.Microsecond, Polls: 1, Last: &ImportStatus{Status: "S"}, Err: context.Canceled},
			"waiting for configuration import 1 was cancelled after 2ms and 1 poll; last status S (started)",
		},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
		}
	}
}

// Once the portal has answered, a refused connection is a blip: the wait
// goes on, where the first request to an address that never answered
// would have ended it.
func TestWait_UnreachableAfterAnswersKeepsWaiting(t *testing.T) {
	var portal *testPortal
	portal = newTestPortal(t, func(w http.ResponseWriter, r *http.Request) {
		ok(resultLoad)(w, r)
		go portal.server.Close() // nothing listens from now on
	})
	clock := newFakeClock(true)
	client := portal.Client(func(cfg *Config) { cfg.Clock = clock })
	ctx := clock.WithDeadline(testContext(t), 150*time.Second)
	var pollErrors []PollErrorEvent
	_, err := client.ConfigurationImport.Wait(ctx, 42, WaitOptions{
		PollInterval: time.Minute,
		OnPollError:  func(e PollErrorEvent) { pollErrors = append(pollErrors, e) },
	})
	var waitErr *WaitError
	if !errors.As(err, &waitErr) || !errors.Is(waitErr, context.DeadlineExceeded) || classify(waitErr.LastErr) != failUnreachable {
		t.Fatalf("error = %v, want a timeout whose last poll found nothing listening", err)
	}
	if len(pollErrors) != 3 {
		t.Errorf("%d failed polls reported, want 3 (at 1m, 2m and just before the deadline)", len(pollErrors))
	}
}

// A poll the rate limit cannot send before the deadline ends the wait as a
// timeout, with the last status seen, not as an error of its own.
func TestWait_RateLimitedPastTheDeadline(t *testing.T) {
	f := newWaitFixture(t, true, ok(resultLoad))
	f.client = f.portal.Client(func(cfg *Config) {
		cfg.Clock = f.clock
		cfg.RateLimit = 1.0 / 600 // one request every 10 minutes
		cfg.RateBurst = 1
	})
	ctx := f.clock.WithDeadline(context.Background(), 5*time.Minute)
	_, err := f.wait(ctx, time.Minute)
	var waitErr *WaitError
	if !errors.As(err, &waitErr) || !errors.Is(waitErr, context.DeadlineExceeded) || waitErr.Polls != 1 || waitErr.Last == nil {
		t.Fatalf("error = %v, want a timeout after 1 poll with its status", err)
	}
}

// A wait whose connections time out for a while, and later ones succeed,
// ends with the import's status, in both modes; one that never reached
// the portal ends at once with the connection problem, not at its
// deadline.
func TestWait_ConnectTimeouts(t *testing.T) {
	for _, plain := range []bool{false, true} {
		mode := map[bool]string{false: "batched", true: "plain reads"}[plain]
		t.Run(mode+", a blip", func(t *testing.T) {
			clock := newFakeClock(true)
			portal := newTestPortal(t, ok(resultLoad), ok(resultFinishedEmpty))
			// Poll 1 connects; poll 2 times out twice (its retry too);
			// poll 3 times out once, then connects.
			httpClient, _ := timingOutDialsWhen(func(dial int) bool { return dial >= 2 && dial <= 4 }, true)
			c := portal.Client(func(cfg *Config) {
				cfg.HTTPClient, cfg.PlainReads, cfg.MaxRetries, cfg.Clock = httpClient, plain, 1, clock
			})
			var pollErrors []error
			ctx := clock.WithDeadline(testContext(t), 10*time.Minute)
			status, err := c.ConfigurationImport.Wait(ctx, 42, WaitOptions{PollInterval: time.Minute,
				OnPollError: func(e PollErrorEvent) { pollErrors = append(pollErrors, e.Err) }})
			if err != nil || !status.Finished() {
				t.Fatalf("status %+v, error %v", status, err)
			}
			if len(pollErrors) != 1 {
				t.Errorf("poll errors %v, want the one of poll 2", pollErrors)
			}
		})
		t.Run(mode+", never reached", func(t *testing.T) {
			clock := newFakeClock(true)
			portal := newTestPortal(t, ok(resultFinishedEmpty))
			httpClient, _ := timingOutDials(1000)
			c := portal.Client(func(cfg *Config) {
				cfg.HTTPClient, cfg.PlainReads, cfg.MaxRetries, cfg.Clock = httpClient, plain, 1, clock
			})
			ctx := clock.WithDeadline(testContext(t), 10*time.Minute)
			_, err := c.ConfigurationImport.Wait(ctx, 42, WaitOptions{PollInterval: time.Minute})
			if problem, ok := TransportProblemOf(err); !ok || problem != ProblemConnectTimeout || ctx.Err() != nil {
				t.Fatalf("error %v, want the connection problem before the deadline", err)
			}
		})
	}
}
