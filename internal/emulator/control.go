// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"fmt"
	"strings"
	"time"
)

// This file is the test-facing side of the portal: creating scripted
// imports, driving the agent by hand, reading the request log and injecting
// faults.

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
func (p *Portal) CreateProcess(s Script) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.addProcessLocked(append([]string(nil), s.Sections...), s.Files, s.SkipClearing)
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
func (p *Portal) ScriptNextRegister(s Script) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.Messages = append([]ScriptedMessage(nil), s.Messages...)
	p.nextScript = append(p.nextScript, s)
}

// RunAgent performs one agent run of every registered process, whatever
// their schedule; the background agent then waits a full period for them.
func (p *Portal) RunAgent() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.liveLocked() {
		p.runLocked(pr)
	}
}

// Advance performs up to `runs` agent runs of one process, stopping when it
// is no longer registered (F, E or unregistered).
func (p *Portal) Advance(processID int64, runs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.lookupLocked(processID)
	for i := 0; i < runs && pr != nil && pr.registered; i++ {
		p.runLocked(pr)
	}
}

// RunToEnd runs one process until F or E (or until it is unregistered).
func (p *Portal) RunToEnd(processID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.lookupLocked(processID)
	for pr != nil && pr.registered {
		p.runLocked(pr)
	}
}

func (p *Portal) runLocked(pr *process) {
	pr.run(p.now())
	pr.due = time.Now().Add(p.agentPeriod)
	if p.model != nil {
		pr.runEnds = time.Time{}
		pr.modelDue = p.model.nextDue(p.now())
	}
}

// Unregister takes a process off the agent, as configuration.import.unregister
// does; it reports whether the process was registered.
func (p *Portal) Unregister(processID int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.lookupLocked(processID)
	if pr == nil || !pr.registered {
		return false
	}
	pr.registered = false
	return true
}

// Process reports the state of an import; false when unknown or purged.
func (p *Portal) Process(processID int64) (ProcessInfo, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.lookupLocked(processID)
	if pr == nil {
		return ProcessInfo{}, false
	}
	return pr.info(), true
}

// Request is one HTTP request the portal received.
type Request struct {
	At           time.Time
	Method       string         // lower-case, without .json; "" outside /rest/
	Params       map[string]any // query, form and JSON body merged; nested keys decoded
	HTTPStatus   int            // 0 when the connection was dropped (Hangup); logged before any Delay, so kept if the client gives up
	Authorized   bool
	ResultStatus string // for configuration.import.get: the status letter answered, else ""
	Fault        bool   // an injected fault answered it, or changed or delayed its answer
	Ran          bool   // the method ran (its effects happened), whatever the client got
	RateLimited  bool   // the rate limit refused it (HTTP 503 QUERY_LIMIT_EXCEEDED); the method did not run
	// CommandFaults counts the commands of a batch that got an injected
	// command fault (InjectCommandFault) instead of running.
	CommandFaults int
}

// Outcome is what the client got for one request, for tests that count.
type Outcome string

const (
	OutcomeAnswered    Outcome = "answered"     // the portal's own answer, success or error, as it made it
	OutcomeRateLimited Outcome = "rate-limited" // the rate limit's refusal, as the portal made it
	OutcomeFault       Outcome = "fault"        // an injected fault's answer, or the portal's changed or delayed by one
	OutcomeDropped     Outcome = "dropped"      // no answer: the connection was closed
)

// Outcome says what the client got. A dropped connection counts as dropped
// whatever fault dropped it, and a fault that let the call through to a
// refusal counts as a fault (RateLimited still says the limit refused it).
func (r Request) Outcome() Outcome {
	switch {
	case r.HTTPStatus == 0:
		return OutcomeDropped
	case r.Fault:
		return OutcomeFault
	case r.RateLimited:
		return OutcomeRateLimited
	default:
		return OutcomeAnswered
	}
}

// ProcessIDs lists the process ids a request read: the processId of a
// configuration.import.get, or of each configuration.import.get command of
// a batch, as sent; nil for other methods.
func (r Request) ProcessIDs() []string {
	switch r.Method {
	case "configuration.import.get":
		return []string{fmt.Sprint(r.Params["processId"])}
	case "batch":
		cmd, _ := r.Params["cmd"].(map[string]any)
		var ids []string
		for _, line := range cmd {
			method, query, _ := strings.Cut(fmt.Sprint(line), "?")
			if normalizeMethod(method) == "configuration.import.get" {
				ids = append(ids, fmt.Sprint(parsePHPQuery(query).get("processId")))
			}
		}
		return ids
	}
	return nil
}

// Requests lists every request received, in order. Calls inside a batch
// are not listed apart from the batch itself.
func (p *Portal) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}
