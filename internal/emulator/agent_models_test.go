// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"testing"
	"time"
)

// modelHarness serves a portal with an agent model on a manual clock.
func modelHarness(t *testing.T, model AgentModel) *harness {
	t.Helper()
	return newHarness(t, Config{AgentPeriod: time.Minute, Agent: model})
}

func (h *harness) runs(id int64) int {
	info, _ := h.portal.Process(id)
	return info.Runs
}

// On a quiet hit-driven portal a due run starts only after a request is
// answered, that answer does not show it, and the next run falls due a
// minute after the run ENDED, in whole seconds.
func TestAgentOnHits_runsAfterAnswerAndDueAfterEnd(t *testing.T) {
	h := modelHarness(t, AgentModel{Kind: AgentOnHits, StepDuration: 2500 * time.Millisecond})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})

	h.clock.Add(10 * time.Minute) // long past due, but nobody asked
	if n := h.runs(id); n != 0 {
		t.Fatalf("%d runs without a request; want 0", n)
	}
	if got := h.importGet(id); got != `{"status":"S"}` {
		t.Fatalf("the answer that triggers the run shows %s; want S", got)
	}
	h.clock.Add(2 * time.Second)
	if n := h.runs(id); n != 0 {
		t.Fatalf("%d runs 2 s into a 2.5 s step; want 0", n)
	}
	h.clock.Add(time.Second) // the run ended 0.5 s ago
	if n := h.runs(id); n != 1 {
		t.Fatalf("%d runs after the step; want 1", n)
	}
	// Ended at +2.5 s: due at +62 s (60 s after the end, in whole seconds),
	// not 60 s after the start.
	h.clock.Add(58 * time.Second) // +61 s
	h.importGet(id)
	h.clock.Add(time.Hour)
	if n := h.runs(id); n != 1 {
		t.Fatalf("a request 61 s after the step's start started a run before it was due")
	}
	h.importGet(id) // long past due
	h.clock.Add(2500 * time.Millisecond)
	if n := h.runs(id); n != 2 {
		t.Fatalf("%d runs after a request past due; want 2", n)
	}
}

func TestAgentOnHits_trafficRunsWithoutUs(t *testing.T) {
	h := modelHarness(t, AgentModel{Kind: AgentOnHits, StepDuration: 2 * time.Second, Traffic: time.Second})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	h.clock.Add(60 * time.Second) // due now; the next visitor starts it
	if n := h.runs(id); n != 0 {
		t.Fatalf("%d runs before the step ended", n)
	}
	h.clock.Add(2 * time.Second)
	if n := h.runs(id); n != 1 {
		t.Fatalf("%d runs; want 1", n)
	}
	h.clock.Add(8 * 62 * time.Second)
	info, _ := h.portal.Process(id)
	if info.Status != "F" || info.Runs != info.PlannedRuns {
		t.Fatalf("after 8 periods of 62 s: %+v", info)
	}
	// Each run: due at the previous end + 60 s, started by the next visitor
	// (whole seconds), 2 s long.
	want := 60*time.Second + time.Duration(info.PlannedRuns)*(2*time.Second) + time.Duration(info.PlannedRuns-1)*time.Minute
	if got := info.FinishedAt.Sub(info.RegisteredAt); got != want {
		t.Errorf("finished %v after registration; want %v", got, want)
	}
}

func TestAgentOnCron_runsOnTicks(t *testing.T) {
	h := modelHarness(t, AgentModel{Kind: AgentOnCron, CronEvery: 5 * time.Minute, StepDuration: time.Second})
	// The test clock starts at 18:10:00, a tick.
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	h.clock.Add(4*time.Minute + 59*time.Second)
	if n := h.runs(id); n != 0 {
		t.Fatalf("%d runs before the first tick after due", n)
	}
	h.clock.Add(2 * time.Second) // 18:15:01: the 18:15 tick's run has ended
	if n := h.runs(id); n != 1 {
		t.Fatalf("%d runs after the 18:15 tick; want 1", n)
	}
	h.clock.Add(5 * time.Minute)
	if n := h.runs(id); n != 2 {
		t.Fatalf("%d runs after the 18:20 tick; want 2", n)
	}
}

// With a model, the run that records an exception leaves P with the
// exception listed, and the next run marks E.
func TestAgentModel_exceptionThenE(t *testing.T) {
	h := modelHarness(t, AgentModel{Kind: AgentOnHits, Traffic: time.Second})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}, Messages: []ScriptedMessage{{AtRun: 2, Type: "exception", Message: "boom"}}})
	h.clock.Add(2*time.Minute + time.Second)
	info, _ := h.portal.Process(id)
	if info.Runs != 2 || info.Status != "P" || info.Action != "init_background" {
		t.Fatalf("after the failing run: %+v; want P at init_background", info)
	}
	if got := h.importGet(id); got != `{"status":"P","exception":[{"code":"","message":"boom","type":"exception"}],"progress":{"action":"init_background","step":0,"section":"A"}}` {
		t.Errorf("get = %s", got)
	}
	h.clock.Add(time.Minute)
	info, _ = h.portal.Process(id)
	if info.Runs != 3 || info.Status != "E" || info.Registered {
		t.Fatalf("after the next run: %+v; want E", info)
	}
}
