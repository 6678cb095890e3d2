// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestConfigurationImportGet_answers(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		want     ImportStatus
		state    string
		terminal bool
	}{
		{
			name:   "documentation example",
			answer: answerDocExample,
			want: ImportStatus{
				Status:   "P",
				Progress: &ImportProgress{Action: "manifest", Step: 0, Section: "REST_APPLICATION"},
			},
			state: "processing",
		},
		{
			name:   "registered, not started",
			answer: envelope(resultStarted),
			want:   ImportStatus{Status: "S"},
			state:  "started",
		},
		{
			name:   "action start",
			answer: envelope(resultStart),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "start"}},
			state:  "processing",
		},
		{
			name:   "action init_background",
			answer: envelope(resultInitBackground),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "init_background"}},
			state:  "processing",
		},
		{
			name:   "action manifest",
			answer: envelope(resultManifest),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "manifest", Section: "REST_APPLICATION"}},
			state:  "processing",
		},
		{
			name:   "action clean",
			answer: envelope(resultClean),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "clean", Step: 1, Section: "CRM_STATUS"}},
			state:  "processing",
		},
		{
			name:   "action load",
			answer: envelope(resultLoad),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"}},
			state:  "processing",
		},
		{
			name:   "action finish",
			answer: envelope(resultFinish),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "finish"}},
			state:  "processing",
		},
		{
			name:   "action false",
			answer: envelope(resultActionFalse),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "", Step: 7}},
			state:  "processing",
		},
		{
			name:   "step as a string",
			answer: envelope(resultStepString),
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"}},
			state:  "processing",
		},
		{
			name:     "finished, empty lists",
			answer:   envelope(resultFinishedEmpty),
			want:     ImportStatus{Status: "F", Additional: json.RawMessage(`{}`), CreatedItems: json.RawMessage(`[]`)},
			state:    "finished",
			terminal: true,
		},
		{
			name:     "finished, empty object",
			answer:   envelope(resultFinishedEmptyObj),
			want:     ImportStatus{Status: "F", Additional: json.RawMessage(`{}`), CreatedItems: json.RawMessage(`[]`)},
			state:    "finished",
			terminal: true,
		},
		{
			name:   "finished with additional and createItemList",
			answer: envelope(resultFinishedWithResult),
			want: ImportStatus{
				Status:       "F",
				Notices:      []ImportMessage{{Message: "Imported 2 sections", Type: "notice"}},
				Additional:   json.RawMessage(`{"APP_ID":12,"MANIFEST_CODE":"vertical_crm"}`),
				CreatedItems: json.RawMessage(`[{"ENTITY":"CRM_STATUS","ID":"45"},{"ENTITY":"TASKS","ID":7}]`),
			},
			state:    "finished",
			terminal: true,
		},
		{
			name:   "failed",
			answer: envelope(resultFailed),
			want: ImportStatus{
				Status:   "E",
				Progress: &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"},
				Notices: []ImportMessage{
					{Message: "Section CRM_STATUS cleaned", Type: "notice"},
					{Message: "Loading CRM_STATUS", Type: "notice"},
				},
				Errors:     []ImportMessage{{Code: "ERROR_STATUS_EXISTS", Message: "Status NEW exists", Type: "error"}},
				Exceptions: []ImportMessage{{Message: "Cannot read file 12.json", Type: "exception"}},
			},
			state:    "failed",
			terminal: true,
		},
		{
			name:     "unknown",
			answer:   envelope(resultUnknown),
			want:     ImportStatus{Status: "U"},
			state:    "unknown",
			terminal: true,
		},
		{
			name:   "unrecognised letter",
			answer: envelope(resultUnrecognised),
			want:   ImportStatus{Status: "X", Progress: &ImportProgress{Action: "load", Step: 1}},
			state:  "unknown",
		},
		{
			name:   "object keys ordered by number",
			answer: envelope(resultNoticeTenKeys),
			want: ImportStatus{Status: "P", Notices: []ImportMessage{
				{Message: "two", Type: "notice"}, {Message: "nine", Type: "notice"}, {Message: "ten", Type: "notice"},
			}},
			state: "processing",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			portal := newTestPortal(t, reply(http.StatusOK, tt.answer))
			got, err := portal.Client().ConfigurationImport.Get(context.Background(), 42)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Time == nil || got.Time.Finish != 1629303001.0443 {
				t.Errorf("Time = %+v", got.Time)
			}
			got.Time = nil
			want := withEmptyShapes(tt.want)
			want.ProcessID = 42
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Get =\n%+v\nwant\n%+v", *got, want)
			}
			if got.State() != tt.state || got.Terminal() != tt.terminal || got.Finished() != (tt.state == "finished") {
				t.Errorf("State %q, Terminal %v, Finished %v", got.State(), got.Terminal(), got.Finished())
			}

			req := portal.Requests()[0]
			if req.Path != "/rest/1/"+testWebhookCode+"/configuration.import.get.json" || req.Body != `{"processId":42}` {
				t.Errorf("request = %+v", req)
			}
		})
	}
}

func TestConfigurationImportGet_Errors(t *testing.T) {
	t.Run("result without a status", func(t *testing.T) {
		portal := newTestPortal(t, ok(`{"progress":{"action":"load"}}`))
		_, err := portal.Client().ConfigurationImport.Get(context.Background(), 42)
		var respErr *ResponseError
		if !errors.As(err, &respErr) {
			t.Fatalf("error is %T (%v)", err, err)
		}
		if respErr.HTTPStatus != 200 || respErr.Excerpt != `{"progress":{"action":"load"}}` || transient(err) {
			t.Errorf("error = %+v", respErr)
		}
	})

	t.Run("result is not an object", func(t *testing.T) {
		portal := newTestPortal(t, ok(`"/rest/1/`+testWebhookCode+`/"`))
		_, err := portal.Client().ConfigurationImport.Get(context.Background(), 42)
		var respErr *ResponseError
		if !errors.As(err, &respErr) {
			t.Fatalf("error is %T (%v)", err, err)
		}
		assertNoSecret(t, "error", err.Error())
	})

	t.Run("error inside result", func(t *testing.T) {
		portal := newTestPortal(t, reply(http.StatusOK, answerProcessNotFound))
		_, err := portal.Client().ConfigurationImport.Get(context.Background(), 42)
		var apiErr *Error
		if !errors.As(err, &apiErr) || !apiErr.HasCode("PROCESS_NOT_FOUND") {
			t.Fatalf("error = %v", err)
		}
	})

	t.Run("invalid credentials", func(t *testing.T) {
		portal := newTestPortal(t, reply(http.StatusUnauthorized, answerInvalidCredentials))
		_, err := portal.Client().ConfigurationImport.Get(context.Background(), 42)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 401 {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestImportStatus_States(t *testing.T) {
	tests := []struct {
		status, state, words string
		terminal, finished   bool
	}{
		{"S", "started", "registered, not started yet", false, false},
		{"P", "processing", "running", false, false},
		{"F", "finished", "finished", true, true},
		{"E", "failed", "failed", true, false},
		{"U", "unknown", "unknown to the portal", true, false},
		{"X", "unknown", `in status "X"`, false, false},
		{"", "unknown", `in status ""`, false, false},
		{"f", "unknown", `in status "f"`, false, false}, // letters compare exactly
		{" F", "unknown", `in status " F"`, false, false},
	}
	for _, tt := range tests {
		s := &ImportStatus{Status: tt.status}
		if s.State() != tt.state || s.Words() != tt.words || s.Terminal() != tt.terminal || s.Finished() != tt.finished {
			t.Errorf("%q: State %q, Words %q, Terminal %v, Finished %v", tt.status, s.State(), s.Words(), s.Terminal(), s.Finished())
		}
	}
}

func TestImportStatus_Describe(t *testing.T) {
	s := &ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"}}
	if got, want := s.Describe(), "P (processing), action load, step 3, section CRM_STATUS"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if got, want := (&ImportStatus{Status: "X"}).Describe(), "X (unknown)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

// Sections are said only for the actions that run section by section.
func TestImportProgress_Words(t *testing.T) {
	tests := map[ImportProgress]string{
		{Action: "start", Step: 0}:                           "starting, step 0",
		{Action: "init_background", Section: "CRM_STATUS"}:   "preparing files, step 0",
		{Action: "manifest", Step: 1, Section: "CRM_STATUS"}: "reading the manifest, step 1",
		{Action: "clean", Step: 2, Section: "TASKS"}:         "clearing TASKS, step 2",
		{Action: "load", Step: 3, Section: "CRM_STATUS"}:     "loading CRM_STATUS, step 3",
		{Action: "load", Step: 4}:                            "loading, step 4",
		{Action: "finish", Step: 9, Section: "CRM_STATUS"}:   "finishing, step 9",
		{Action: "", Step: 9, Section: "CRM_STATUS"}:         "all steps done, about to be marked finished",
		{Action: "rebuild", Step: 5, Section: "CRM_STATUS"}:  "at rebuild CRM_STATUS, step 5",
		{Action: "rebuild", Step: 5}:                         "at rebuild, step 5",
	}
	for p, want := range tests {
		if got := p.Words(); got != want {
			t.Errorf("%+v: Words = %q, want %q", p, got, want)
		}
	}
	if got := (*ImportProgress)(nil).Words(); got != "" {
		t.Errorf("no progress: Words = %q", got)
	}
}

// InWords adds where an import under way is; an ended one is only its status.
func TestImportStatus_InWords(t *testing.T) {
	load := &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"}
	for _, tt := range []struct {
		status *ImportStatus
		want   string
	}{
		{&ImportStatus{Status: StatusStarted}, "registered, not started yet"},
		{&ImportStatus{Status: StatusProcessing, Progress: load}, "running - loading CRM_STATUS, step 3"},
		{&ImportStatus{Status: StatusFailed, Progress: load}, "failed"},
		{&ImportStatus{Status: StatusFinished}, "finished"},
	} {
		if got := tt.status.InWords(); got != tt.want {
			t.Errorf("%+v: InWords = %q, want %q", tt.status, got, tt.want)
		}
	}
}

// A change is what the portal's agent changes: status, action, step,
// section, and the number of notices, errors and exceptions.
func TestImportStatus_ChangedFrom(t *testing.T) {
	base := func() *ImportStatus {
		return &ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 3, Section: "CRM_STATUS"},
			Notices: []ImportMessage{{Message: "n"}}, Errors: []ImportMessage{{Message: "e"}}}
	}
	message := []ImportMessage{{Message: "x"}}
	changes := map[string]func(*ImportStatus){
		"status":    func(s *ImportStatus) { s.Status = "E" },
		"action":    func(s *ImportStatus) { s.Progress.Action = "finish" },
		"step":      func(s *ImportStatus) { s.Progress.Step++ },
		"section":   func(s *ImportStatus) { s.Progress.Section = "TASKS" },
		"progress":  func(s *ImportStatus) { s.Progress = nil },
		"notice":    func(s *ImportStatus) { s.Notices = append(s.Notices, message...) },
		"error":     func(s *ImportStatus) { s.Errors = nil },
		"exception": func(s *ImportStatus) { s.Exceptions = message },
	}
	for name, change := range changes {
		s := base()
		change(s)
		if !s.ChangedFrom(base()) || !base().ChangedFrom(s) {
			t.Errorf("a new %s is not a change", name)
		}
	}
	same := base()
	same.Notices = []ImportMessage{{Message: "another text"}}
	same.Additional, same.Time = json.RawMessage(`{"a":1}`), &Time{Finish: 1}
	if same.ChangedFrom(base()) {
		t.Error("the same counts and progress are a change")
	}
	if !base().ChangedFrom(nil) {
		t.Error("the first status is not a change")
	}
}

func TestImportFailure_texts(t *testing.T) {
	failed, err := DecodeImportStatus(json.RawMessage(resultFailed))
	if err != nil {
		t.Fatal(err)
	}
	failed.ProcessID = 42

	err = ImportFailure(failed)
	var failedErr *ImportFailedError
	if !errors.As(err, &failedErr) || failedErr.ProcessID != 42 || failedErr.Status != failed {
		t.Fatalf("ImportFailure = %#v", err)
	}
	want := "configuration import 42 failed: Cannot read file 12.json; [ERROR_STATUS_EXISTS] Status NEW exists; " +
		"last progress: action load, step 3, section CRM_STATUS"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}

	bare := &ImportStatus{ProcessID: 7, Status: "E"}
	if got, want := ImportFailure(bare).Error(), "configuration import 7 failed without an error message from the portal"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	unknown := &ImportStatus{ProcessID: 42, Status: "U"}
	want = "configuration import 42 is unknown to the portal: the process id is wrong, or the portal purged its data " +
		"(it keeps an import's data 2 to 3 days after the import ended)"
	if got := ImportFailure(unknown); got == nil || got.Error() != want {
		t.Errorf("Error() = %v, want %q", got, want)
	}

	for _, letter := range []string{"S", "P", "F", "X", ""} {
		if err := ImportFailure(&ImportStatus{Status: letter}); err != nil {
			t.Errorf("ImportFailure(%q) = %v, want nil", letter, err)
		}
	}
	if err := ImportFailure(nil); err != nil {
		t.Errorf("ImportFailure(nil) = %v", err)
	}
}

func TestImportProgress_String(t *testing.T) {
	for p, want := range map[ImportProgress]string{
		{Action: "load", Step: 3, Section: "CRM_STATUS"}: "action load, step 3, section CRM_STATUS",
		{Action: "start"}: "action start, step 0",
		{Step: 7}:         "action false, step 7",
	} {
		if got := p.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	if got := (ImportMessage{Code: "C"}).String(); !strings.Contains(got, "[C]") {
		t.Errorf("String() = %q", got)
	}
}

func TestImportFailedErrorReport_labels(t *testing.T) {
	failed, err := DecodeImportStatus(json.RawMessage(resultFailed))
	if err != nil {
		t.Fatal(err)
	}
	failed.ProcessID = 42
	failed.Notices = []ImportMessage{{Message: "Stage NEW kept", Type: "notice"}}
	var failedErr *ImportFailedError
	if !errors.As(ImportFailure(failed), &failedErr) {
		t.Fatal("no ImportFailedError")
	}
	want := "Configuration import 42 failed (status E) at action load, step 3, section CRM_STATUS. The portal's messages:\n" +
		"  exception: Cannot read file 12.json\n" +
		"  error [ERROR_STATUS_EXISTS]: Status NEW exists\n" +
		"  notice: Stage NEW kept"
	if got := failedErr.Report(); got != want {
		t.Errorf("Report() =\n%s\nwant\n%s", got, want)
	}

	bare := &ImportFailedError{ProcessID: 7, Status: &ImportStatus{Status: "E"}}
	if got, want := bare.Report(), "Configuration import 7 failed (status E). The portal gave no message."; got != want {
		t.Errorf("Report() = %q, want %q", got, want)
	}
	unknown := &ImportFailedError{ProcessID: 9, Status: &ImportStatus{Status: "U"}}
	if got := unknown.Report(); !strings.HasPrefix(got, "The portal does not know configuration import 9 (status U)") {
		t.Errorf("Report() = %q", got)
	}
}
