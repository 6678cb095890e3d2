// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lastRequest is the newest entry of the request log.
func (h *harness) lastRequest() Request {
	h.t.Helper()
	reqs := h.portal.Requests()
	if len(reqs) == 0 {
		h.t.Fatal("no request logged")
	}
	return reqs[len(reqs)-1]
}

func TestBOM_PrefixesTheRealAnswer(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	h.portal.InjectFault("configuration.import.get", BOM())
	resp := h.get(h.portal.WebhookPath() + "configuration.import.get?processId=" + strconv.FormatInt(id, 10))

	body, found := bytes.CutPrefix(resp.body, []byte{0xEF, 0xBB, 0xBF})
	if !found || resp.status != 200 || resp.contentType != jsonContentType {
		t.Fatalf("HTTP %d %q, body %q: want a byte-order mark before JSON", resp.status, resp.contentType, resp.body)
	}
	assertJSON(t, "result", string(response{body: body}.envelope(t).Result), `{"status":"S"}`)
	if last := h.lastRequest(); !last.Fault || !last.Ran || last.ResultStatus != "S" || last.HTTPStatus != 200 || last.Outcome() != OutcomeFault {
		t.Errorf("request log: %+v", last)
	}
}

func TestEmptyBody_IsAnEmpty200(t *testing.T) {
	h := newHarness(t, Config{})
	h.portal.InjectFault("server.time", EmptyBody())
	resp := h.get(h.portal.WebhookPath() + "server.time")
	if resp.status != 200 || len(resp.body) != 0 || !strings.HasPrefix(resp.contentType, "text/html") {
		t.Errorf("HTTP %d %q, body %q", resp.status, resp.contentType, resp.body)
	}
	if last := h.lastRequest(); !last.Fault || last.Ran {
		t.Errorf("request log: %+v", last)
	}
}

func TestRedirect_Answers302WithLocation(t *testing.T) {
	h := newHarness(t, Config{})
	location := h.server.URL + h.portal.WebhookPath() + "server.time"
	h.portal.InjectFault("server.time", Redirect(location))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(location)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != location {
		t.Errorf("HTTP %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if last := h.lastRequest(); !last.Fault || last.Ran || last.HTTPStatus != http.StatusFound {
		t.Errorf("request log: %+v", last)
	}

	t.Run("a following client lands on the location", func(t *testing.T) {
		h.portal.InjectFault("server.time", Redirect(location))
		if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 200 {
			t.Errorf("HTTP %d: %s", resp.status, resp.body)
		}
	})
}

func TestWAFRateLimitHTML_IsAnHTML429(t *testing.T) {
	h := newHarness(t, Config{})
	h.portal.InjectFault("", WAFRateLimitHTML())
	resp := h.get(h.portal.WebhookPath() + "server.time")
	if resp.status != http.StatusTooManyRequests || !strings.HasPrefix(resp.contentType, "text/html") ||
		!strings.Contains(string(resp.body), "<title>429 Too Many Requests</title>") {
		t.Errorf("HTTP %d %q: %s", resp.status, resp.contentType, resp.body)
	}
}

func TestSlow_DelaysTheRealAnswer(t *testing.T) {
	h := newHarness(t, Config{})
	const delay = 100 * time.Millisecond
	h.portal.InjectFault("server.time", Slow(delay))
	started := time.Now()
	resp := h.get(h.portal.WebhookPath() + "server.time")
	if took := time.Since(started); resp.status != 200 || took < delay {
		t.Errorf("HTTP %d after %v", resp.status, took)
	}
	assertJSON(t, "result", string(resp.envelope(t).Result), `"2021-08-18T18:10:00+02:00"`)
	if last := h.lastRequest(); !last.Fault || !last.Ran || last.HTTPStatus != 200 {
		t.Errorf("request log: %+v", last)
	}
}

func TestSlow_EndsWhenTheClientGoesAway(t *testing.T) {
	p := New(Config{AgentPeriod: -1})
	p.InjectFault("configuration.import.register", Slow(time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req := httptest.NewRequest(http.MethodPost, p.WebhookPath()+"configuration.import.register",
		strings.NewReader(`{"data":{"MANIFEST":{"CODE":"x"}}}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	served := make(chan struct{})
	go func() {
		defer close(served)
		p.ServeHTTP(rec, req)
	}()
	// The call is logged once the method has run, before the wait starts.
	for deadline := time.Now().Add(5 * time.Second); len(p.Requests()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call was never logged")
		}
	}
	cancel()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still waits after the client went away")
	}
	if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Errorf("answered anyway: %v %q", rec.Header(), rec.Body.Bytes())
	}
	if _, ok := p.Process(firstProcessID); !ok {
		t.Errorf("the method did not run")
	}
}

func TestHangup_AfterCall(t *testing.T) {
	h := newHarness(t, Config{})
	h.portal.InjectFault("configuration.import.register", Fault{Hangup: true, AfterCall: true})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(h.server.URL+h.portal.WebhookPath()+"configuration.import.register",
		"application/json", strings.NewReader(`{"data":{"MANIFEST":{"CODE":"x"}}}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("expected a connection error, got HTTP %d", resp.StatusCode)
	}
	if _, ok := h.portal.Process(firstProcessID); !ok {
		t.Errorf("the method did not run")
	}
	if last := h.lastRequest(); !last.Fault || !last.Ran || last.HTTPStatus != 0 || last.Outcome() != OutcomeDropped {
		t.Errorf("request log: %+v", last)
	}
}

func TestFaultApply_ChangesOnlyWhatItSays(t *testing.T) {
	portal := answer{status: 201, contentType: "application/x-portal", body: []byte("real")}
	tests := []struct {
		name  string
		fault Fault
		want  answer
	}{
		{"own answer with defaults", Fault{Body: "x"}, answer{status: 200, contentType: jsonContentType, body: []byte("x")}},
		{"after the call the own answer", Fault{AfterCall: true, HTTPStatus: 504, ContentType: "text/html", Body: "x"},
			answer{status: 504, contentType: "text/html", body: []byte("x")}},
		{"pass-through keeps the real answer", Fault{PassThrough: true, HTTPStatus: 504, Body: "x"}, portal},
		{"prefix on the real answer", Fault{PassThrough: true, Prefix: ">"},
			answer{status: 201, contentType: "application/x-portal", body: []byte(">real")}},
		{"prefix on the own answer", Fault{Prefix: ">", Body: "x"}, answer{status: 200, contentType: jsonContentType, body: []byte(">x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.fault.apply(portal, time.Time{})
			if got.status != tt.want.status || got.contentType != tt.want.contentType || string(got.body) != string(tt.want.body) {
				t.Errorf("got %d %q %q, want %d %q %q", got.status, got.contentType, got.body, tt.want.status, tt.want.contentType, tt.want.body)
			}
		})
	}
}

func TestOperationTimeLimitUntil_CarriesTheResetTime(t *testing.T) {
	h := newHarness(t, Config{Cloud: true})
	h.portal.InjectFault("configuration.import.get", OperationTimeLimitUntil(h.clock.Now().Add(7*time.Minute)))
	resp := h.get(h.portal.WebhookPath() + "configuration.import.get?processId=1")
	if resp.status != http.StatusTooManyRequests || resp.contentType != jsonContentType {
		t.Errorf("HTTP %d %q", resp.status, resp.contentType)
	}
	assertJSON(t, "body", string(resp.body), `{"error":"OPERATION_TIME_LIMIT",
		"error_description":"Method is blocked due to operation time limit.",
		"time":{"start":1629303000.0,"finish":1629303000.0,"duration":0.0,"processing":0.0,
			"date_start":"2021-08-18T18:10:00+02:00","date_finish":"2021-08-18T18:10:00+02:00",
			"operating_reset_at":1629303420,"operating":420.0}}`)
	if last := h.lastRequest(); !last.Fault || last.Ran || last.HTTPStatus != http.StatusTooManyRequests {
		t.Errorf("request log: %+v", last)
	}
}

func TestOperationTimeLimitFor_ResetsAfterEachAnswer(t *testing.T) {
	h := newHarness(t, Config{})
	f := OperationTimeLimitFor(5 * time.Second)
	f.Count = 2
	h.portal.InjectFault("server.time", f)
	for _, wait := range []time.Duration{0, time.Minute} {
		h.clock.Add(wait)
		var body struct {
			Error string
			Time  struct {
				Start            float64
				OperatingResetAt int64 `json:"operating_reset_at"`
			}
		}
		if err := json.Unmarshal(h.get(h.portal.WebhookPath()+"server.time").body, &body); err != nil {
			t.Fatal(err)
		}
		want := h.clock.Now().Add(5 * time.Second).Unix()
		if body.Error != "OPERATION_TIME_LIMIT" || body.Time.OperatingResetAt != want || int64(body.Time.Start) != h.clock.Now().Unix() {
			t.Errorf("after %v: %+v, want operating_reset_at %d", wait, body, want)
		}
	}
}

func TestOperationTimeLimit_HasNoTimeBlock(t *testing.T) {
	assertJSON(t, "body", OperationTimeLimit().Body,
		`{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit."}`)
}

// A fault with For answers every call for that long from the first it
// answers, then the portal answers again.
func TestInjectFault_window(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := New(Config{Now: clock.Now, AgentPeriod: -1})
	f := QueryLimitExceeded()
	f.For = time.Minute
	p.InjectFault("", f)
	call := func() Request {
		p.handle(route{webhook: true, userID: "1", code: DefaultWebhookCode, method: "server.time"}, newPHPArray(), clock.Now(), true)
		requests := p.Requests()
		return requests[len(requests)-1]
	}
	for range 3 {
		if r := call(); !r.Fault {
			t.Fatal("a call inside the window was answered")
		}
		clock.Add(25 * time.Second)
	}
	if r := call(); r.Fault || !r.Ran {
		t.Errorf("a call after the window: %+v", r)
	}
}

// A command fault answers one command inside a batch with its error while
// the others run; it then sticks to that command's process id for its
// Count, in a batch or in a plain request.
func TestInjectCommandFault(t *testing.T) {
	p := New(Config{AgentPeriod: -1})
	a := p.CreateProcess(Script{Sections: []string{"CRM_STATUS"}})
	b := p.CreateProcess(Script{Sections: []string{"CRM_STATUS"}})
	f := InternalServerError()
	f.Count = 2
	p.InjectCommandFault("configuration.import.get", f)
	hook := route{webhook: true, userID: "1", code: DefaultWebhookCode}
	batch := func() *phpArray {
		params := decodeJSONOrdered([]byte(fmt.Sprintf(`{"halt":0,"cmd":{"a":"configuration.import.get?processId=%d","b":"configuration.import.get?processId=%d"}}`, a, b)))
		hook.method = "batch"
		ans := p.handle(hook, params.(*phpArray), time.Now(), true)
		return decodeJSONOrdered(ans.body).(*phpArray).child("result")
	}
	first := batch()
	if first.child("result_error").len() != 1 || first.child("result").len() != 1 {
		t.Fatalf("first batch: %s", mustJSON(first))
	}
	failedKey := first.child("result_error").keys[0]
	failedID := map[string]int64{"a": a, "b": b}[failedKey]
	hook.method = "configuration.import.get"
	ans := p.handle(hook, decodeJSONOrdered([]byte(fmt.Sprintf(`{"processId":%d}`, failedID))).(*phpArray), time.Now(), true)
	if ans.status != http.StatusInternalServerError {
		t.Errorf("the plain read of the failed id: HTTP %d, want the fault's 500", ans.status)
	}
	if second := batch(); second.child("result_error").len() != 0 {
		t.Errorf("the fault outlived its count: %s", mustJSON(second))
	}
	if got := p.Requests()[0].CommandFaults; got != 1 {
		t.Errorf("CommandFaults = %d, want 1", got)
	}
}
