// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// call sends one request of method with params (nil: none) as Get and the
// batcher do: the client's transport, envelope decoding, retries and rate
// limit.
func (c *Client) call(ctx context.Context, method string, params any) (*Response, error) {
	if params == nil {
		params = struct{}{}
	}
	body, err := json.Marshal(params)
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
