// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"strings"
	"testing"
	"time"
)

func TestParseStepRef_good(t *testing.T) {
	tests := []struct {
		in   string
		want StepRef
	}{
		{"start", StepRef{Action: "start", Step: -1}},
		{"load", StepRef{Action: "load", Step: -1}},
		{"load:1", StepRef{Action: "load", Step: 1}},
		{"clean:CRM_STATUS", StepRef{Action: "clean", Section: "CRM_STATUS", Step: -1}},
		{"load:CRM_DEAL_CATEGORY:0", StepRef{Action: "load", Section: "CRM_DEAL_CATEGORY", Step: 0}},
		{"init_background:2", StepRef{Action: "init_background", Step: 2}},
	}
	for _, tt := range tests {
		got, err := ParseStepRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseStepRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

func TestParseStepRef_bad(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", `unknown action ""`},
		{"loading", `unknown action "loading": want start, init_background, manifest, clean, load, finish`},
		{"load:-1", "step -1: want 0 or more"},
		{"load:A:B:1", "want ACTION[:SECTION][:STEP]"},
		{"load::1", "empty section"},
	}
	for _, tt := range tests {
		if _, err := ParseStepRef(tt.in); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseStepRef(%q): error %v, want one containing %q", tt.in, err, tt.wantErr)
		}
	}
}

// An import registered over HTTP fails at the step Config.FailRegistered
// names, as a step that throws does on the portal: E, progress naming that
// step, the exception listed; the steps before it ran as usual.
func TestFailure_registeredImportFailsAtTheStep(t *testing.T) {
	// Raw JSON: STRUCTURE's order is the sections' order.
	const data = `{"MANIFEST": {"CODE": "landing_page"}, "STRUCTURE": {"CRM_STATUS": ["a"], "CRM_DEAL_CATEGORY": ["b"]},
		"FILES": [{"ID": 1}, {"ID": 2}]}`
	tests := []struct {
		at       string
		wantRuns int // the failing run
		progress string
	}{
		{"start", 1, `{"action":"start","step":0,"section":"CRM_STATUS"}`},
		{"manifest", 3, `{"action":"manifest","step":0,"section":"CRM_STATUS"}`},
		{"clean:CRM_DEAL_CATEGORY", 5, `{"action":"clean","step":0,"section":"CRM_DEAL_CATEGORY"}`},
		{"load:1", 7, `{"action":"load","step":1,"section":"CRM_STATUS"}`},
		{"load:CRM_DEAL_CATEGORY:1", 9, `{"action":"load","step":1,"section":"CRM_DEAL_CATEGORY"}`},
		{"finish", 10, `{"action":"finish","step":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			at, err := ParseStepRef(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, Config{FailRegistered: &Failure{At: at, Message: "Could not read the file."}})
			id := h.registerID(data)
			h.portal.RunToEnd(id)
			assertJSON(t, "get", h.importGet(id), `{"status":"E",
				"exception":[{"code":"","message":"Could not read the file.","type":"exception"}],
				"progress":`+tt.progress+`}`)
			if info, _ := h.portal.Process(id); info.Runs != tt.wantRuns {
				t.Errorf("failed on run %d, want %d", info.Runs, tt.wantRuns)
			}
		})
	}

	t.Run("an import without the step finishes", func(t *testing.T) {
		h := newHarness(t, Config{FailRegistered: &Failure{At: StepRef{Action: "load", Section: "REST_APPLICATION", Step: -1}, Message: "x"}})
		id := h.registerID(data)
		h.portal.RunToEnd(id)
		if info, _ := h.portal.Process(id); info.Status != "F" {
			t.Errorf("status %s, want F", info.Status)
		}
	})
}

// With an agent model the run that throws leaves P and the next run marks
// E, as on the portal; progress still names the failed step.
func TestFailure_withAnAgentModel(t *testing.T) {
	clock := newTestClock()
	h := newHarness(t, Config{
		Now: clock.Now, AgentPeriod: time.Minute, Agent: AgentModel{Kind: AgentOnCron, CronEvery: time.Minute},
		FailRegistered: &Failure{At: StepRef{Action: "manifest", Step: -1}, Code: "X", Message: "boom"},
	})
	id := h.registerID(map[string]any{"MANIFEST": map[string]any{"CODE": "ui_masks"}, "STRUCTURE": map[string]any{"UI_MASK": []string{}}})
	var got []string
	for range 6 {
		clock.Add(time.Minute)
		info, _ := h.portal.Process(id)
		got = append(got, info.Status+" "+info.Action)
	}
	if strings.Join(got, ", ") != "P init_background, P manifest, P manifest, E manifest, E manifest, E manifest" {
		t.Errorf("after each minute: %s", strings.Join(got, ", "))
	}
	assertJSON(t, "get", h.importGet(id), `{"status":"E","exception":[{"code":"X","message":"boom","type":"exception"}],
		"progress":{"action":"manifest","step":0,"section":"UI_MASK"}}`)
}

func TestFailure_scriptedImport(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}, FailAt: &Failure{At: StepRef{Action: "load", Step: 0}, Message: "no"}})
	h.portal.RunToEnd(id)
	assertJSON(t, "get", h.importGet(id), `{"status":"E","exception":[{"code":"","message":"no","type":"exception"}],
		"progress":{"action":"load","step":0,"section":"A"}}`)
}
