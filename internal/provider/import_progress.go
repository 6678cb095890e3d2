// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// progressHeartbeat is how long the action stays quiet while an import does
// not change before it says again where the import is: the portal's agent
// can sit on one step for several minutes, and silence looks like a hang.
const progressHeartbeat = 5 * time.Minute

// importProgress turns the polls of one wait into the progress messages of
// the action: one at the first poll and at every change a user would care
// about, a heartbeat while nothing changes, and a summary at the end. It is
// fed by the wait's OnPoll and OnPollError, on the wait's clock.
type importProgress struct {
	processID int64
	send      func(string)
	heartbeat time.Duration

	mu         sync.Mutex
	last       *bitrix24.ImportStatus // nil until a poll succeeded
	polls      int
	elapsed    time.Duration // at the last poll
	lastSent   time.Duration // elapsed when a message last went out
	failing    bool          // the last poll failed, and that was said
	lastChange time.Duration
}

func newImportProgress(processID int64, send func(string)) *importProgress {
	return &importProgress{processID: processID, send: send, heartbeat: progressHeartbeat}
}

// poll takes a successful poll: it says so when something changed, or when
// the heartbeat is due.
func (p *importProgress) poll(e bitrix24.PollEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls, p.elapsed = e.Poll, e.Elapsed
	changed := p.last == nil || progressKey(p.last) != progressKey(e.Status)
	recovered := p.failing
	p.last, p.failing = e.Status, false
	switch {
	case e.Status.Terminal():
		// The summary says how it ended.
	case changed:
		p.lastChange = e.Elapsed
		p.sendLocked(p.describeLocked(""))
	case recovered || p.heartbeatDueLocked():
		p.sendLocked(p.describeLocked("still "))
	}
}

// pollFailed takes a poll that failed in a way the wait tries again: the
// first of a row is said at once, the rest only as the heartbeat.
func (p *importProgress) pollFailed(e bitrix24.PollErrorEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls, p.elapsed = e.Poll, e.Elapsed
	if p.failing && !p.heartbeatDueLocked() {
		return
	}
	p.failing = true
	p.sendLocked(fmt.Sprintf("import %d: poll %d failed, trying again at the next poll: %s (%s)",
		p.processID, e.Poll, e.Err, p.countsLocked()))
}

// summary is the last message: how the import ended, how long it took and
// what it left.
func (p *importProgress) summary(status *bitrix24.ImportStatus, elapsed time.Duration) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.elapsed = elapsed
	parts := []string{}
	// CreatedItems is [] when absent; the portal sends it with F only.
	if n, ok := countJSONItems(status.CreatedItems); ok && status.Finished() {
		parts = append(parts, plural(n, "item")+" created")
	}
	parts = append(parts, plural(len(status.Notices), "notice"))
	if len(status.Errors) > 0 {
		parts = append(parts, plural(len(status.Errors), "error"))
	}
	return fmt.Sprintf("import %d %s after %s and %s: %s", p.processID, statusWords(status),
		roughDuration(elapsed), plural(p.polls, "poll"), strings.Join(parts, ", "))
}

func (p *importProgress) heartbeatDueLocked() bool {
	return p.elapsed-p.lastSent >= p.heartbeat
}

func (p *importProgress) sendLocked(msg string) {
	p.lastSent = p.elapsed
	p.send(msg)
}

// describeLocked writes "import 42: running - loading CRM_STATUS, step 3
// (4m elapsed, 5 polls)"; still is "" or "still ".
func (p *importProgress) describeLocked(still string) string {
	text := fmt.Sprintf("import %d: %s%s", p.processID, still, statusWords(p.last))
	if where := progressWords(p.last.Progress); where != "" && !p.last.Terminal() {
		text += " - " + where
	}
	if n := len(p.last.Notices); n > 0 {
		text += ", " + plural(n, "notice")
	}
	if n := len(p.last.Errors); n > 0 {
		text += ", " + plural(n, "error")
	}
	counts := p.countsLocked()
	if still != "" && p.elapsed > p.lastChange {
		counts += "; no change for " + roughDuration(p.elapsed-p.lastChange)
	}
	return text + " (" + counts + ")"
}

func (p *importProgress) countsLocked() string {
	return roughDuration(p.elapsed) + " elapsed, " + plural(p.polls, "poll")
}

// progressKey is what a change is: status, action, step, section and the
// number of notices and errors.
func progressKey(s *bitrix24.ImportStatus) string {
	key := fmt.Sprintf("%s|%d|%d", s.Status, len(s.Notices), len(s.Errors))
	if pr := s.Progress; pr != nil {
		key += fmt.Sprintf("|%s|%d|%s", pr.Action, pr.Step, pr.Section)
	}
	return key
}

// statusWords says a status letter in words.
func statusWords(s *bitrix24.ImportStatus) string {
	switch s.Status {
	case bitrix24.StatusStarted:
		return "registered, not started yet"
	case bitrix24.StatusProcessing:
		return "running"
	case bitrix24.StatusFinished:
		return "finished"
	case bitrix24.StatusFailed:
		return "failed"
	case bitrix24.StatusUnknown:
		return "unknown to the portal"
	default:
		return fmt.Sprintf("in status %q", s.Status)
	}
}

// progressWords says where an import is: "loading CRM_STATUS, step 3".
func progressWords(pr *bitrix24.ImportProgress) string {
	if pr == nil {
		return ""
	}
	words := map[string]string{
		"start":           "starting",
		"init_background": "preparing files",
		"manifest":        "reading the manifest",
		"clean":           "clearing",
		"load":            "loading",
		"finish":          "finishing",
		"":                "all steps done, about to be marked finished",
	}
	text, ok := words[pr.Action]
	if !ok {
		text = "at " + pr.Action
	}
	if pr.Section != "" {
		text += " " + pr.Section
	}
	if pr.Action != "" {
		text += fmt.Sprintf(", step %d", pr.Step)
	}
	return text
}

// countJSONItems counts the entries of a JSON list or object; ok is false
// for anything else, which the portal does not send for createItemList.
func countJSONItems(raw json.RawMessage) (n int, ok bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && raw != nil {
		return len(list), true
	}
	var object map[string]json.RawMessage
	if json.Unmarshal(raw, &object) == nil && object != nil {
		return len(object), true
	}
	return 0, false
}

// roughDuration rounds for a progress line: seconds under a minute, then
// minutes, then hours and minutes.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	default:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
