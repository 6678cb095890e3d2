// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"encoding/json"
	"strconv"
	"time"
)

// The import process model, after the portal's
// Bitrix\Rest\Configuration\Action\Import; the package documentation
// describes the sequence of steps.

// Progress actions as the portal names them. The action after finish is the
// JSON value false, held here as "".
const (
	actionStart          = "start"
	actionInitBackground = "init_background"
	actionManifest       = "manifest"
	actionClean          = "clean"
	actionLoad           = "load"
	actionFinish         = "finish"
	actionDone           = ""
)

// filesPerBackgroundStep is how many FILES one init_background run handles.
const filesPerBackgroundStep = 200

// Statuses of configuration.import.get.
const (
	statusStart   = "S"
	statusProcess = "P"
	statusFinish  = "F"
	statusError   = "E"
	statusUnknown = "U"
)

// Message types as the portal records them.
const (
	typeNotice    = "notice"
	typeError     = "error"
	typeException = "exception"
)

type cursor struct {
	action  string
	section int
	step    int
}

type message struct {
	code, text, kind string
}

type process struct {
	id           int64
	manifestCode string
	sections     []string
	files        int
	skipClearing bool

	plan     []cursor // plan[i] is the step run i+1 executes
	cur      cursor   // what get reports as progress
	runs     int
	status   string
	messages []message // one combined list, in the order recorded

	scripted     []ScriptedMessage
	additional   any
	createdItems any

	// registered is true while the agent still runs the process: false
	// after unregister, F or E (the portal unregisters itself at both).
	registered   bool
	registeredAt time.Time // Config.Now clock
	lastWrite    time.Time // Config.Now clock; retention counts from here
	finishedAt   time.Time
	due          time.Time // real clock: when the background agent runs it next

	// With an agent model (Portal.model), on the Config.Now clock.
	modelDue  time.Time // when the next run falls due
	runEnds   time.Time // when the run in progress ends; zero when none is
	failLater bool      // a run that records an exception leaves P; the next run marks E
	failing   bool      // an exception was recorded: the next run marks E
}

func newProcess(id int64, sections []string, files int, skipClearing bool, now time.Time) *process {
	pr := &process{
		id:           id,
		sections:     sections,
		files:        files,
		skipClearing: skipClearing,
		status:       statusStart,
		registered:   true,
		registeredAt: now,
		lastWrite:    now,
	}
	pr.plan = buildPlan(len(sections), files, skipClearing)
	pr.cur = pr.plan[0]
	return pr
}

func buildPlan(sections, files int, skipClearing bool) []cursor {
	plan := []cursor{{action: actionStart}}
	background := (files + filesPerBackgroundStep - 1) / filesPerBackgroundStep
	for step := 0; step < max(background, 1); step++ {
		plan = append(plan, cursor{action: actionInitBackground, step: step})
	}
	plan = append(plan, cursor{action: actionManifest})
	slots := max(sections, 1)
	if skipClearing {
		plan = append(plan, cursor{action: actionClean})
	} else {
		for i := 0; i < slots; i++ {
			plan = append(plan, cursor{action: actionClean, section: i})
		}
	}
	for i := 0; i < slots; i++ {
		filesHere := files / slots
		if i < files%slots {
			filesHere++
		}
		for step := 0; step <= filesHere; step++ {
			plan = append(plan, cursor{action: actionLoad, section: i, step: step})
		}
	}
	return append(plan, cursor{action: actionFinish}, cursor{action: actionDone})
}

// run performs one agent run; it does nothing once the process is no longer
// registered.
func (pr *process) run(now time.Time) {
	if !pr.registered {
		return
	}
	pr.runs++
	pr.lastWrite = now
	failed := pr.failing
	for _, m := range pr.scripted {
		if m.AtRun == pr.runs {
			pr.messages = append(pr.messages, message{code: m.Code, text: m.Message, kind: m.Type})
			failed = failed || m.Type == typeException
		}
	}
	switch {
	case failed && pr.failLater && !pr.failing:
		pr.failing = true // the run saves no advance; the next one marks E
		pr.status = statusProcess
		return
	case failed:
		pr.status = statusError
	case pr.runs >= len(pr.plan):
		pr.status = statusFinish
	default:
		pr.status = statusProcess
		pr.cur = pr.plan[pr.runs]
		return
	}
	pr.registered = false
	pr.finishedAt = now
}

// section is the section name progress reports, "" when it has none.
func (pr *process) section() string {
	if pr.cur.action == actionDone || pr.cur.action == actionFinish || pr.cur.section >= len(pr.sections) {
		return ""
	}
	if s := pr.sections[pr.cur.section]; !phpEmpty(s) {
		return s
	}
	return ""
}

// getResult is the `result` of configuration.import.get, keys in the
// portal's order: status, notice, errors, exception, then progress (P, E)
// or additional and createItemList (F).
func (pr *process) getResult() *phpArray {
	res := obj("status", pr.status)
	for _, list := range []struct{ key, kind string }{
		{"notice", typeNotice}, {"errors", typeError}, {"exception", typeException},
	} {
		if filtered := pr.filterMessages(list.kind); filtered.len() > 0 {
			res.set(list.key, filtered)
		}
	}
	switch pr.status {
	case statusProcess, statusError:
		var action any = pr.cur.action
		if pr.cur.action == actionDone {
			action = false
		}
		progress := obj("action", action, "step", pr.cur.step)
		if s := pr.section(); s != "" {
			progress.set("section", s)
		}
		res.set("progress", progress)
	case statusFinish:
		res.set("additional", phpValue(pr.additional))
		res.set("createItemList", phpValue(pr.createdItems))
	}
	return res
}

// filterMessages keeps the messages of one type under their indexes in the
// combined list, as PHP's filtering does: the result encodes as a JSON list
// only when the kept indexes happen to be 0..n-1.
func (pr *process) filterMessages(kind string) *phpArray {
	out := newPHPArray()
	for i, m := range pr.messages {
		if m.kind == kind {
			out.set(strconv.Itoa(i), obj("code", m.code, "message", m.text, "type", m.kind))
		}
	}
	return out
}

// phpValue prepares caller-supplied JSON for an answer: nil and empty
// objects become [] as an empty PHP array would.
func phpValue(v any) any {
	if v == nil {
		return newPHPArray()
	}
	data, err := json.Marshal(v)
	if err != nil || string(data) == "{}" || string(data) == "null" {
		return newPHPArray()
	}
	return json.RawMessage(data)
}

func (pr *process) info() ProcessInfo {
	info := ProcessInfo{
		ID:           pr.id,
		Status:       pr.status,
		Runs:         pr.runs,
		RegisteredAt: pr.registeredAt,
		FinishedAt:   pr.finishedAt,
		PlannedRuns:  len(pr.plan),
		Registered:   pr.registered,
		ManifestCode: pr.manifestCode,
		Sections:     append([]string(nil), pr.sections...),
		Files:        pr.files,
		SkipClearing: pr.skipClearing,
	}
	if pr.status == statusProcess || pr.status == statusError {
		info.Action = pr.cur.action
		info.Step = pr.cur.step
		info.Section = pr.section()
	}
	return info
}
