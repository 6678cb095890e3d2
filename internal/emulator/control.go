// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import "time"

// This file is the test-facing side of the portal's imports: creating
// scripted imports, driving the agent by hand and reading their state.

// Script describes an import a test creates directly, as if
// configuration.import.register had been called.
type Script struct {
	Sections     []string // entity sections of STRUCTURE, e.g. "CRM_STATUS", "REST_APPLICATION"
	Files        int      // number of FILES
	SkipClearing bool     // MANIFEST.SKIP_CLEARING = "Y"
	Messages     []ScriptedMessage
	Additional   any // value of `additional` once F; nil -> []
	CreatedItems any // value of `createItemList` once F; nil -> []
	// FailAt makes the import fail at a step (CreateProcess only); an import
	// without that step runs as scripted.
	FailAt *Failure
}

// ScriptedMessage is a message the agent records during one run.
type ScriptedMessage struct {
	AtRun   int    // the agent run (1-based) during which it is recorded; runs past the end never come
	Type    string // "notice", "error" or "exception"; an exception makes the process fail: status E after that run (with Config.Agent, after the next one)
	Code    string // often empty on the real portal
	Message string
}

// ProcessInfo is the state of one import.
type ProcessInfo struct {
	ID           int64
	Status       string // S P F E
	Action       string // progress action; "" for S, F, and the action false
	Step         int
	Section      string // as progress reports it, "" when absent
	Runs         int
	RegisteredAt time.Time
	FinishedAt   time.Time // zero until F or E
	PlannedRuns  int       // total runs to reach F
	Registered   bool      // still run by the agent: false after unregister, F or E

	// What was registered: for an import registered over HTTP, as read from
	// its data (CreateProcess uses the manifest code "emulator").
	ManifestCode string
	Sections     []string
	Files        int
	SkipClearing bool
}

// CreateProcess registers an import directly and returns its processId. It
// is in status S until its first agent run.
func (im *imports) CreateProcess(s Script) int64 {
	im.mu.Lock()
	defer im.mu.Unlock()
	pr := im.addLocked(append([]string(nil), s.Sections...), s.Files, s.SkipClearing)
	pr.manifestCode = "emulator"
	pr.scripted = append([]ScriptedMessage(nil), s.Messages...)
	pr.additional, pr.createdItems = s.Additional, s.CreatedItems
	if s.FailAt != nil {
		pr.scriptFailure(*s.FailAt)
	}
	return pr.id
}

// ScriptNextRegister scripts the next import registered over HTTP: it takes
// Messages, Additional and CreatedItems from s (sections, files and
// SKIP_CLEARING still come from the request). Calls queue up in order.
func (im *imports) ScriptNextRegister(s Script) {
	im.mu.Lock()
	defer im.mu.Unlock()
	s.Messages = append([]ScriptedMessage(nil), s.Messages...)
	im.nextScript = append(im.nextScript, s)
}

// RunAgent performs one agent run of every registered process, whatever
// their schedule; the background agent then waits a full period for them.
func (im *imports) RunAgent() {
	im.mu.Lock()
	defer im.mu.Unlock()
	for _, pr := range im.liveLocked() {
		im.runLocked(pr)
	}
}

// Advance performs up to `runs` agent runs of one process, stopping when it
// is no longer registered (F, E or unregistered).
func (im *imports) Advance(processID int64, runs int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	pr := im.lookupLocked(processID)
	for i := 0; i < runs && pr != nil && pr.registered; i++ {
		im.runLocked(pr)
	}
}

// RunToEnd runs one process until F or E (or until it is unregistered).
func (im *imports) RunToEnd(processID int64) {
	im.mu.Lock()
	defer im.mu.Unlock()
	pr := im.lookupLocked(processID)
	for pr != nil && pr.registered {
		im.runLocked(pr)
	}
}

// Unregister takes a process off the agent, as configuration.import.unregister
// does; it reports whether the process was registered.
func (im *imports) Unregister(processID int64) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	pr := im.lookupLocked(processID)
	if pr == nil || !pr.registered {
		return false
	}
	pr.registered = false
	return true
}

// Process reports the state of an import; false when unknown or purged.
func (im *imports) Process(processID int64) (ProcessInfo, bool) {
	im.mu.Lock()
	defer im.mu.Unlock()
	pr := im.lookupLocked(processID)
	if pr == nil {
		return ProcessInfo{}, false
	}
	return pr.info(), true
}
