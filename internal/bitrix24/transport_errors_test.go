// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// timingOutDials returns an HTTP client whose first n connection attempts
// time out at once, as when a firewall drops them; later ones connect.
// The error is the dialer's own: a dial whose deadline has passed.
func timingOutDials(n int) (*http.Client, *atomic.Int32) {
	return timingOutDialsWhen(func(dial int) bool { return dial <= n }, false)
}

// timingOutDialsWhen times out the dials (counted from 1) that timeOut
// picks; without keep-alives, every request dials.
func timingOutDialsWhen(timeOut func(dial int) bool, noKeepAlives bool) (*http.Client, *atomic.Int32) {
	var dials atomic.Int32
	transport := cleanhttp.DefaultPooledTransport()
	transport.DisableKeepAlives = noKeepAlives
	dialer := &net.Dialer{}
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if timeOut(int(dials.Add(1))) {
			expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
			defer cancel()
			return dialer.DialContext(expired, network, addr)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: transport}, &dials
}

// A connection attempt that times out is a connection problem, named as
// such, in both modes: never taken for the caller's deadline (which a
// batched read used to wait for, to report a timeout).
func TestGet_ConnectTimeoutIsAConnectionProblem(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(map[bool]string{false: "batched", true: "plain reads"}[plain], func(t *testing.T) {
			portal := newTestPortal(t, ok(resultFinishedEmpty))
			httpClient, dials := timingOutDials(100)
			c := portal.Client(func(cfg *Config) {
				cfg.HTTPClient = httpClient
				cfg.PlainReads = plain
				cfg.MaxRetries = 1
				cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, time.Millisecond
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			started := time.Now()
			_, err := c.ConfigurationImport.Get(ctx, 42)
			if elapsed := time.Since(started); elapsed > 5*time.Second {
				t.Errorf("the read took %s: it waited for its deadline", elapsed)
			}
			if problem, ok := TransportProblemOf(err); !ok || problem != ProblemConnectTimeout || ctx.Err() != nil {
				t.Fatalf("error = %v, want a connect timeout before the deadline", err)
			}
			if !strings.Contains(err.Error(), "no reply to the connection attempt") ||
				!strings.Contains(err.Error(), "after 2 attempts (max_retries = 1)") {
				t.Errorf("error text %q", err)
			}
			if n := dials.Load(); n != 2 {
				t.Errorf("%d connection attempts, want 2", n)
			}
		})
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
			ctx := clock.WithDeadline(context.Background(), 10*time.Minute)
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
			ctx := clock.WithDeadline(context.Background(), 10*time.Minute)
			_, err := c.ConfigurationImport.Wait(ctx, 42, WaitOptions{PollInterval: time.Minute})
			if problem, ok := TransportProblemOf(err); !ok || problem != ProblemConnectTimeout || ctx.Err() != nil {
				t.Fatalf("error %v, want the connection problem before the deadline", err)
			}
		})
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
	if _, err := retryingClient(portal, clock, 1).Call(ctx, "configuration.import.get", nil); err != nil {
		t.Fatalf("error %v", err)
	}
	if n := len(portal.Requests()); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}

	gateway := replyAs(http.StatusBadGateway, "text/html", answerGatewayHTML)
	portal = newTestPortal(t, gateway)
	_, err := retryingClient(portal, clock, 5).Call(ctx, "configuration.import.get", nil)
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
	_, err := retryingClient(portal, clock, 2).Call(context.Background(), "configuration.import.get", nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.HasCode(ErrorCodeQueryLimitExceeded) || len(portal.Requests()) != 3 {
		t.Errorf("%d requests, error %v; want 3 and the last QUERY_LIMIT_EXCEEDED", len(portal.Requests()), err)
	}
}

// Plain HTTP on an https address and a TLS alert fail at once, naming the
// problem: no retry fixes them.
func TestCall_PermanentTransportErrors(t *testing.T) {
	alerting := tlsAlertListener(t)
	tests := []struct {
		name    string
		url     string
		problem TransportProblem
		text    string
	}{
		{"plain HTTP on https", "", ProblemPlainHTTP, "the portal answered plain HTTP on an https address"},
		{"TLS alert", "https://" + alerting + "/rest/1/" + testWebhookCode + "/", ProblemTLSHandshake, "the TLS handshake with the portal failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			portal := newTestPortal(t, ok(resultFinishedEmpty))
			url := tt.url
			if url == "" {
				url = strings.Replace(portal.WebhookURL(), "http://", "https://", 1)
			}
			hook, err := ParseWebhookURL(url)
			if err != nil {
				t.Fatal(err)
			}
			clock := newFakeClock(true)
			c, err := NewClient(Config{Auth: hook, MaxRetries: 5, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Call(clock.WithDeadline(context.Background(), time.Hour), "configuration.import.get", nil)
			if problem, ok := TransportProblemOf(err); !ok || problem != tt.problem {
				t.Fatalf("error = %v, want problem %d", err, tt.problem)
			}
			if !strings.Contains(err.Error(), tt.text) || transient(err) {
				t.Errorf("error %q (transient %v)", err, transient(err))
			}
			if timers := clock.Timers(); len(timers) != 0 {
				t.Errorf("backed off %v before failing", timers)
			}
			assertNoSecret(t, "the error", err.Error())
		})
	}
}

// tlsAlertListener is a loopback server that answers every TLS handshake
// with a fatal handshake_failure alert, as a portal that shares no cipher
// or version with the client does.
func tlsAlertListener(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				_, _ = conn.Read(buf) // the ClientHello
				_, _ = conn.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
			}()
		}
	}()
	return listener.Addr().String()
}

// Unknown host, refused connection and connect timeout are three problems.
func TestTransportError_Problems(t *testing.T) {
	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
	tests := []struct {
		err  error
		want TransportProblem
	}{
		{&net.DNSError{Err: "no such host", Name: "portal.invalid", IsNotFound: true}, ProblemUnknownHost},
		{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{IsNotFound: true}}, ProblemUnknownHost},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ProblemConnectionRefused},
		{dialTimeout, ProblemConnectTimeout},
		{&net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, ProblemNoAnswer},
		{&requestTimeoutError{timeout: "70s"}, ProblemNoAnswer},
		{http.ErrSchemeMismatch, ProblemPlainHTTP},
	}
	for _, tt := range tests {
		if got := (&TransportError{Err: tt.err}).Problem(); got != tt.want {
			t.Errorf("Problem(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
