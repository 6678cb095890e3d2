// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// The action says where the import is at the first poll and at every
// change, says it is still alive after five quiet minutes, and ends with a
// summary; one request per poll. The clock is fake: 26 polls on the wait's
// schedule (a minute apart, and closer while it follows the agent's rhythm)
// take no real time, and every elapsed time is exact.
func TestImportProgress_messagesAndHeartbeat(t *testing.T) {
	t.Parallel()
	clock := newJumpingClock()
	// The portal's clock is the wait's, as on a real portal, whose answers
	// say its time: the rhythm reads it.
	portal := newTestPortal(t, emulator.Config{Now: clock.Now})
	id := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS"},
		Messages:     []emulator.ScriptedMessage{{AtRun: 5, Type: "notice", Message: "Pipeline renamed"}},
		CreatedItems: []any{"pipeline", "stage"},
	})
	// S for 7 polls, then one step a poll through load, quiet for 12 polls
	// (more than five minutes), then finish (with a notice), the step after
	// the last, and F.
	runsBeforePoll(portal, id, map[int]int{8: 1, 9: 1, 10: 1, 11: 1, 24: 1, 25: 1, 26: 1})

	d := newDirectAction(t, portal, clock)
	resp := d.invoke(context.Background(), processIDValue(id), nil, true)
	if resp.Diagnostics.HasError() {
		t.Fatalf("invoke failed: %v", resp.Diagnostics)
	}

	want := []string{
		"import %d: registered, not started yet (0s elapsed, 1 poll)",
		"import %d: still registered, not started yet (5m0s elapsed, 6 polls; no change for 5m0s)",
		"import %d: running - preparing files, step 0 (7m0s elapsed, 8 polls)",
		"import %d: running - reading the manifest, step 0 (7m5s elapsed, 9 polls)",
		"import %d: running - clearing CRM_STATUS, step 0 (8m7s elapsed, 10 polls)",
		"import %d: running - loading CRM_STATUS, step 0 (9m9s elapsed, 11 polls)",
		"import %d: still running - loading CRM_STATUS, step 0 (15m3s elapsed, 18 polls; no change for 5m54s)",
		"import %d: still running - loading CRM_STATUS, step 0 (20m3s elapsed, 23 polls; no change for 10m54s)",
		"import %d: running - finishing, step 0, 1 notice (21m3s elapsed, 24 polls)",
		"import %d: running - all steps done, about to be marked finished, 1 notice (22m3s elapsed, 25 polls)",
		"import %d finished after 23m3s and 26 polls: 2 items created, 1 notice",
	}
	for i := range want {
		want[i] = fmt.Sprintf(want[i], id)
	}
	if got := strings.Join(d.messages, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("progress messages:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if got := getRequests(portal); got != 26 {
		t.Errorf("the portal answered %d gets; want 26, one per poll", got)
	}
}

// A poll that fails in a way worth another try is said once, without the
// webhook's code, and the next good poll says the import is still there.
func TestImportProgress_failedPollSaidWithoutSecret(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	// Poll 2 fails, with its one retry: the gets the portal sees are poll 1,
	// poll 2 twice, poll 3, poll 4.
	portal.mu.Lock()
	portal.beforePoll = func(get int) {
		switch get {
		case 2:
			portal.InjectFault("configuration.import.get", emulator.Fault{HTTPStatus: 503, Body: "<html>busy</html>", Count: 2})
		case 5:
			portal.RunToEnd(id)
		}
	}
	portal.mu.Unlock()

	clock := newJumpingClock()
	d := newDirectAction(t, portal, clock)
	d.action.provider = testProviderData(t, portal, func(cfg *bitrix24.Config) {
		cfg.Clock, cfg.MaxRetries = clock, 1
		fastRetries(cfg)
	})
	resp := d.invoke(context.Background(), processIDValue(id), nil, true)
	if resp.Diagnostics.HasError() {
		t.Fatalf("invoke failed: %v", resp.Diagnostics)
	}

	all := strings.Join(d.messages, "\n")
	if strings.Contains(all, testWebhookCode) {
		t.Errorf("a progress message shows the webhook code:\n%s", all)
	}
	want := []string{
		fmt.Sprintf("import %d: registered, not started yet (0s elapsed, 1 poll)", id),
		fmt.Sprintf("import %d: poll 2 failed, trying again at the next poll: ", id),
		fmt.Sprintf("import %d: still registered, not started yet (2m0s elapsed, 3 polls; no change for 2m0s)", id),
		fmt.Sprintf("import %d finished after 3m0s and 4 polls: 0 items created, 0 notices", id),
	}
	if len(d.messages) != len(want) {
		t.Fatalf("progress messages:\n%s\nwant %d", all, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(d.messages[i], w) {
			t.Errorf("message %d is %q; want it to start with %q", i+1, d.messages[i], w)
		}
	}
}

// A step that moves within one action (load CRM_STATUS step 1, then step
// 2) is a change worth a line, as a new action is; elapsed times are exact
// to the second, past the first minute too.
func TestImportProgress_stepWithinActionAndExactTimes(t *testing.T) {
	t.Parallel()
	clock := newJumpingClock()
	var lines []string
	p := newImportProgress(42, clock, func(msg string) { lines = append(lines, msg) })
	load := func(step int64) *bitrix24.ImportStatus {
		return &bitrix24.ImportStatus{ProcessID: 42, Status: bitrix24.StatusProcessing,
			Progress: &bitrix24.ImportProgress{Action: "load", Step: step, Section: "CRM_STATUS"}}
	}
	p.poll(bitrix24.PollEvent{ProcessID: 42, Poll: 1, Status: load(1)})
	p.poll(bitrix24.PollEvent{ProcessID: 42, Poll: 2, Elapsed: time.Minute, Status: load(1)})
	p.poll(bitrix24.PollEvent{ProcessID: 42, Poll: 3, Elapsed: 84 * time.Second, Status: load(2)})
	clock.Advance(96 * time.Second)
	p.sendSummary(&bitrix24.ImportStatus{ProcessID: 42, Status: bitrix24.StatusFinished, CreatedItems: []byte("[]")})

	want := []string{
		"import 42: running - loading CRM_STATUS, step 1 (0s elapsed, 1 poll)",
		"import 42: running - loading CRM_STATUS, step 2 (1m24s elapsed, 3 polls)",
		"import 42 finished after 1m36s and 3 polls: 0 items created, 0 notices",
	}
	if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("progress lines:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// An elapsed time is said to the nearest second, as a person reads a clock.
func TestElapsedText_nearestSecond(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "0s",
		499 * time.Millisecond:   "0s",
		1500 * time.Millisecond:  "2s",
		59600 * time.Millisecond: "1m0s",
		5*time.Minute + 29*time.Second + 700*time.Millisecond: "5m30s",
	} {
		if got := elapsedText(d); got != want {
			t.Errorf("elapsedText(%v) = %q, want %q", d, got, want)
		}
	}
}
