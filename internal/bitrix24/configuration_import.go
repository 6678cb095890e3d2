// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

const methodConfigurationImportGet = "configuration.import.get"

// The status letters of configuration.import.get.
const (
	StatusStarted    = "S" // registered, not started yet
	StatusProcessing = "P" // running
	StatusFinished   = "F"
	StatusFailed     = "E"
	StatusUnknown    = "U" // wrong id, or the portal purged the import's data (kept 3 days)
)

// ConfigurationImportService reads configuration imports (scope
// configuration.import).
type ConfigurationImportService struct {
	client  *Client
	batcher *importGetBatcher // nil with Config.PlainReads
}

// ImportStatus is the state of a configuration import as
// configuration.import.get reports it.
type ImportStatus struct {
	ProcessID    int64
	Status       string          // the letter; one the client does not know is kept as sent
	Progress     *ImportProgress // nil when absent
	Notices      []ImportMessage // in the portal's order (object-shaped lists ordered by numeric key)
	Errors       []ImportMessage // the import went on after these
	Exceptions   []ImportMessage // an exception stops the import (E follows)
	Additional   json.RawMessage // always a compact JSON object: `{}` when absent (see objectShaped)
	CreatedItems json.RawMessage // createItemList, always a compact JSON list: `[]` when absent (see listShaped)
	Time         *Time
}

// ImportProgress is where a running (or failed) import is.
type ImportProgress struct {
	Action  string // start, init_background, manifest, clean, load, finish; "" when the portal sent false
	Step    int64
	Section string // "" when absent (only some actions have one)
}

// ImportMessage is one notice, error or exception of an import.
type ImportMessage struct {
	Code    string // often empty
	Message string
	Type    string // notice, error or exception; the list's type when the portal left it out
}

// Get reads the state of the import processID. Overlapping reads share
// batch requests, and ctx governs only this read (see the package doc).
func (s *ConfigurationImportService) Get(ctx context.Context, processID int64) (*ImportStatus, error) {
	return s.read(ctx, processID, roundSlot{})
}

// read reads the import in slot's round when it has one.
func (s *ConfigurationImportService) read(ctx context.Context, processID int64, slot roundSlot) (*ImportStatus, error) {
	if s.batcher == nil {
		return s.getOne(ctx, processID, retryState{}, &requestLog{})
	}
	return s.batcher.get(ctx, processID, slot)
}

// getOne reads one import with a plain request, whose retries go on
// counting from st, the tries it had as a command in batches.
func (s *ConfigurationImportService) getOne(ctx context.Context, processID int64, st retryState, log *requestLog) (*ImportStatus, error) {
	body, _ := json.Marshal(map[string]int64{"processId": processID}) // numbers always encode
	resp, err := s.client.callWithRetries(ctx, methodConfigurationImportGet, body, st, log)
	if err != nil {
		return nil, err
	}
	return s.decodeStatus(resp.Result, resp.HTTPStatus, resp.Time, processID)
}

// decodeStatus decodes a configuration.import.get result that came with
// httpStatus, filling in what the result alone does not say.
func (s *ConfigurationImportService) decodeStatus(result json.RawMessage, httpStatus int, t *Time, processID int64) (*ImportStatus, error) {
	status, err := DecodeImportStatus(result)
	switch err := err.(type) {
	case nil:
	case *ResponseError:
		err.HTTPStatus, err.Excerpt = httpStatus, excerpt(result, s.client.auth.Redact)
		return nil, err
	case *Error:
		return nil, portalError(err, httpStatus, s.client.auth.Redact)
	default:
		return nil, err
	}
	status.ProcessID, status.Time = processID, t
	redactImportStatus(status, s.client.auth.Redact)
	return status, nil
}

// letter returns the status letter, "" for a nil status.
func (s *ImportStatus) letter() string {
	if s == nil {
		return ""
	}
	return s.Status
}

// statusNames are the words of each status letter: its State and its Words.
var statusNames = map[string]struct{ state, words string }{
	StatusStarted:    {"started", "registered, not started yet"},
	StatusProcessing: {"processing", "running"},
	StatusFinished:   {"finished", "finished"},
	StatusFailed:     {"failed", "failed"},
	StatusUnknown:    {"unknown", "unknown to the portal"},
}

// State names the status: "started", "processing", "finished", "failed" or
// "unknown". An unrecognised letter is "unknown" too.
func (s *ImportStatus) State() string {
	return cmp.Or(statusNames[s.letter()].state, "unknown")
}

// Words says the status for a person: "registered, not started yet",
// "running", "finished", "failed", "unknown to the portal", or `in status
// "X"` for a letter the client does not know.
func (s *ImportStatus) Words() string {
	return cmp.Or(statusNames[s.letter()].words, fmt.Sprintf("in status %q", s.letter()))
}

// InWords says the status and, for an import still under way, where it is:
// "running - loading CRM_STATUS, step 3".
func (s *ImportStatus) InWords() string {
	text := s.Words()
	if where := s.Progress.Words(); where != "" && !s.Terminal() {
		text += " - " + where
	}
	return text
}

// Finished reports whether the import finished (F).
func (s *ImportStatus) Finished() bool {
	return s.letter() == StatusFinished
}

// Terminal reports whether the import will not change any more: F, E or U.
// S, P and an unrecognised letter are not terminal.
func (s *ImportStatus) Terminal() bool {
	letter := s.letter()
	return letter == StatusFinished || letter == StatusFailed || letter == StatusUnknown
}

// Describe writes the status for an error text:
// "P (processing), action load, step 3, section CRM_STATUS".
func (s *ImportStatus) Describe() string {
	text := fmt.Sprintf("%s (%s)", s.Status, s.State())
	if s.Progress != nil {
		text += ", " + s.Progress.String()
	}
	return text
}

// ChangedFrom reports whether s differs from prev in what the portal's agent
// changes: the status, the progress (action, step, section), or the number
// of notices, errors or exceptions. Anything is a change from no status.
func (s *ImportStatus) ChangedFrom(prev *ImportStatus) bool {
	if prev == nil {
		return true
	}
	sameProgress := s.Progress == prev.Progress ||
		s.Progress != nil && prev.Progress != nil && *s.Progress == *prev.Progress
	return s.Status != prev.Status || !sameProgress || len(s.Notices) != len(prev.Notices) ||
		len(s.Errors) != len(prev.Errors) || len(s.Exceptions) != len(prev.Exceptions)
}

// actionWords are the progress actions in words.
var actionWords = map[string]string{
	"start":           "starting",
	"init_background": "preparing files",
	"manifest":        "reading the manifest",
	"clean":           "clearing",
	"load":            "loading",
	"finish":          "finishing",
	"":                "all steps done, about to be marked finished",
}

// Words says where the import is, for a person: "loading CRM_STATUS, step
// 3"; "" for no progress. The section is said for clean and load, which run
// section by section, and for an action the client does not know.
func (p *ImportProgress) Words() string {
	if p == nil {
		return ""
	}
	text, known := actionWords[p.Action]
	if !known {
		text = "at " + p.Action
	}
	if sectioned := !known || p.Action == "clean" || p.Action == "load"; sectioned && p.Section != "" {
		text += " " + p.Section
	}
	if p.Action != "" {
		text += fmt.Sprintf(", step %d", p.Step)
	}
	return text
}

// String writes the progress as "action load, step 3, section CRM_STATUS".
func (p *ImportProgress) String() string {
	// The portal sends action false between the last step and F.
	text := fmt.Sprintf("action %s, step %d", cmp.Or(p.Action, "false"), p.Step)
	if p.Section != "" {
		text += ", section " + p.Section
	}
	return text
}

// String writes the message as "[CODE] message", or "message" without a code.
func (m ImportMessage) String() string {
	if m.Code == "" {
		return m.Message
	}
	if m.Message == "" {
		return "[" + m.Code + "]"
	}
	return "[" + m.Code + "] " + m.Message
}

// ImportFailedError describes a failed (E) or unknown (U) import as an error.
type ImportFailedError struct {
	ProcessID int64
	Status    *ImportStatus
}

func (e *ImportFailedError) Error() string {
	if e.Status.letter() == StatusUnknown {
		return fmt.Sprintf("configuration import %d is unknown to the portal: the process id is wrong, "+
			"or the portal purged its data (it keeps an import's data 2 to 3 days after the import ended)", e.ProcessID)
	}

	var reasons []string
	e.Status.eachMessage(func(label string, m ImportMessage) {
		if text := m.String(); label != "notice" && text != "" {
			reasons = append(reasons, text)
		}
	})
	why := " without an error message from the portal"
	if len(reasons) > 0 {
		why = ": " + strings.Join(reasons, "; ")
	}
	text := fmt.Sprintf("configuration import %d failed%s", e.ProcessID, why)
	if e.Status != nil && e.Status.Progress != nil {
		text += "; last progress: " + e.Status.Progress.String()
	}
	return text
}

// Report writes the failure for a person: what happened, then each message
// the import recorded on a line, labelled exception (what stopped the
// import), error or notice, in that order. The caller adds what to do next.
func (e *ImportFailedError) Report() string {
	if e.Status.letter() == StatusUnknown {
		return fmt.Sprintf("The portal does not know configuration import %d (status U): the process id is wrong, "+
			"or the portal purged the import's data, which it keeps 2 to 3 days after the import ended.", e.ProcessID)
	}
	text := fmt.Sprintf("Configuration import %d failed (status E)", e.ProcessID)
	if e.Status != nil && e.Status.Progress != nil {
		text += " at " + e.Status.Progress.String()
	}
	var lines []string // as "  exception [CODE]: text"
	e.Status.eachMessage(func(label string, m ImportMessage) {
		if m.Code != "" {
			label += " [" + m.Code + "]"
		}
		lines = append(lines, "  "+label+": "+cmp.Or(m.Message, "(no text)"))
	})
	if len(lines) == 0 {
		return text + ". The portal gave no message."
	}
	return text + ". The portal's messages:\n" + strings.Join(lines, "\n")
}

// eachMessage calls f with each message of s (none for a nil s) and its
// label: the exceptions (what stopped the import), the errors, the notices.
func (s *ImportStatus) eachMessage(f func(label string, m ImportMessage)) {
	if s == nil {
		return
	}
	labels := []string{"exception", "error", "notice"}
	for i, list := range [][]ImportMessage{s.Exceptions, s.Errors, s.Notices} {
		for _, m := range list {
			f(labels[i], m)
		}
	}
}

// ImportFailure returns an *ImportFailedError for a failed (E) or unknown (U)
// import, nil for any other: whether it is fatal is the caller's decision,
// which is why Wait returns it as a status.
func ImportFailure(s *ImportStatus) error {
	if letter := s.letter(); letter != StatusFailed && letter != StatusUnknown {
		return nil
	}
	return &ImportFailedError{ProcessID: s.ProcessID, Status: s}
}
