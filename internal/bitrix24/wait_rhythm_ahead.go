// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// lookAheadOffsets count lookAhead's follow-ups from a gap after the poll
// before the first change (see the package doc). Only two: they are wasted
// where something else starts the runs.
var lookAheadOffsets = []time.Duration{5 * time.Second, 10 * time.Second}

// aheadState is where the follow-ups after the first change stand.
type aheadState int

const (
	aheadNone     aheadState = iota // none under way, or a due poll has come since they ended
	aheadLooking                    // lookAhead's under way
	aheadMissed                     // they saw no run, though one of them may have started it
	aheadCaught                     // one saw the next run, within seconds of its end
	aheadNotOurs                    // that run showed since: no poll of ours starts the next before the next due poll
	aheadStarting                   // startAhead's follow-up under way
)

// lookAhead plans the next follow-up after the first change, the first
// offset still ahead of at; false when none is left.
func (h *hitPlanner) lookAhead(at time.Time) bool {
	base := maxTime(h.changeAt, h.changeLo.Add(agentGap))
	for _, offset := range lookAheadOffsets {
		if next := base.Add(offset); next.After(at) {
			h.ahead = aheadLooking
			h.followUp(next)
			return true
		}
	}
	h.ahead = aheadNone
	return false
}

// startAhead plans after the first change when the poll before it
// (changeLo) came a gap or more after the first, so a run was due by it:
// the next falls due a run and a gap after it (where others start the runs,
// about then too: changeLo would have seen one that ended before). False
// when changeLo came sooner.
func (h *hitPlanner) startAhead(at time.Time, s *ImportStatus) bool {
	if h.changeLo.Before(h.started.Add(agentGap)) {
		return false
	}
	if next := h.changeLo.Add(h.runBound() + agentGap + triggerSlack); next.After(at) {
		h.ahead = aheadStarting
		h.followUp(next)
	} else {
		h.triggered(at, true, false, s) // this poll came late enough to start it
	}
	return true
}

// startedAhead plans after the follow-up that was to start the next run:
// it did, or it saw the run come without it (busy), within seconds of its
// end (in step).
func (h *hitPlanner) startedAhead(at time.Time, changed bool, s *ImportStatus) {
	h.ahead = aheadNone
	if changed {
		h.busy, h.inStep = true, true
		h.seen(at)
		return
	}
	h.triggered(at, false, false, s)
}

// lookedAhead plans after one of lookAhead's follow-ups: the next run falls
// due a gap after the change one saw, or else after the first change.
func (h *hitPlanner) lookedAhead(at time.Time, changed bool) {
	switch {
	case changed:
		h.ahead = aheadCaught
		h.seen(at)
	case !h.lookAhead(at):
		h.ahead = aheadMissed
		h.seen(h.changeAt)
	}
}

// afterLookAhead plans after the first due poll since the follow-ups, when
// it saw a change nobody awaited. Follow-ups that saw no run may have
// started it (the next due poll tells); otherwise others start the runs.
func (h *hitPlanner) afterLookAhead(at time.Time, ahead aheadState, s *ImportStatus) {
	if ahead == aheadMissed {
		h.ahead = aheadNotOurs
		h.seen(at)
		return
	}
	h.busy, h.inStep = true, ahead == aheadCaught
	h.seenBusy(at, s)
}
