// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newTestClock() *ManualClock {
	return NewManualClock(time.Date(2021, 8, 18, 18, 10, 0, 0, time.FixedZone("CEST", 2*60*60)))
}

// harness is a portal served over loopback.
type harness struct {
	t      *testing.T
	portal *Portal
	clock  *ManualClock
	server *httptest.Server
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := newTestClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.AgentPeriod == 0 {
		cfg.AgentPeriod = -1 // tests drive the agent by hand unless they say otherwise
	}
	p := New(cfg)
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.Close()
	})
	return &harness{t: t, portal: p, clock: clock, server: srv}
}

// response is one decoded HTTP answer.
type response struct {
	status      int
	contentType string
	body        []byte
}

// envelope splits a success or error answer, keeping `result` raw so that
// tests compare its exact JSON (key order and list/object shape included).
type envelope struct {
	Result           json.RawMessage `json:"result"`
	Time             json.RawMessage `json:"time"`
	Error            *string         `json:"error"`
	ErrorDescription *string         `json:"error_description"`
}

func (r response) envelope(t *testing.T) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, r.body)
	}
	return e
}

func (h *harness) do(req *http.Request) response {
	h.t.Helper()
	resp, err := h.server.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("reading answer: %v", err)
	}
	return response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}
}

func (h *harness) get(path string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.server.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

func (h *harness) post(path, contentType, body string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.server.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return h.do(req)
}

func (h *harness) postJSON(method string, params any) response {
	h.t.Helper()
	body, err := json.Marshal(params)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.post(h.portal.WebhookPath()+method, "application/json", string(body))
}

// importGet calls configuration.import.get and returns its raw result.
func (h *harness) importGet(id int64) string {
	h.t.Helper()
	resp := h.get(h.portal.WebhookPath() + "configuration.import.get?processId=" + strconv.FormatInt(id, 10))
	if resp.status != http.StatusOK {
		h.t.Fatalf("get: HTTP %d: %s", resp.status, resp.body)
	}
	return string(resp.envelope(h.t).Result)
}

// register calls configuration.import.register with a JSON data object and
// returns the raw result.
func (h *harness) register(data any) string {
	h.t.Helper()
	resp := h.postJSON("configuration.import.register", map[string]any{"data": data})
	if resp.status != http.StatusOK {
		h.t.Fatalf("register: HTTP %d: %s", resp.status, resp.body)
	}
	return string(resp.envelope(h.t).Result)
}

func (h *harness) registerID(data any) int64 {
	h.t.Helper()
	var res struct {
		ProcessID int64 `json:"processId"`
	}
	raw := h.register(data)
	if err := json.Unmarshal([]byte(raw), &res); err != nil || res.ProcessID == 0 {
		h.t.Fatalf("register gave no processId: %s", raw)
	}
	return res.ProcessID
}

// compactJSON normalises whitespace so expectations can be written readably.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad expected JSON %q: %v", s, err)
	}
	return b.String()
}

func assertJSON(t *testing.T, what, got, want string) {
	t.Helper()
	if got != compactJSON(t, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, compactJSON(t, want))
	}
}
