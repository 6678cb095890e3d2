// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// On a quiet hit-driven portal a poll by which a run fell due starts it:
// the poll is the trigger. Its run shows a run time later, and the next
// falls due a gap after that, so the poll a run and a gap after the trigger
// sees the run and starts the next: one request a run.

// assumedRunTime: until a follow-up has measured how long runs take to
// show, they are taken to show within this (most steps do), and the poll
// after a trigger comes a gap and this much (and the slack below) later. A
// longer run is missed once, and probes then measure it.
const assumedRunTime = 3 * time.Second

// triggerSlack is what a poll planned from a trigger adds to its run time
// and a gap: the resolution of the due time, and pollLate. A run that
// shows within the run time plus this has fallen due by that poll.
const triggerSlack = agentResolution + pollLate

// probeOffsets are the follow-ups after a trigger, counted from it, until
// its run shows: when the run ends the import (so that the end is seen
// within seconds), or when an awaited run did not show; they measure how
// long runs take to show. A probe that sees nothing by the last one means
// the agent does not run on our polls (cron), or not now.
var probeOffsets = []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second, maxRunTime}

// shortProbe is how many follow-ups look for a due run after a trigger
// that saw a change, which may have been that run.
const shortProbe = 2

// triggered plans after a poll by which a run fell due: the poll a run and
// a gap later, which sees its run and starts the next. It probes instead
// when the run ends the import, or when an awaited run did not show
// (missed).
func (r *agentRhythm) triggered(at time.Time, saw, missed bool, s *ImportStatus) {
	r.trigger, r.triggerSaw, r.missed = at, saw, missed
	if missed || imminent(s) {
		r.probe = 0
		for r.probe < len(probeOffsets)-1 && r.tooSoon(probeOffsets[r.probe], missed) {
			r.probe++
		}
		r.followUp(at.Add(max(probeOffsets[r.probe], r.runTime)))
		return
	}
	r.dueBy = at.Add(r.runBound() + agentGap + agentResolution)
	r.expect = true
	r.rhythmPoll(r.dueBy.Add(pollLate))
}

// tooSoon reports that a probe offset after a trigger comes before its run
// can show: shorter than the measured run time; or, after an awaited run
// did not show while the run time is not measured, within the slack the
// poll meant to start it left (a run that short would have fallen due by
// that poll, and shown by now): runs take longer.
func (r *agentRhythm) tooSoon(offset time.Duration, missed bool) bool {
	if missed && r.runTime == 0 {
		return offset <= assumedRunTime+triggerSlack
	}
	return offset < r.runTime
}

// runBound is how long after its trigger a run shows: as measured, or
// assumedRunTime until a probe has measured it.
func (r *agentRhythm) runBound() time.Duration {
	if r.runTime > 0 {
		return r.runTime
	}
	return assumedRunTime
}
