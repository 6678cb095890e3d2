// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

//go:build linux

// The full accept queue needs a listen backlog of one and Linux's dropping
// of SYNs while the queue is full.

package bitrix24

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// The tests of a silent portal run with the default settings (timeouts,
// MaxRetries, backoffs, rate limit) on a jumping fake clock, against real
// servers on loopback that stay silent; each time the client is stuck on
// the silence, the test moves the clock to the timeout it waits for.

// silence is how a portal stays silent.
type silence int

const (
	silentQueue silence = iota // its accept queue is full: connection attempts get no reply
	silentHTTP                 // it accepts, reads the request, and sends nothing
	silentTLS                  // it accepts, reads the ClientHello, and sends nothing
)

// silenceCase is one way a portal can be silent, and what it costs.
type silenceCase struct {
	name    string
	kind    silence
	timeout time.Duration // of the step that gets no reply
	cause   string        // the end of the error text
}

var silences = []silenceCase{
	{"full accept queue", silentQueue, connectTimeout, "no reply to the connection attempt within 30 s (a firewall may drop it)"},
	{"accept and silence", silentHTTP, DefaultRequestTimeout, "the portal accepted the connection and sent nothing for 70 s"},
	{"accept and silence over TLS", silentTLS, tlsHandshakeTimeout,
		"TLS handshake timed out: the portal accepted the connection and sent no TLS answer within 10 s"},
}

// silentPortal answers its first connections, one request each, and then
// goes silent in the way kind says.
type silentPortal struct {
	t        *testing.T
	kind     silence
	listener net.Listener
	url      string
	tls      *tls.Config // the server's, over TLS
	caPEM    []byte
	answers  int
	conns    atomic.Int32  // accepted
	heard    chan struct{} // one per silent connection, once it has sent what it will get no answer to
	stuck    atomic.Int32  // attempts the clock was moved on for
}

func newSilentPortal(t *testing.T, kind silence, answers int) *silentPortal {
	t.Helper()
	p := &silentPortal{t: t, kind: kind, answers: answers, heard: make(chan struct{}, 100)}
	scheme := "http"
	if kind == silentTLS {
		scheme = "https"
		cert := httptest.NewUnstartedServer(nil)
		cert.StartTLS()
		p.tls = cert.TLS.Clone()
		p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate().Raw})
		cert.Close()
	}
	if kind == silentQueue {
		p.listener = backlogOneListener(t)
	} else {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.listener = listener
	}
	t.Cleanup(func() { p.listener.Close() })
	p.url = scheme + "://" + p.listener.Addr().String() + "/rest/1/" + testWebhookCode + "/"
	go p.accept()
	if kind == silentQueue && answers == 0 {
		p.fillQueue()
	}
	return p
}

// backlogOneListener listens on loopback with a backlog of one.
func backlogOneListener(t *testing.T) net.Listener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	file := os.NewFile(uintptr(fd), "listener")
	defer file.Close()
	listener, err := net.FileListener(file)
	if err != nil {
		t.Fatal(err)
	}
	return listener
}

// fillQueue fills the accept queue of a listener that accepts no more,
// until a connection attempt gets no reply: from then on the kernel drops
// every SYN, as a firewall would.
func (p *silentPortal) fillQueue() {
	p.t.Helper()
	for filled := 0; ; filled++ {
		conn, err := net.DialTimeout("tcp", p.listener.Addr().String(), 300*time.Millisecond)
		if err != nil {
			var netErr net.Error
			if !errors.As(err, &netErr) || !netErr.Timeout() {
				p.t.Fatalf("filling the accept queue: %v", err)
			}
			return
		}
		p.t.Cleanup(func() { conn.Close() })
		if filled > 64 {
			p.t.Fatal("the accept queue never filled")
		}
	}
}

func (p *silentPortal) accept() {
	for {
		if p.kind == silentQueue && int(p.conns.Load()) >= p.answers {
			return // accepts no more: its queue fills up
		}
		conn, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.t.Cleanup(func() { conn.Close() })
		if int(p.conns.Add(1)) <= p.answers {
			go p.answer(conn)
		} else {
			go p.keepSilent(conn)
		}
	}
}

// answer answers one request with a running import and closes the
// connection, so that the next request connects anew.
func (p *silentPortal) answer(conn net.Conn) {
	defer conn.Close()
	if p.tls != nil {
		conn = tls.Server(conn, p.tls)
	}
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		p.t.Errorf("the portal could not read the request: %v", err)
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	body := envelope(resultLoad)
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

// keepSilent reads what the client sends, says so once it has its request
// (or ClientHello), and never answers.
func (p *silentPortal) keepSilent(conn net.Conn) {
	reader := bufio.NewReader(conn)
	if p.kind == silentTLS {
		if _, err := reader.Peek(1); err != nil {
			return
		}
	} else if req, err := http.ReadRequest(reader); err != nil {
		return
	} else if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return
	}
	p.heard <- struct{}{}
	_, _ = io.Copy(io.Discard, reader)
}

// client is a client of the portal with the default settings of the
// provider, on clock.
func (p *silentPortal) client(clock *fakeclock.Clock, plain bool) *Client {
	p.t.Helper()
	hook, err := ParseWebhookURL(p.url)
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := NewClient(Config{Auth: hook, CACertPEM: p.caPEM, MaxRetries: DefaultMaxRetries,
		RateLimit: DefaultRateLimit, RateBurst: DefaultRateBurst, PlainReads: plain, Clock: clock})
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// goSilent starts the silence (a full accept queue fills now) and moves
// clock to the timeout each attempt waits for, once it is stuck: when the
// portal has heard what it will not answer, or, with a full accept queue,
// when a connection attempt starts. It stops at the end of the test.
func (p *silentPortal) goSilent(clock *fakeclock.Clock) {
	p.t.Helper()
	stuck := p.heard
	if p.kind == silentQueue {
		if p.answers > 0 {
			p.fillQueue()
		}
		for len(clock.TimeoutMade()) > 0 { // the timeouts of the requests answered
			<-clock.TimeoutMade()
		}
		made := make(chan struct{}, 100)
		stuck = made
		go func() {
			for {
				select {
				case <-clock.TimeoutMade():
					made <- struct{}{}
				case <-p.t.Context().Done():
					return
				}
			}
		}()
	}
	go func() {
		for {
			select {
			case <-stuck:
				if _, ok := clock.AdvanceToTimeout(); ok {
					p.stuck.Add(1)
				}
			case <-p.t.Context().Done():
				return
			}
		}
	}()
}

var modes = []struct {
	name  string
	plain bool
}{{"batched", false}, {"plain reads", true}}

// silentRun is one silence in one mode: a portal that answers `answers`
// times and then, once goSilent, never again; a client of it on a fake
// clock; and an hour's deadline (timeouts.read's default).
type silentRun struct {
	p     *silentPortal
	c     *Client
	clock *fakeclock.Clock
	ctx   context.Context
}

// eachSilence runs test for each of cases in both modes.
func eachSilence(t *testing.T, cases []silenceCase, answers int, test func(t *testing.T, s silenceCase, r silentRun)) {
	for _, s := range cases {
		for _, mode := range modes {
			t.Run(s.name+", "+mode.name, func(t *testing.T) {
				clock := newFakeClock(true)
				p := newSilentPortal(t, s.kind, answers)
				test(t, s, silentRun{p: p, c: p.client(clock, mode.plain), clock: clock,
					ctx: clock.WithDeadline(testContext(t), time.Hour)})
			})
		}
	}
}

// backoffs bounds the sum of the first n backoffs with the default
// RetryWaitMin: equal jitter takes off up to half of each.
func backoffs(n int) (low, high time.Duration) {
	for i := range n {
		full := min(defaultRetryWaitMin<<i, defaultRetryWaitMax)
		low, high = low+full/2, high+full
	}
	return low, high
}

// assertTook fails unless the read took between low and high of fake time.
func assertTook(t *testing.T, took, low, high time.Duration) {
	t.Helper()
	if took < low || took > high {
		t.Errorf("failed after %v, want between %v and %v", took, low, high)
	}
}

// A portal that has never answered, silent in any way, fails a read after
// two timeouts and one backoff, in both modes, with the cause at the end
// of the error and why it was not tried again.
func TestGet_SilentPortalThatNeverAnswered(t *testing.T) {
	eachSilence(t, silences, 0, func(t *testing.T, s silenceCase, r silentRun) {
		r.p.goSilent(r.clock)

		_, err := r.c.ConfigurationImport.Get(r.ctx, 42)
		took := r.clock.Now().Sub(fakeEpoch)

		low, high := backoffs(1)
		assertTook(t, took, 2*s.timeout+low, 2*s.timeout+high)
		var retryErr *RetryError
		if !errors.As(err, &retryErr) || retryErr.Attempts != 2 || !retryErr.Unanswered || r.p.stuck.Load() != 2 {
			t.Fatalf("error %v after %d stuck attempts; want the second attempt's timeout", err, r.p.stuck.Load())
		}
		if !strings.HasSuffix(err.Error(), s.cause+"; gave up after 2 attempts: the portal has not answered once in this run, "+
			"so a timeout is tried again only once") {
			t.Errorf("error text %q", err)
		}
		assertNoSecret(t, "the error", err.Error())
		t.Logf("%v, %d attempts: %v", took, retryErr.Attempts, err)
	})
}

// A wait stops on a portal that has never answered after the same budget,
// instead of polling it until its deadline.
func TestWait_SilentPortalThatNeverAnswered(t *testing.T) {
	eachSilence(t, silences, 0, func(t *testing.T, s silenceCase, r silentRun) {
		r.p.goSilent(r.clock)

		_, err := r.c.ConfigurationImport.Wait(r.ctx, 42, WaitOptions{PollInterval: time.Minute})
		took := r.clock.Now().Sub(fakeEpoch)

		low, high := backoffs(1)
		assertTook(t, took, 2*s.timeout+low, 2*s.timeout+high)
		var retryErr *RetryError
		if !errors.As(err, &retryErr) || retryErr.Attempts != 2 || errors.As(err, new(*WaitError)) {
			t.Fatalf("error %v; want the first poll's failure", err)
		}
		if want := "waiting for configuration import 42: poll 1: configuration.import.get: request failed: "; !strings.HasPrefix(err.Error(), want) ||
			!strings.Contains(err.Error(), s.cause) {
			t.Errorf("error text %q", err)
		}
		t.Logf("%v: %v", took, err)
	})
}

// A portal that answered once and then went silent is retried as any
// fault: MaxRetries times, a maintenance window waited through.
func TestGet_SilentAfterAnAnswer(t *testing.T) {
	eachSilence(t, silences, 1, func(t *testing.T, s silenceCase, r silentRun) {
		if _, err := r.c.ConfigurationImport.Get(r.ctx, 42); err != nil {
			t.Fatalf("the answered read: %v", err)
		}
		r.p.goSilent(r.clock)
		started := r.clock.Now()

		_, err := r.c.ConfigurationImport.Get(r.ctx, 42)
		took := r.clock.Now().Sub(started)

		low, high := backoffs(DefaultMaxRetries)
		attempts := 1 + DefaultMaxRetries
		assertTook(t, took, time.Duration(attempts)*s.timeout+low, time.Duration(attempts)*s.timeout+high)
		var retryErr *RetryError
		if !errors.As(err, &retryErr) || retryErr.Attempts != attempts || retryErr.Unanswered || int(r.p.stuck.Load()) != attempts {
			t.Fatalf("error %v after %d stuck attempts; want %d", err, r.p.stuck.Load(), attempts)
		}
		if !strings.HasSuffix(err.Error(), s.cause+"; gave up after 6 attempts (max_retries = 5)") {
			t.Errorf("error text %q", err)
		}
		t.Logf("%v: %v", took, err)
	})
}

// A wait on a portal that answered once goes on through its silence until
// its deadline, and then says what the poll in flight was waiting for.
func TestWait_SilentAfterAnAnswer(t *testing.T) {
	eachSilence(t, silences, 1, func(t *testing.T, s silenceCase, r silentRun) {
		var pollErrors int
		_, err := r.c.ConfigurationImport.Wait(r.ctx, 42, WaitOptions{
			PollInterval: time.Minute,
			OnPoll: func(e PollEvent) {
				if e.Poll == 1 {
					r.p.goSilent(r.clock)
				}
			},
			OnPollError: func(PollErrorEvent) { pollErrors++ },
		})

		var waitErr *WaitError
		if !errors.As(err, &waitErr) || waitErr.Waited != time.Hour || waitErr.Last == nil {
			t.Fatalf("error %v; want a timeout after an hour, with the status of the first poll", err)
		}
		// The deadline cuts a poll in flight, unless the last poll
		// gave up on a try that would have come after it.
		cut := 0
		if waitErr.Cut != nil {
			cut = 1
		}
		if pollErrors != waitErr.Polls-1-cut || pollErrors < 2 {
			t.Errorf("%d failed polls of %d (%d cut short); want all but the first and the one cut short", pollErrors, waitErr.Polls, cut)
		}
		if !strings.Contains(err.Error(), "; the last poll failed: ") || !strings.Contains(err.Error(), s.cause+"; gave up after ") {
			t.Errorf("error text %q", err)
		}
		t.Logf("%d polls: %v", waitErr.Polls, err)
	})
}

// A wait whose deadline passes in the middle of a poll says what the poll
// was waiting for, and what the try before it met.
func TestWait_DeadlineCutsAPollMidRequest(t *testing.T) {
	eachSilence(t, silences[1:2], 1, func(t *testing.T, _ silenceCase, r silentRun) { // accept and silence
		// Poll 2 comes at 1m; its first try runs out at 2m10s, its
		// second starts a backoff later and is in flight at 3m.
		ctx := r.clock.WithDeadline(testContext(t), 3*time.Minute)
		_, err := r.c.ConfigurationImport.Wait(ctx, 42, WaitOptions{
			PollInterval: time.Minute,
			OnPoll:       func(PollEvent) { r.p.goSilent(r.clock) },
		})

		var waitErr *WaitError
		if !errors.As(err, &waitErr) || waitErr.Polls != 2 || waitErr.Cut == nil || waitErr.LastErr != nil {
			t.Fatalf("error %v; want a timeout that cut poll 2", err)
		}
		want := "gave up waiting for configuration import 42 after 3m0s and 2 polls: last status P (processing), action load, step 3, " +
			"section CRM_STATUS; the time ran out while the portal had not answered the request in flight (sent 49 s before); " +
			"the try before failed: configuration.import.get: request failed: Post \"" + strings.Replace(r.p.url, testWebhookCode, "***", 1) +
			"configuration.import.get.json\": the portal accepted the connection and sent nothing for 70 s"
		if err.Error() != want {
			t.Errorf("error text\n%s\nwant\n%s", err, want)
		}
	})
}

// A read whose deadline passes in the middle of a request says so, with
// what the request waited for and the failure of the try before, in both
// modes.
func TestGet_ReadTimesOutMidRequest(t *testing.T) {
	eachSilence(t, silences[1:2], 1, func(t *testing.T, _ silenceCase, r silentRun) { // accept and silence
		if _, err := r.c.ConfigurationImport.Get(r.ctx, 42); err != nil {
			t.Fatalf("the answered read: %v", err)
		}
		r.p.goSilent(r.clock)
		// Four tries of 70 s and their backoffs take 283.5 to 287 s:
		// the fifth is in flight at 5 minutes.
		ctx := r.clock.WithDeadline(testContext(t), 5*time.Minute)

		_, err := r.c.ConfigurationImport.Get(ctx, 42)

		var timedOut *ReadTimeoutError
		if !errors.As(err, &timedOut) || !errors.Is(err, context.DeadlineExceeded) || timedOut.After != 5*time.Minute {
			t.Fatalf("error %v; want the read's timeout after 5 minutes", err)
		}
		want := "configuration.import.get: the read timed out after 5m0s while the portal had not answered the request in flight (sent "
		if !strings.HasPrefix(err.Error(), want) ||
			!strings.HasSuffix(err.Error(), " before); the try before failed: configuration.import.get: request failed: Post \""+
				strings.Replace(r.p.url, testWebhookCode, "***", 1)+"configuration.import.get.json\": the portal accepted the connection and sent nothing for 70 s") {
			t.Errorf("error text %q", err)
		}
		if transient(err) {
			t.Error("a read that timed out is transient")
		}
	})
}

// An attempt's timeouts end with it, answered or not: one left running
// would fire into a finished request and, on a fake clock, be the timeout
// the next silent attempt is moved to instead of its own.
func TestCall_AttemptTimeoutsEndWithTheAttempt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply http.HandlerFunc
	}{
		{"a result", ok(`{"STATUS":"F"}`)},
		{"a portal error", reply(http.StatusUnauthorized, `{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}`)},
		{"a body that is not JSON", reply(http.StatusOK, "not JSON")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(false)
			c := newTestPortal(t, tt.reply).Client(func(cfg *Config) { cfg.Clock = clock })
			ctx := testContext(t)

			_, _ = c.call(ctx, "configuration.import.get", nil)

			assertNotHung(t, ctx)
			if moved, pending := clock.AdvanceToTimeout(); pending {
				t.Errorf("a timeout %v long is still pending after the attempt ended", moved)
			}
		})
	}
}
