// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// retryingClient is a client of portal with retries on, on a fake clock.
func retryingClient(portal *testPortal, clock *fakeclock.Clock, maxRetries int) *Client {
	return portal.Client(func(cfg *Config) {
		cfg.MaxRetries = maxRetries
		cfg.Clock = clock
	})
}

func hangUpReply(w http.ResponseWriter, _ *http.Request) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

func TestCall_RetriesTransientFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault http.HandlerFunc
	}{
		{"QUERY_LIMIT_EXCEEDED", reply(http.StatusServiceUnavailable, answerQueryLimit)},
		{"INTERNAL_SERVER_ERROR", reply(http.StatusInternalServerError, `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`)},
		{"HTML 502", replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML)},
		{"HTML 504", replyAs(http.StatusGatewayTimeout, "text/html", strings.ReplaceAll(answerGatewayHTML, "502 Bad Gateway", "504 Gateway Time-out"))},
		{"HTML 429 from a WAF", replyAs(http.StatusTooManyRequests, "text/html", "<html><head><title>Too Many Requests</title></head><body>Slow down</body></html>")},
		{"empty 200", reply(http.StatusOK, "")},
		{"truncated 200", reply(http.StatusOK, `{"result":{"status":"P","progress":{"act`)},
		{"dropped connection", hangUpReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(true)
			portal := newTestPortal(t, tt.fault, tt.fault, ok(resultFinishedEmpty))
			status, err := retryingClient(portal, clock, 3).ConfigurationImport.Get(context.Background(), 42)
			if err != nil || !status.Finished() {
				t.Fatalf("status %+v, error %v", status, err)
			}
			if n := len(portal.Requests()); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
			// Equal jitter: the first pause is 0.5-1 s, the second 1-2 s.
			timers := clock.Timers()
			if len(timers) != 2 || timers[0] < 500*time.Millisecond || timers[0] > time.Second ||
				timers[1] < time.Second || timers[1] > 2*time.Second {
				t.Errorf("backoffs %v, want one of 0.5-1s and one of 1-2s", timers)
			}
		})
	}
}

func TestCall_PermanentErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		name  string
		fault http.HandlerFunc
	}{
		{"INVALID_CREDENTIALS", reply(http.StatusUnauthorized, answerInvalidCredentials)},
		{"ERROR_METHOD_NOT_FOUND", reply(http.StatusNotFound, answerMethodNotFound)},
		{"OVERLOAD_LIMIT with 503", reply(http.StatusServiceUnavailable, answerOverload)},
		{"PORTAL_DELETED", reply(http.StatusForbidden, `{"error":"PORTAL_DELETED","error_description":"Portal was deleted"}`)},
		{"insufficient_scope", reply(http.StatusUnauthorized, `{"error":"insufficient_scope","error_description":""}`)},
		{"OPERATION_TIME_LIMIT without a reset time", reply(http.StatusTooManyRequests, `{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit."}`)},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://moved.example.com/", http.StatusFound)
		}},
		{"HTML 404", replyAs(http.StatusNotFound, "text/html", "<html><title>Not Found</title></html>")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(true)
			portal := newTestPortal(t, tt.fault, ok(resultFinishedEmpty))
			_, err := retryingClient(portal, clock, 5).call(context.Background(), "configuration.import.get", nil)
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(portal.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: %v", n, err)
			}
		})
	}
}

func TestCall_GivesUpAfterMaxRetries(t *testing.T) {
	clock := newFakeClock(true)
	portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit))
	_, err := retryingClient(portal, clock, 2).call(context.Background(), "configuration.import.get", nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.HasCode(ErrorCodeQueryLimitExceeded) {
		t.Fatalf("error = %v, want the last QUERY_LIMIT_EXCEEDED", err)
	}
	if n := len(portal.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (one and two retries)", n)
	}
}

func TestCall_NoRetriesByDefault(t *testing.T) {
	portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit), ok(resultFinishedEmpty))
	if _, err := portal.Client().call(context.Background(), "configuration.import.get", nil); err == nil {
		t.Fatal("no error")
	}
	if n := len(portal.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCall_BackoffIsCappedAndJittered(t *testing.T) {
	p := retryPolicy{maxRetries: 10, waitMin: time.Second, waitMax: 30 * time.Second}
	seen := map[time.Duration]bool{}
	for n := range 40 {
		d := p.backoff(n)
		full := min(time.Second<<min(n, 20), 30*time.Second)
		if d < full/2 || d > full {
			t.Errorf("backoff(%d) = %v, want between %v and %v", n, d, full/2, full)
		}
		seen[d] = true
	}
	if len(seen) < 30 {
		t.Errorf("only %d distinct backoffs in 40: no jitter?", len(seen))
	}
}

// A backoff that would end after the caller's deadline is not started: the
// read ends with the portal's failure, not a timeout.
func TestCall_NoRetryOutlivesTheDeadline(t *testing.T) {
	clock := newFakeClock(true)
	portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit), ok(resultFinishedEmpty))
	client := portal.Client(func(cfg *Config) {
		cfg.MaxRetries = 5
		cfg.Clock = clock
		cfg.RetryWaitMin = 10 * time.Second
	})
	ctx := clock.WithDeadline(context.Background(), 4*time.Second)
	_, err := client.call(ctx, "configuration.import.get", nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.HasCode(ErrorCodeQueryLimitExceeded) {
		t.Fatalf("error = %v, want QUERY_LIMIT_EXCEEDED", err)
	}
	if n := len(portal.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if timers := clock.Timers(); len(timers) != 0 {
		t.Errorf("backoff timers %v started past the deadline", timers)
	}
}

func TestCall_CancelDuringBackoff(t *testing.T) {
	clock := newFakeClock(false)
	portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit))
	client := retryingClient(portal, clock, 5)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := client.call(ctx, "configuration.import.get", nil)
		done <- err
	}()
	<-clock.TimerMade() // the first backoff has begun
	cancel()
	err := within(t, done, "Call did not return after cancel")
	var apiErr *Error // the failure interrupted stays in the chain, for the provider's advice
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "QUERY_LIMIT_EXCEEDED") ||
		!errors.As(err, &apiErr) || !apiErr.HasCode(ErrorCodeQueryLimitExceeded) {
		t.Errorf("error = %v, want the cancellation and the failure it interrupted, both in its chain", err)
	}
}

func TestCall_OperationTimeLimitWaitsForTheReset(t *testing.T) {
	clock := newFakeClock(true)
	resetAt := clock.Now().Add(3 * time.Minute).Unix()
	limited := fmt.Sprintf(`{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit.",`+
		`"time":{"start":1,"finish":1,"duration":0,"processing":0,"date_start":"","date_finish":"","operating":600.5,"operating_reset_at":%d}}`, resetAt)
	portal := newTestPortal(t, reply(http.StatusTooManyRequests, limited), ok(resultFinishedEmpty))

	status, err := retryingClient(portal, clock, 2).ConfigurationImport.Get(context.Background(), 42)
	if err != nil || !status.Finished() {
		t.Fatalf("status %+v, error %v", status, err)
	}
	wait := time.Unix(resetAt, 0).Add(resetMargin).Sub(fakeEpoch)
	if timers := clock.Timers(); len(timers) != 1 || timers[0] != wait {
		t.Errorf("waited %v, want one wait of %v (until operating_reset_at plus the margin)", timers, wait)
	}
}

func TestCall_OperationTimeLimitPastTheDeadlineFailsAtOnce(t *testing.T) {
	clock := newFakeClock(true)
	resetAt := clock.Now().Add(8 * time.Minute)
	limited := fmt.Sprintf(`{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit.",`+
		`"time":{"operating_reset_at":%d}}`, resetAt.Unix())
	portal := newTestPortal(t, reply(http.StatusTooManyRequests, limited), ok(resultFinishedEmpty))
	ctx := clock.WithDeadline(context.Background(), 5*time.Minute)

	_, err := retryingClient(portal, clock, 2).call(ctx, "configuration.import.get", nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.ResetAt.Equal(resetAt) {
		t.Fatalf("error = %#v, want OPERATION_TIME_LIMIT with its reset time", err)
	}
	if n := len(portal.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if want := "the method is available again at " + resetAt.UTC().Format(time.RFC3339); !strings.Contains(err.Error(), want) {
		t.Errorf("Error() = %q, want it to say %q", err, want)
	}
}

// Before the portal has answered anything, an address where nothing listens
// is a wrong URL: fail at once. Once it has answered, the same is a blip.
func TestCall_UnreachablePortal(t *testing.T) {
	clock := newFakeClock(true)
	client, err := NewClient(Config{Auth: closedPortWebhook(t), MaxRetries: 3, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}

	_, err = client.call(context.Background(), "configuration.import.get", nil)
	if classify(err) != failUnreachable {
		t.Fatalf("error = %v, want an unreachable portal", err)
	}
	if timers := clock.Timers(); len(timers) != 0 {
		t.Errorf("retried a portal that never answered: backoffs %v", timers)
	}

	client.answered.Store(true)
	_, err = client.call(context.Background(), "configuration.import.get", nil)
	if classify(err) != failUnreachable {
		t.Fatalf("error = %v, want an unreachable portal", err)
	}
	if timers := clock.Timers(); len(timers) != 3 {
		t.Errorf("backoffs %v, want 3 retries once the portal had answered", timers)
	}
}

func TestCall_BOMBeforeTheJSON(t *testing.T) {
	portal := newTestPortal(t, reply(http.StatusOK, "\xef\xbb\xbf"+envelope(resultFinishedEmpty)))
	status, err := portal.Client().ConfigurationImport.Get(context.Background(), 42)
	if err != nil || !status.Finished() {
		t.Fatalf("status %+v, error %v", status, err)
	}
}

func TestCall_LogsRetries(t *testing.T) {
	logger := &recordingLogger{}
	portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit), ok(resultFinishedEmpty))
	client := portal.Client(func(cfg *Config) {
		cfg.MaxRetries = 1
		cfg.Clock = newFakeClock(true)
		cfg.Logger = logger
	})
	if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
		t.Fatal(err)
	}
	var retries []string
	for _, e := range logger.Entries() {
		if strings.Contains(e, "trying again") {
			retries = append(retries, e)
		}
	}
	if len(retries) != 1 || !strings.HasPrefix(retries[0], "WARN") || !strings.Contains(retries[0], "QUERY_LIMIT_EXCEEDED") ||
		!strings.Contains(retries[0], `"retry":1`) {
		t.Errorf("retry log lines = %v", retries)
	}
	for _, e := range logger.Entries() {
		assertNoSecret(t, "log line", e)
	}
}

// A portal that answers QUERY_LIMIT_EXCEEDED to everything for a minute,
// as when another integration holds its whole budget, slows a read with
// the default settings down but does not fail it; each pause is logged at
// INFO with its reason.
func TestGet_BusyPortalForAMinute(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(map[bool]string{false: "batched", true: "plain reads"}[plain], func(t *testing.T) {
			clock := newFakeClock(true)
			busyUntil := fakeEpoch.Add(time.Minute)
			portal := newTestPortal(t, func(w http.ResponseWriter, r *http.Request) {
				if clock.Now().Before(busyUntil) {
					reply(http.StatusServiceUnavailable, answerQueryLimit)(w, r)
					return
				}
				ok(resultFinishedEmpty)(w, r)
			})
			logger := &recordingLogger{}
			c := portal.Client(func(cfg *Config) {
				cfg.MaxRetries = DefaultMaxRetries
				cfg.RateLimit, cfg.RateBurst = DefaultRateLimit, DefaultRateBurst
				cfg.PlainReads = plain
				cfg.Clock = clock
				cfg.Logger = logger
			})
			ctx := clock.WithDeadline(context.Background(), time.Hour) // timeouts.read's default
			status, err := c.ConfigurationImport.Get(ctx, 42)
			if err != nil || !status.Finished() {
				t.Fatalf("status %+v, error %v", status, err)
			}
			requests := len(portal.Requests())
			if requests > 30 {
				t.Errorf("%d requests, want at most 30", requests)
			}
			infos := 0
			for _, e := range logger.Entries() {
				if strings.HasPrefix(e, "INFO ") && strings.Contains(e, "QUERY_LIMIT_EXCEEDED") {
					infos++
				}
			}
			if infos != requests-1 {
				t.Errorf("%d INFO lines for %d pauses", infos, requests-1)
			}
			t.Logf("%d requests over %s", requests, clock.Now().Sub(fakeEpoch).Round(time.Second))
		})
	}
}

// An HTML 429 from a firewall is a request to slow down too: it does not
// count against MaxRetries, while 5xx pages do.
func TestCall_RateLimitAnswersDoNotCountAgainstMaxRetries(t *testing.T) {
	waf := replyAs(http.StatusTooManyRequests, "text/html", "<html><head><title>Too Many Requests</title></head></html>")
	clock := newFakeClock(true)
	portal := newTestPortal(t, waf, waf, waf, waf, ok(resultFinishedEmpty))
	ctx := clock.WithDeadline(context.Background(), time.Hour)
	if _, err := retryingClient(portal, clock, 1).call(ctx, "configuration.import.get", nil); err != nil {
		t.Fatalf("error %v", err)
	}
	if n := len(portal.Requests()); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}

	gateway := replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML)
	portal = newTestPortal(t, gateway)
	_, err := retryingClient(portal, clock, 5).call(ctx, "configuration.import.get", nil)
	var retryErr *RetryError
	if !errors.As(err, &retryErr) || retryErr.Attempts != 6 || !strings.HasSuffix(err.Error(), "gave up after 6 attempts (max_retries = 5)") {
		t.Errorf("error = %v, want the gateway page after 6 attempts", err)
	}
	if !transient(err) {
		t.Error("the RetryError hides that the failure is transient")
	}
}

// Without a deadline nothing bounds the rate limit's retries but
// MaxRetries, so they count against it.
func TestCall_RateLimitWithoutADeadlineCountsAsAFault(t *testing.T) {
	clock := newFakeClock(true)
	portal := newTestPortal(t, reply(http.StatusServiceUnavailable, answerQueryLimit))
	_, err := retryingClient(portal, clock, 2).call(context.Background(), "configuration.import.get", nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.HasCode(ErrorCodeQueryLimitExceeded) || len(portal.Requests()) != 3 {
		t.Errorf("%d requests, error %v; want 3 and the last QUERY_LIMIT_EXCEEDED", len(portal.Requests()), err)
	}
}
