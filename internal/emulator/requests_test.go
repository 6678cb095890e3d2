// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"maps"
	"net/http"
	"slices"
	"testing"
)

func TestRequestOutcome_CountsEachKind(t *testing.T) {
	h := newHarness(t, Config{RateLimit: RateLimit{Burst: 1}})
	path := h.portal.WebhookPath() + "server.time"
	h.get(path)
	h.get(path)
	h.portal.InjectFault("server.time", GatewayHTML(504))
	h.get(path)
	h.portal.InjectFault("server.time", Hangup())
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := client.Get(h.server.URL + path); err == nil {
		t.Fatal("expected a connection error")
	}

	got := map[Outcome]int{}
	for _, r := range h.portal.Requests() {
		got[r.Outcome()]++
	}
	want := map[Outcome]int{OutcomeAnswered: 1, OutcomeRateLimited: 1, OutcomeFault: 1, OutcomeDropped: 1}
	if !maps.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

func TestRequest_ProcessIDs(t *testing.T) {
	h := newHarness(t, Config{})
	h.postJSON("configuration.import.get", map[string]any{"processId": 42})
	h.postJSON("batch", map[string]any{"halt": 0, "cmd": map[string]any{
		"p7": "configuration.import.get?processId=7",
		"t":  "server.time",
		"p8": "Configuration.Import.Get?processId=8",
	}})
	h.postJSON("server.time", nil)

	requests := h.portal.Requests()
	got := requests[1].ProcessIDs()
	slices.Sort(got)
	if ids := requests[0].ProcessIDs(); !slices.Equal(ids, []string{"42"}) {
		t.Errorf("get: %v", ids)
	}
	if !slices.Equal(got, []string{"7", "8"}) {
		t.Errorf("batch: %v", got)
	}
	if ids := requests[2].ProcessIDs(); ids != nil {
		t.Errorf("server.time: %v", ids)
	}
}
