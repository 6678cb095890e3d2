// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// call sends one request of method with params (nil: none) as Get and the
// batcher do: the client's transport, envelope decoding, retries and rate
// limit.
func (c *Client) call(ctx context.Context, method string, params any) (*Response, error) {
	if params == nil {
		params = struct{}{}
	}
	body, err := encodeParams(method, params)
	if err != nil {
		return nil, err
	}
	return c.callWithRetries(ctx, method, body, retryState{}, &requestLog{})
}

func TestCall_Request(t *testing.T) {
	portal := newTestPortal(t, ok(resultStarted))
	client := portal.Client()

	if _, err := client.call(context.Background(), "configuration.import.get", map[string]any{"processId": 42}); err != nil {
		t.Fatalf("call: %v", err)
	}
	if _, err := client.call(context.Background(), "server.time", nil); err != nil {
		t.Fatalf("call: %v", err)
	}

	reqs := portal.Requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	want := recordedRequest{
		Method:      http.MethodPost,
		Path:        "/rest/1/" + testWebhookCode + "/configuration.import.get.json",
		ContentType: "application/json",
		UserAgent:   "bitrix24-test/1.0",
		Body:        `{"processId":42}`,
	}
	if reqs[0] != want {
		t.Errorf("request = %+v, want %+v", reqs[0], want)
	}
	if reqs[1].Body != "{}" {
		t.Errorf("nil params sent as %q, want {}", reqs[1].Body)
	}
}

func TestCall_DefaultUserAgent(t *testing.T) {
	portal := newTestPortal(t, ok(resultStarted))
	client := portal.Client(func(c *Config) { c.UserAgent = "" })
	if _, err := client.call(context.Background(), "server.time", nil); err != nil {
		t.Fatal(err)
	}
	if got := portal.Requests()[0].UserAgent; got != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", got, DefaultUserAgent)
	}
}

func TestCall_Success(t *testing.T) {
	portal := newTestPortal(t, reply(http.StatusOK, answerDocExample))
	resp, err := portal.Client().call(context.Background(), "configuration.import.get", map[string]any{"processId": 1})
	if err != nil {
		t.Fatal(err)
	}
	if resp.HTTPStatus != http.StatusOK {
		t.Errorf("HTTPStatus = %d", resp.HTTPStatus)
	}
	var result map[string]any
	if err := json.Unmarshal(resp.Result, &result); err != nil || result["status"] != "P" {
		t.Errorf("Result = %s (%v)", resp.Result, err)
	}
	tm := resp.Time
	if tm == nil {
		t.Fatal("Time is nil")
	}
	if tm.Finish != 1629303001.0443 {
		t.Errorf("Time = %+v", tm)
	}
	if tm.OperatingResetAt != nil {
		t.Errorf("operating fields set for an answer without them: %+v", tm)
	}
}

func TestCall_ExcerptIsShortAndRedacted(t *testing.T) {
	body := "Error: " + strings.Repeat("x", 300) + " /rest/1/" + testWebhookCode + "/"
	portal := newTestPortal(t,
		replyAs(http.StatusInternalServerError, "text/plain", body),
		replyAs(http.StatusInternalServerError, "text/plain", "see https://p/rest/1/"+testWebhookCode+"/ \n\t for details"),
		replyAs(http.StatusInternalServerError, "text/plain", strings.Repeat(" ", 4090)+testWebhookCode),
	)
	client := portal.Client()
	for i := 0; i < 3; i++ {
		_, err := client.call(context.Background(), "m", nil)
		var respErr *ResponseError
		if !errors.As(err, &respErr) {
			t.Fatalf("error is %T", err)
		}
		if n := len([]rune(respErr.Excerpt)); n > excerptRunes+1 {
			t.Errorf("excerpt has %d runes", n)
		}
		assertNoSecret(t, "excerpt", respErr.Excerpt)
		for j := 4; j < len(testWebhookCode); j++ {
			if strings.Contains(respErr.Excerpt, testWebhookCode[:j]) {
				t.Errorf("excerpt shows part of the code: %q", respErr.Excerpt)
				break
			}
		}
		if i == 1 && respErr.Excerpt != "see https://p/rest/1/***/ for details" {
			t.Errorf("excerpt = %q", respErr.Excerpt)
		}
	}
}

func TestCall_BodyEndsEarly(t *testing.T) {
	// The portal promises more bytes than it sends, then closes the connection.
	portal := newTestPortal(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n" +
			`{"result":{"status":"P"`)
		_ = buf.Flush()
	})
	_, err := portal.Client().call(context.Background(), "configuration.import.get", nil)

	var respErr *ResponseError
	if !errors.As(err, &respErr) || !respErr.Truncated {
		t.Fatalf("error = %#v, want a truncated *ResponseError", err)
	}
	if !transient(err) {
		t.Error("transient = false for a truncated body")
	}
	if respErr.Excerpt != `{"result":{"status":"P"` {
		t.Errorf("Excerpt = %q", respErr.Excerpt)
	}
}

func TestCall_OversizeBody(t *testing.T) {
	big := `{"result":"` + strings.Repeat("a", 2000) + `"}`
	portal := newTestPortal(t,
		reply(http.StatusOK, big), // with Content-Length
		func(w http.ResponseWriter, _ *http.Request) { // chunked, without one
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < 2000; i += 100 {
				_, _ = w.Write([]byte(big[i : i+100]))
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write([]byte(big[2000:]))
		},
	)
	client := portal.Client(func(c *Config) { c.MaxResponseBytes = 1024 })

	for _, name := range []string{"Content-Length", "chunked"} {
		_, err := client.call(context.Background(), "m", nil)
		var respErr *ResponseError
		if !errors.As(err, &respErr) {
			t.Fatalf("%s: error is %T (%v), want *ResponseError", name, err, err)
		}
		if !strings.Contains(respErr.Reason, "larger than the limit of 1024 bytes") || respErr.Truncated {
			t.Errorf("%s: error = %+v", name, respErr)
		}
		if transient(err) {
			t.Errorf("%s: an oversize body is transient", name)
		}
	}

	// At the limit exactly, the body is read.
	exact := `{"result":"` + strings.Repeat("a", 1024-13) + `"}`
	portal = newTestPortal(t, reply(http.StatusOK, exact))
	if _, err := portal.Client(func(c *Config) { c.MaxResponseBytes = 1024 }).call(context.Background(), "m", nil); err != nil {
		t.Errorf("body of exactly the limit: %v", err)
	}
}

func TestCall_RequestTimeout(t *testing.T) {
	portal := newTestPortal(t, hang(nil))
	client := portal.Client(func(c *Config) { c.RequestTimeout = 50 * time.Millisecond })

	_, err := client.call(context.Background(), "configuration.import.get", nil)

	_ = errorAs[*TransportError](t, err)
	if !transient(err) {
		t.Error("transient = false for one request timing out")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Error("a request timeout reads as the caller's deadline")
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Error("the error is not a net.Error timeout")
	}
	if !strings.HasSuffix(err.Error(), "/rest/1/***/configuration.import.get.json\": the portal accepted the connection and sent nothing for 50ms") {
		t.Errorf("Error() = %q", err)
	}
	assertNoSecret(t, "error", err.Error())
	if !strings.Contains(err.Error(), "/rest/1/***/configuration.import.get.json") {
		t.Errorf("Error() does not show the redacted URL: %q", err)
	}
}

func TestCall_ContextEnds(t *testing.T) {
	t.Run("cancelled during the request", func(t *testing.T) {
		started := make(chan struct{}, 1)
		portal := newTestPortal(t, hang(started))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-started
			cancel()
		}()

		_, err := portal.Client().call(ctx, "configuration.import.get", nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if transient(err) {
			t.Error("transient = true after the caller cancelled")
		}
		var transportErr *TransportError
		if errors.As(err, &transportErr) {
			t.Error("a cancelled call is a TransportError")
		}
		assertNoSecret(t, "error", err.Error())
	})

	t.Run("cancelled before the request", func(t *testing.T) {
		portal := newTestPortal(t, ok(resultStarted))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := portal.Client().call(ctx, "configuration.import.get", nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if n := len(portal.Requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})

	t.Run("deadline passes", func(t *testing.T) {
		portal := newTestPortal(t, hang(nil))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := portal.Client().call(ctx, "configuration.import.get", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %v, want context.DeadlineExceeded", err)
		}
		if transient(err) {
			t.Error("transient = true after the caller's deadline")
		}
	})
}

func TestCall_ConnectionRefused(t *testing.T) {
	client, err := NewClient(Config{Auth: closedPortWebhook(t)})
	if err != nil {
		t.Fatal(err)
	}

	_, err = client.call(context.Background(), "configuration.import.get", nil)
	_ = errorAs[*TransportError](t, err)
	if transient(err) || classify(err) != failUnreachable {
		t.Errorf("transient = %v, unreachable = %v for a refused connection; want false, true", transient(err), (classify(err) == failUnreachable))
	}
	text := err.Error()
	assertNoSecret(t, "error", text)
	assertNoSecret(t, "unwrapped error", errors.Unwrap(err).Error())
	if !strings.Contains(text, "/rest/1/***/") || !strings.Contains(text, "connection refused") {
		t.Errorf("Error() = %q", text)
	}
}

func TestCall_ConnectionReset(t *testing.T) {
	portal := newTestPortal(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := portal.Client().call(context.Background(), "configuration.import.get", nil)
	_ = errorAs[*TransportError](t, err)
	if !transient(err) {
		t.Error("transient = false for a dropped connection")
	}
	assertNoSecret(t, "error", err.Error())
}

func TestCall_Logs(t *testing.T) {
	portal := newTestPortal(t, ok(resultStarted), reply(http.StatusOK, `{"result":true,"time":[]}`))
	logger := &recordingLogger{}
	client := portal.Client(func(c *Config) { c.Logger = logger })

	for i := 0; i < 2; i++ {
		if _, err := client.call(context.Background(), "configuration.import.get", nil); err != nil {
			t.Fatal(err)
		}
	}

	entries := logger.Entries()
	if len(entries) != 5 {
		t.Fatalf("got %d log entries, want 5: %q", len(entries), entries)
	}
	for _, e := range entries {
		assertNoSecret(t, "log entry", e)
	}
	if !strings.Contains(entries[0], `/rest/1/***/configuration.import.get.json`) {
		t.Errorf("first entry = %s", entries[0])
	}
	if !strings.Contains(entries[1], `"http_status":200`) {
		t.Errorf("second entry = %s", entries[1])
	}
	if !strings.HasPrefix(entries[4], "WARN") {
		t.Errorf("an unreadable time block was not warned about: %s", entries[4])
	}
}

func TestNewClient_invalidConfig(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.bitrix24.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}

	for name, cfg := range map[string]Config{
		"no auth":                   {},
		"negative request timeout":  {Auth: hook, RequestTimeout: -time.Second},
		"negative max. body length": {Auth: hook, MaxResponseBytes: -1},
	} {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}

	client, err := NewClient(Config{Auth: hook})
	if err != nil {
		t.Fatal(err)
	}
	if client.requestTimeout != 70*time.Second || client.maxResponseBytes != 16<<20 || client.userAgent != DefaultUserAgent {
		t.Errorf("defaults: %+v", client)
	}
	if client.ConfigurationImport == nil {
		t.Error("ConfigurationImport is nil")
	}

	// The caller's http.Client is not changed.
	own := &http.Client{}
	if _, err := NewClient(Config{Auth: hook, HTTPClient: own}); err != nil {
		t.Fatal(err)
	}
	if own.CheckRedirect != nil {
		t.Error("NewClient changed the caller's http.Client")
	}
}

// chunkedBody answers 200 with size bytes of JSON-looking text and no
// Content-Length, written from one small block so that the server side
// allocates next to nothing.
func chunkedBody(size int) http.HandlerFunc {
	block := []byte(`{"result":"` + strings.Repeat("a", 64<<10-11))
	filler := []byte(strings.Repeat("a", 64<<10))
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.(http.Flusher).Flush() // headers out now: no Content-Length
		for written := 0; written < size; written += len(block) {
			if _, err := w.Write(block); err != nil {
				return // the client hung up, as it should
			}
			block = filler
		}
	}
}

// bytesAllocated is how many bytes of heap f allocates (the whole process
// counts: run nothing else meanwhile).
func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// An answer larger than the limit is refused once the limit is passed, and
// costs about the limit in memory, however large it is: 64 MiB without a
// Content-Length against the default 16 MiB.
func TestCall_oversizeBodyCostsAtMostTheLimit(t *testing.T) {
	portal := newTestPortal(t, chunkedBody(64<<20))
	client := portal.Client()

	var err error
	allocated := bytesAllocated(func() {
		_, err = client.call(context.Background(), "configuration.import.get", nil)
	})
	var respErr *ResponseError
	if !errors.As(err, &respErr) || !strings.Contains(respErr.Reason, "larger than the limit of 16 MiB") {
		t.Fatalf("error = %v, want the body refused as larger than the limit", err)
	}
	t.Logf("reading a 64 MiB answer allocated %.1f MiB", float64(allocated)/(1<<20))
	if limit := uint64(DefaultMaxResponseBytes) * 5 / 4; allocated > limit {
		t.Errorf("reading a 64 MiB answer allocated %.1f MiB, want at most %.0f MiB (the 16 MiB limit and a margin)",
			float64(allocated)/(1<<20), float64(limit)/(1<<20))
	}
}

// Whatever the size, the hint and the reads' sizes, a body within the limit
// comes back whole and one above it is refused: unread when the hint says
// so, else with its first bytes.
func TestReadLimited(t *testing.T) {
	const limit = 100 << 10
	readers := map[string]func(io.Reader) io.Reader{
		"whole reads":    func(r io.Reader) io.Reader { return r },
		"one byte reads": iotest.OneByteReader,
		"half reads":     iotest.HalfReader,
	}
	for _, size := range []int{0, 1, firstChunkBytes - 1, firstChunkBytes, firstChunkBytes + 1, 3*firstChunkBytes + 5, limit - 1, limit, limit + 1, 3 * limit} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte('a' + i%26)
		}
		for _, hint := range []int64{-1, int64(size)} {
			for name, wrap := range readers {
				what := fmt.Sprintf("%d bytes, hint %d, %s", size, hint, name)
				got, err := readLimited(wrap(bytes.NewReader(body)), hint, limit)
				if size > limit {
					want := body[:firstChunkBytes]
					if hint >= 0 {
						want = nil // refused unread
					}
					if !errors.Is(err, errBodyTooLarge) || !bytes.Equal(got, want) {
						t.Errorf("%s: got %d bytes, %v; want the first %d and errBodyTooLarge", what, len(got), err, len(want))
					}
					continue
				}
				if err != nil || !bytes.Equal(got, body) {
					t.Errorf("%s: got %d bytes, %v; want the body whole", what, len(got), err)
				}
			}
		}
	}
}

// A read error comes back with what was read before it.
func TestReadLimited_readError(t *testing.T) {
	body := strings.Repeat("x", 3*firstChunkBytes)
	got, err := readLimited(io.MultiReader(strings.NewReader(body), iotest.ErrReader(io.ErrUnexpectedEOF)), -1, 1<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) || string(got) != body {
		t.Errorf("got %d bytes, %v; want %d bytes and the read error", len(got), err, len(body))
	}
}

// Reading an answer within the limit, and refusing one four times the
// limit (16 MiB: the default), both without a Content-Length.
func BenchmarkReadLimited(b *testing.B) {
	for _, size := range []int64{2 << 10, 1 << 20, 4 * DefaultMaxResponseBytes} {
		b.Run(formatBytes(size), func(b *testing.B) {
			b.SetBytes(min(size, DefaultMaxResponseBytes+1))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = readLimited(io.LimitReader(endlessText{}, size), -1, DefaultMaxResponseBytes)
			}
		})
	}
}

// endlessText reads as an endless run of letters.
type endlessText struct{}

func (endlessText) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// tlsPortal is an HTTPS portal whose certificate no system trusts, and the
// PEM of that certificate (httptest's is its own CA).
func tlsPortal(t *testing.T) (*httptest.Server, []byte) {
	t.Helper()
	server := httptest.NewTLSServer(ok(resultFinishedEmpty))
	t.Cleanup(server.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	return server, caPEM
}

func TestCall_UntrustedCertificateFailsAtOnce(t *testing.T) {
	server, _ := tlsPortal(t)
	hook, err := ParseWebhookURL(server.URL + "/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(true)
	client, err := NewClient(Config{Auth: hook, MaxRetries: 5, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = client.call(context.Background(), "configuration.import.get", nil)
	if !isCertificateProblem(err) || transient(err) {
		t.Fatalf("error = %v, want a certificate error that is not transient", err)
	}
	if timers := clock.Timers(); len(timers) != 0 {
		t.Errorf("retried an untrusted certificate: backoffs %v", timers)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Error() = %q, want it to name the certificate problem", err)
	}
	assertNoSecret(t, "error", err.Error())
	t.Logf("untrusted certificate refused in %v", time.Since(started))
}

func TestCall_TrustsTheGivenCA(t *testing.T) {
	server, caPEM := tlsPortal(t)
	hook, err := ParseWebhookURL(server.URL + "/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(Config{Auth: hook, CACertPEM: caPEM})
	if err != nil {
		t.Fatal(err)
	}
	status, err := client.ConfigurationImport.Get(context.Background(), 42)
	if err != nil || !status.Finished() {
		t.Fatalf("status %+v, error %v", status, err)
	}
}

func TestParseCACertPEM_bundles(t *testing.T) {
	_, caPEM := tlsPortal(t)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secret key bytes")})
	tests := []struct {
		name  string
		pem   string
		certs int
		err   string
	}{
		{"one certificate", string(caPEM), 1, ""},
		{"a bundle of two", string(caPEM) + string(caPEM), 2, ""},
		{"text around the block", "subject: test CA\n" + string(caPEM) + "\n", 1, ""},
		{"empty", "", 0, "no PEM certificate found"},
		{"not PEM", "MIIB...", 0, "no PEM certificate found"},
		{"a private key", string(keyPEM), 0, `"PRIVATE KEY" block`},
		{"garbage inside the block", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0, "certificate 1 of the PEM does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs, err := ParseCACertPEM([]byte(tt.pem))
			switch {
			case tt.err == "" && (err != nil || len(certs) != tt.certs):
				t.Errorf("%d certificates, error %v; want %d", len(certs), err, tt.certs)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want it to say %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "secret key bytes"):
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

func TestNewClient_CACertPEM(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.example.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(Config{Auth: hook, CACertPEM: []byte("not a certificate")}); err == nil {
		t.Error("NewClient accepted a CACertPEM without a certificate")
	}
	_, caPEM := tlsPortal(t)
	if _, err := NewClient(Config{Auth: hook, CACertPEM: caPEM, HTTPClient: &http.Client{}}); err == nil {
		t.Error("NewClient accepted CACertPEM with an HTTPClient it cannot apply it to")
	}
}
