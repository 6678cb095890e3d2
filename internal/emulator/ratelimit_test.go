// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLeakyBucketAdmit_Standard(t *testing.T) {
	b := leakyBucket{limit: StandardRateLimit}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 50; i++ {
		if !b.admit(t0) {
			t.Fatalf("request %d refused", i)
		}
	}
	// Refused requests do not fill the bucket: after these, half a second
	// still makes room for exactly one.
	for i := 0; i < 100; i++ {
		if b.admit(t0) {
			t.Fatalf("request %d above the burst admitted", 51+i)
		}
	}
	if b.admit(t0.Add(499 * time.Millisecond)) {
		t.Errorf("admitted before one request had drained")
	}
	if !b.admit(t0.Add(500 * time.Millisecond)) {
		t.Errorf("refused after one request had drained")
	}
	if b.admit(t0.Add(500 * time.Millisecond)) {
		t.Errorf("admitted two after one had drained")
	}
	// A long idle empties the bucket, no further than empty.
	later := t0.Add(time.Hour)
	for i := 1; i <= 50; i++ {
		if !b.admit(later) {
			t.Fatalf("after an idle hour, request %d refused", i)
		}
	}
	if b.admit(later) {
		t.Errorf("the bucket drained below empty")
	}
}

func TestLeakyBucketAdmit_ZeroIsNoLimit(t *testing.T) {
	b := leakyBucket{}
	for i := 0; i < 1000; i++ {
		if !b.admit(time.Time{}) {
			t.Fatalf("request %d refused", i)
		}
	}
}

// serve answers one call without a network, fast enough that a burst of
// them takes no noticeable drain time.
func serve(p *Portal, method string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.WebhookPath()+method, nil))
	return rec
}

func TestRateLimit_RefusesAboveBurst(t *testing.T) {
	p := New(Config{RateLimit: StandardRateLimit, AgentPeriod: -1})
	for i := 1; i <= 50; i++ {
		if rec := serve(p, "server.time"); rec.Code != 200 {
			t.Fatalf("request %d: HTTP %d", i, rec.Code)
		}
	}
	rec := serve(p, "server.time")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Type") != jsonContentType {
		t.Errorf("51st: HTTP %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	assertJSON(t, "51st", rec.Body.String(), `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`)
	reqs := p.Requests()
	if last := reqs[len(reqs)-1]; !last.RateLimited || last.Ran || last.HTTPStatus != 503 || last.Outcome() != OutcomeRateLimited {
		t.Errorf("request log: %+v", last)
	}
	if reqs[0].RateLimited || p.RateLimitedCount() != 1 {
		t.Errorf("first logged as rate limited: %v, RateLimitedCount %d", reqs[0].RateLimited, p.RateLimitedCount())
	}

	time.Sleep(500 * time.Millisecond) // one request drains at 2 per second
	if rec := serve(p, "server.time"); rec.Code != 200 {
		t.Errorf("after 0.5 s: HTTP %d", rec.Code)
	}
}

// With Rate 0 nothing drains, so these tests need no clock.

func TestRateLimit_BatchCountsOnce(t *testing.T) {
	h := newHarness(t, Config{RateLimit: RateLimit{Burst: 3}})
	resp := h.postJSON("batch", map[string]any{"cmd": []string{"server.time", "server.time", "server.time"}})
	if resp.status != 200 {
		t.Fatalf("batch: HTTP %d: %s", resp.status, resp.body)
	}
	for i := 1; i <= 2; i++ {
		if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 200 {
			t.Errorf("call %d after the batch: HTTP %d", i, resp.status)
		}
	}
	if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 503 {
		t.Errorf("fourth request: HTTP %d", resp.status)
	}
}

func TestRateLimit_GatewayFaultsComeFirst(t *testing.T) {
	h := newHarness(t, Config{RateLimit: RateLimit{Burst: 1}})
	h.portal.InjectFault("server.time", GatewayHTML(502))
	if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 502 {
		t.Errorf("fault: HTTP %d", resp.status)
	}
	// The gateway's answer took nothing from the bucket.
	h.portal.InjectFault("server.time", BOM())
	if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 200 {
		t.Errorf("first through: HTTP %d", resp.status)
	}
	// A pass-through fault reaches the portal, so the limit answers it.
	h.portal.InjectFault("server.time", BOM())
	resp := h.get(h.portal.WebhookPath() + "server.time")
	if resp.status != 503 || string(resp.body[:3]) != utf8BOM {
		t.Errorf("second through: HTTP %d %q", resp.status, resp.body)
	}
	if last := h.lastRequest(); !last.RateLimited || !last.Fault || last.Outcome() != OutcomeFault {
		t.Errorf("request log: %+v", last)
	}
}
