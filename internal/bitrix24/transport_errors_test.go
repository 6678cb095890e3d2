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
			_, err = c.call(clock.WithDeadline(context.Background(), time.Hour), "configuration.import.get", nil)
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
		{&timeoutError{step: stepConnect, after: connectTimeout}, ProblemConnectTimeout},
		{&timeoutError{step: stepTLS, after: tlsHandshakeTimeout}, ProblemTLSHandshakeTimeout},
		{netHTTPTLSTimeout{}, ProblemTLSHandshakeTimeout},
		{&timeoutError{step: stepAnswer, after: DefaultRequestTimeout}, ProblemNoResponse},
		{&timeoutError{step: stepBody, after: DefaultRequestTimeout}, ProblemNoAnswer},
		{http.ErrSchemeMismatch, ProblemPlainHTTP},
	}
	for _, tt := range tests {
		if got := (&TransportError{Err: tt.err}).Problem(); got != tt.want {
			t.Errorf("Problem(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestTransportError_RedactsItsText(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	e := &TransportError{Method: "m", Err: errors.New("proxy said: " + hook.MethodURL("m")), redact: hook.Redact}
	assertNoSecret(t, "error", e.Error())
}
