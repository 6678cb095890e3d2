// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func TestProcess_importSequence(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Sections: []string{"A", "B"}, Files: 1})

	// What get answers before run 1 and after each run.
	want := []string{
		`{"status":"S"}`,
		`{"status":"P","progress":{"action":"init_background","step":0,"section":"A"}}`,
		`{"status":"P","progress":{"action":"manifest","step":0,"section":"A"}}`,
		`{"status":"P","progress":{"action":"clean","step":0,"section":"A"}}`,
		`{"status":"P","progress":{"action":"clean","step":0,"section":"B"}}`,
		`{"status":"P","progress":{"action":"load","step":0,"section":"A"}}`,
		`{"status":"P","progress":{"action":"load","step":1,"section":"A"}}`,
		`{"status":"P","progress":{"action":"load","step":0,"section":"B"}}`,
		`{"status":"P","progress":{"action":"finish","step":0}}`,
		`{"status":"P","progress":{"action":false,"step":0}}`,
		`{"status":"F","additional":[],"createItemList":[]}`,
	}
	info, _ := h.portal.Process(id)
	if info.PlannedRuns != len(want)-1 || info.PlannedRuns != 5+2*2+1 {
		t.Fatalf("PlannedRuns = %d, want %d", info.PlannedRuns, len(want)-1)
	}
	for run, w := range want {
		if run > 0 {
			h.portal.RunAgent()
		}
		assertJSON(t, "after run "+strconv.Itoa(run), h.importGet(id), w)
	}
	h.portal.RunAgent() // nothing left to do
	info, _ = h.portal.Process(id)
	if info.Status != "F" || info.Runs != 10 || info.Registered || info.FinishedAt.IsZero() {
		t.Errorf("final info %+v", info)
	}
}

func TestProcess_plannedRuns(t *testing.T) {
	tests := []struct {
		name   string
		script Script
		runs   int
	}{
		{"nothing", Script{}, 7},
		{"one section", Script{Sections: []string{"A"}}, 7},
		{"three sections two files", Script{Sections: []string{"A", "B", "C"}, Files: 2}, 13},
		{"skip clearing", Script{Sections: []string{"A", "B", "C"}, Files: 2, SkipClearing: true}, 11},
		{"200 files take one background run", Script{Sections: []string{"A"}, Files: 200}, 207},
		{"201 files take two", Script{Sections: []string{"A"}, Files: 201}, 209},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Config{AgentPeriod: -1})
			id := p.CreateProcess(tt.script)
			info, _ := p.Process(id)
			if info.PlannedRuns != tt.runs {
				t.Errorf("PlannedRuns = %d, want %d", info.PlannedRuns, tt.runs)
			}
			p.RunToEnd(id)
			info, _ = p.Process(id)
			if info.Status != "F" || info.Runs != tt.runs {
				t.Errorf("after RunToEnd: %+v", info)
			}
		})
	}
}

func TestProcess_skipClearingAndBackgroundSteps(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Sections: []string{"A", "B"}, Files: 450, SkipClearing: true})
	var got []string
	for {
		info, _ := h.portal.Process(id)
		if info.Status == "F" {
			break
		}
		h.portal.RunAgent()
		info, _ = h.portal.Process(id)
		got = append(got, info.Status+" "+info.Action+" "+strconv.Itoa(info.Step)+" "+info.Section)
		if len(got) > 1000 {
			t.Fatal("never finished")
		}
	}
	// Spot checks: three background runs, one clean run, load spreads 450
	// files as 225 + 225 over the two sections.
	checks := map[int]string{
		0: "P init_background 0 A", 1: "P init_background 1 A", 2: "P init_background 2 A",
		3: "P manifest 0 A", 4: "P clean 0 A", 5: "P load 0 A", 230: "P load 225 A", 231: "P load 0 B",
		456: "P load 225 B", 457: "P finish 0 ", 458: "P  0 ", 459: "F  0 ",
	}
	for i, w := range checks {
		if i >= len(got) || got[i] != w {
			t.Errorf("after run %d: got %q, want %q", i+1, at(got, i), w)
		}
	}
	if len(got) != 460 {
		t.Errorf("%d runs, want 460", len(got))
	}
}

func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return "<none>"
}

func TestProcess_failureAndMessageShapes(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{
		Sections: []string{"A", "B"},
		Messages: []ScriptedMessage{
			{AtRun: 2, Type: "notice", Message: "first notice"},
			{AtRun: 3, Type: "error", Code: "E1", Message: "an error"},
			{AtRun: 3, Type: "notice", Message: "second notice"},
			{AtRun: 5, Type: "exception", Message: "boom"},
			{AtRun: 6, Type: "notice", Message: "never recorded"},
		},
	})

	h.portal.Advance(id, 2)
	assertJSON(t, "after run 2", h.importGet(id),
		`{"status":"P","notice":[{"code":"","message":"first notice","type":"notice"}],
		  "progress":{"action":"manifest","step":0,"section":"A"}}`)

	h.portal.Advance(id, 1)
	assertJSON(t, "after run 3: lists keep their indexes", h.importGet(id),
		`{"status":"P",
		  "notice":{"0":{"code":"","message":"first notice","type":"notice"},"2":{"code":"","message":"second notice","type":"notice"}},
		  "errors":{"1":{"code":"E1","message":"an error","type":"error"}},
		  "progress":{"action":"clean","step":0,"section":"A"}}`)

	h.portal.Advance(id, 1)
	h.portal.Advance(id, 5) // the exception run (executing clean B), then nothing: the process is off the agent
	want := `{"status":"E",
		  "notice":{"0":{"code":"","message":"first notice","type":"notice"},"2":{"code":"","message":"second notice","type":"notice"}},
		  "errors":{"1":{"code":"E1","message":"an error","type":"error"}},
		  "exception":{"3":{"code":"","message":"boom","type":"exception"}},
		  "progress":{"action":"clean","step":0,"section":"B"}}`
	assertJSON(t, "after the exception run: progress names the failed step", h.importGet(id), want)

	info, _ := h.portal.Process(id)
	if info.Status != "E" || info.Runs != 5 || info.Action != "clean" || info.Section != "B" || info.Registered || info.FinishedAt.IsZero() {
		t.Errorf("info %+v", info)
	}
	h.portal.RunAgent()
	h.portal.RunToEnd(id)
	assertJSON(t, "E is final", h.importGet(id), want)
}

func TestProcess_exceptionFirstIsAList(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Messages: []ScriptedMessage{{AtRun: 1, Type: "exception", Code: "X", Message: "at start"}}})
	h.portal.RunAgent()
	assertJSON(t, "get", h.importGet(id),
		`{"status":"E","exception":[{"code":"X","message":"at start","type":"exception"}],"progress":{"action":"start","step":0}}`)
}

func TestProcess_finishedOutcome(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{
		Sections:     []string{"CRM_STATUS"},
		Additional:   map[string]any{"dealCategory": []int{3, 4}},
		CreatedItems: []map[string]any{{"TYPE": "CRM_DEAL_CATEGORY", "ID": 3}},
		Messages:     []ScriptedMessage{{AtRun: 4, Type: "error", Message: "kept"}},
	})
	h.portal.RunToEnd(id)
	assertJSON(t, "get", h.importGet(id),
		`{"status":"F","errors":[{"code":"","message":"kept","type":"error"}],
		  "additional":{"dealCategory":[3,4]},"createItemList":[{"ID":3,"TYPE":"CRM_DEAL_CATEGORY"}]}`)

	empty := h.portal.CreateProcess(Script{Additional: map[string]any{}, CreatedItems: []string{}})
	h.portal.RunToEnd(empty)
	assertJSON(t, "empty outcome", h.importGet(empty), `{"status":"F","additional":[],"createItemList":[]}`)
}

func TestServeHTTP_register(t *testing.T) {
	h := newHarness(t, Config{Manifests: []string{"vertical_crm", "other"}})
	notAvailable := `{"error":"ERROR_MANIFEST_IS_NOT_AVAILABLE","error_description":"Manifest is not available."}`
	tests := []struct {
		name    string
		params  any
		wantErr bool
		runs    int
	}{
		{"no data", map[string]any{}, true, 0},
		{"no manifest", map[string]any{"data": map[string]any{"STRUCTURE": map[string]any{"A": []string{"x"}}}}, true, 0},
		{"empty code", map[string]any{"data": map[string]any{"MANIFEST": map[string]any{"CODE": ""}}}, true, 0},
		{"numeric code", map[string]any{"data": map[string]any{"MANIFEST": map[string]any{"CODE": 5}}}, true, 0},
		{"manifest not allowing import", map[string]any{"data": map[string]any{"MANIFEST": map[string]any{"CODE": "unknown"}}}, true, 0},
		{"data not JSON", map[string]any{"data": "{not json"}, true, 0},
		{"object", map[string]any{"data": map[string]any{
			"MANIFEST":  map[string]any{"CODE": "vertical_crm"},
			"STRUCTURE": map[string]any{"CRM_STATUS": []string{"a"}, "REST_APPLICATION": []string{"b"}},
			"FILES":     []any{map[string]any{"ID": 1}},
		}}, false, 10},
		{"JSON string", map[string]any{"data": `{"MANIFEST":{"CODE":"other","SKIP_CLEARING":"Y"},"STRUCTURE":{"A":[],"B":[],"C":[]}}`}, false, 9},
		{"SKIP_CLEARING must be Y", map[string]any{"data": map[string]any{
			"MANIFEST": map[string]any{"CODE": "other", "SKIP_CLEARING": true}, "STRUCTURE": map[string]any{"A": []string{}, "B": []string{}},
		}}, false, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.postJSON("configuration.import.register", tt.params)
			if resp.status != 200 {
				t.Fatalf("HTTP %d", resp.status)
			}
			raw := string(resp.envelope(t).Result)
			if tt.wantErr {
				assertJSON(t, "result", raw, notAvailable)
				return
			}
			var res struct{ ProcessID int64 }
			if err := json.Unmarshal([]byte(raw), &res); err != nil || res.ProcessID < firstProcessID {
				t.Fatalf("result %s", raw)
			}
			assertJSON(t, "get", h.importGet(res.ProcessID), `{"status":"S"}`)
			if info, _ := h.portal.Process(res.ProcessID); info.PlannedRuns != tt.runs {
				t.Errorf("PlannedRuns = %d, want %d", info.PlannedRuns, tt.runs)
			}
		})
	}

	t.Run("STRUCTURE order is kept", func(t *testing.T) {
		resp := h.post(h.portal.WebhookPath()+"configuration.import.register", "application/json",
			`{"data":{"MANIFEST":{"CODE":"other"},"STRUCTURE":{"Z_FIRST":[],"A_SECOND":[]}}}`)
		var res struct{ ProcessID int64 }
		_ = json.Unmarshal(resp.envelope(t).Result, &res)
		h.portal.Advance(res.ProcessID, 4)
		assertJSON(t, "get", h.importGet(res.ProcessID), `{"status":"P","progress":{"action":"clean","step":0,"section":"A_SECOND"}}`)
	})

	t.Run("scripted next register", func(t *testing.T) {
		h.portal.ScriptNextRegister(Script{
			Messages:   []ScriptedMessage{{AtRun: 1, Type: "exception", Message: "no"}},
			Additional: map[string]any{"x": 1},
		})
		id := h.registerID(map[string]any{"MANIFEST": map[string]any{"CODE": "other"}})
		h.portal.RunAgent()
		assertJSON(t, "get", h.importGet(id), `{"status":"E","exception":[{"code":"","message":"no","type":"exception"}],"progress":{"action":"start","step":0}}`)
		second := h.registerID(map[string]any{"MANIFEST": map[string]any{"CODE": "other"}})
		h.portal.RunToEnd(second)
		assertJSON(t, "unscripted", h.importGet(second), `{"status":"F","additional":[],"createItemList":[]}`)
	})
}

func TestServeHTTP_unregister(t *testing.T) {
	h := newHarness(t, Config{})
	notFound := `{"error":"PROCESS_NOT_FOUND","error_description":"Process doesn't found."}`
	unregister := func(id string) string {
		return string(h.postJSON("configuration.import.unregister", map[string]any{"processId": id}).envelope(t).Result)
	}

	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	ids := strconv.FormatInt(id, 10)
	h.portal.RunAgent()
	assertJSON(t, "first", unregister(ids), `{"success":"Y"}`)
	assertJSON(t, "second", unregister(ids), notFound)
	// The status stays readable and frozen: the agent no longer runs it.
	h.portal.RunAgent()
	h.portal.RunToEnd(id)
	assertJSON(t, "get after unregister", h.importGet(id), `{"status":"P","progress":{"action":"init_background","step":0,"section":"A"}}`)

	assertJSON(t, "unknown", unregister("999999"), notFound)
	assertJSON(t, "non-numeric", unregister("abc"), notFound)
	assertJSON(t, "missing", string(h.postJSON("configuration.import.unregister", map[string]any{}).envelope(t).Result), notFound)

	finished := h.portal.CreateProcess(Script{})
	h.portal.RunToEnd(finished)
	assertJSON(t, "after F the portal has unregistered it", unregister(strconv.FormatInt(finished, 10)), notFound)

	waiting := h.portal.CreateProcess(Script{})
	if !h.portal.Unregister(waiting) || h.portal.Unregister(waiting) {
		t.Errorf("Unregister should succeed once")
	}
	assertJSON(t, "S stays S", h.importGet(waiting), `{"status":"S"}`)
}

func TestPortal_retention(t *testing.T) {
	h := newHarness(t, Config{Retention: 72 * time.Hour})
	idle := h.portal.CreateProcess(Script{})
	running := h.portal.CreateProcess(Script{Sections: []string{"A"}})

	h.clock.Add(time.Hour)
	h.portal.Advance(running, 1) // a run writes the process: its retention restarts

	h.clock.Add(71*time.Hour - time.Second)
	assertJSON(t, "just before", h.importGet(idle), `{"status":"S"}`)
	h.clock.Add(time.Second)
	assertJSON(t, "purged", h.importGet(idle), `{"status":"U"}`)
	if _, ok := h.portal.Process(idle); ok {
		t.Errorf("Process still reports a purged import")
	}
	assertJSON(t, "written later", h.importGet(running), `{"status":"P","progress":{"action":"init_background","step":0,"section":"A"}}`)

	h.clock.Add(time.Hour)
	assertJSON(t, "purged too", h.importGet(running), `{"status":"U"}`)
	h.portal.RunAgent() // nothing to run, nothing resurrected
	assertJSON(t, "still purged", h.importGet(running), `{"status":"U"}`)
}

func TestPortal_processInfo(t *testing.T) {
	h := newHarness(t, Config{})
	registered := h.clock.Now()
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	info, ok := h.portal.Process(id)
	if !ok || info.ID != id || info.Status != "S" || info.Action != "" || info.Runs != 0 ||
		!info.RegisteredAt.Equal(registered) || !info.FinishedAt.IsZero() || !info.Registered || info.PlannedRuns != 7 {
		t.Errorf("new: %+v", info)
	}
	h.portal.Advance(id, 5)
	info, _ = h.portal.Process(id)
	if info.Status != "P" || info.Action != "finish" || info.Section != "" || info.Runs != 5 {
		t.Errorf("after 5 runs: %+v", info)
	}
	h.portal.Advance(id, 1)
	info, _ = h.portal.Process(id)
	if info.Status != "P" || info.Action != "" {
		t.Errorf("action false: %+v", info)
	}
	h.clock.Add(time.Minute)
	h.portal.Advance(id, 100)
	info, _ = h.portal.Process(id)
	if info.Status != "F" || info.Runs != 7 || !info.FinishedAt.Equal(registered.Add(time.Minute)) {
		t.Errorf("finished: %+v", info)
	}
	if _, ok := h.portal.Process(424242); ok {
		t.Errorf("unknown process reported")
	}
}
