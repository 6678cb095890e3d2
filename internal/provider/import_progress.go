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

// progressHeartbeat is how long a wait stays quiet while an import does
// not change before it says again where the import is: the portal's agent
// can sit on one step for several minutes, and silence looks like a hang.
const progressHeartbeat = 5 * time.Minute

// importProgress turns the polls of one wait, on the wait's clock, into
// progress lines: one at the first poll and at every change, a heartbeat
// while nothing changes, and a summary at the end.
type importProgress struct {
	processID int64
	send      func(string)
	clock     bitrix24.Clock
	started   time.Time

	mu         sync.Mutex
	last       *bitrix24.ImportStatus // nil until a poll succeeded
	polls      int
	elapsed    time.Duration // at the last poll
	lastSent   time.Duration // elapsed when a message last went out
	failing    bool          // the last poll failed, and that was said
	lastChange time.Duration
}

func newImportProgress(processID int64, clock bitrix24.Clock, send func(string)) *importProgress {
	return &importProgress{processID: processID, send: send, clock: clock, started: clock.Now()}
}

// warn says a warning about the wait before it starts.
func (p *importProgress) warn(summary, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendLocked(fmt.Sprintf("import %d: warning: %s. %s", p.processID, summary, detail))
}

func (p *importProgress) poll(e bitrix24.PollEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls, p.elapsed = e.Poll, e.Elapsed
	changed := e.Status.ChangedFrom(p.last)
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

// pollFailed says the first of a row of failed polls at once, the rest only
// as the heartbeat.
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

// sendSummary says how the import ended, how long it took and what it left.
func (p *importProgress) sendSummary(status *bitrix24.ImportStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.elapsed = p.clock.Now().Sub(p.started)
	parts := []string{}
	var created []json.RawMessage // a JSON list, [] when absent: the portal sends it with F only
	if json.Unmarshal(status.CreatedItems, &created) == nil && status.Finished() {
		parts = append(parts, plural(len(created), "item")+" created")
	}
	parts = append(parts, plural(len(status.Notices), "notice"))
	if len(status.Errors) > 0 {
		parts = append(parts, plural(len(status.Errors), "error"))
	}
	p.sendLocked(fmt.Sprintf("import %d %s after %s and %s: %s", p.processID, status.Words(),
		elapsedText(p.elapsed), plural(p.polls, "poll"), strings.Join(parts, ", ")))
}

// cancelledLine is the last progress line of a cancelled wait.
func cancelledLine(e *bitrix24.WaitError) string {
	last := "no poll had succeeded"
	if e.Last != nil {
		last = "last seen " + e.Last.InWords()
	}
	return fmt.Sprintf("import %d: wait cancelled after %s and %s (%s); the import goes on in the portal",
		e.ProcessID, elapsedText(e.Waited), plural(e.Polls, "poll"), last)
}

func (p *importProgress) heartbeatDueLocked() bool {
	return p.elapsed-p.lastSent >= progressHeartbeat
}

func (p *importProgress) sendLocked(msg string) {
	p.lastSent = p.elapsed
	p.send(msg)
}

// describeLocked writes "import 42: running - loading CRM_STATUS, step 3
// (4m12s elapsed, 5 polls)"; still is "" or "still ".
func (p *importProgress) describeLocked(still string) string {
	text := fmt.Sprintf("import %d: %s%s", p.processID, still, p.last.InWords())
	if n := len(p.last.Notices); n > 0 {
		text += ", " + plural(n, "notice")
	}
	if n := len(p.last.Errors); n > 0 {
		text += ", " + plural(n, "error")
	}
	counts := p.countsLocked()
	if still != "" && p.elapsed > p.lastChange {
		counts += "; no change for " + elapsedText(p.elapsed-p.lastChange)
	}
	return text + " (" + counts + ")"
}

func (p *importProgress) countsLocked() string {
	return elapsedText(p.elapsed) + " elapsed, " + plural(p.polls, "poll")
}

// elapsedText writes a time in whole seconds, as Terraform's own "Still
// creating... [1m24s elapsed]" does: "45s", "1m24s", "1h2m0s".
func elapsedText(d time.Duration) string {
	return d.Round(time.Second).String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
