// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

const (
	// A run that shows later than maxRunTime after the poll by which it fell
	// due, or tickSlack later than twice the usual run time, was started by
	// something else (cron).
	maxRunTime = 20 * time.Second
	tickSlack  = 5 * time.Second
	// assumedRunTime: runs are taken to show within this until measured.
	assumedRunTime = 3 * time.Second
	// triggerSlack is what a poll planned from a trigger adds to its run time
	// and a gap: the due time's resolution, and pollLate.
	triggerSlack = agentResolution + pollLate
	// shortProbe is how many probes follow a trigger that saw a change,
	// which may have been its run.
	shortProbe = 2
	// tickSwitchLead: when probes find no run (cron), it runs at the next
	// tick, often seconds short of an interval after its poll; the first tick
	// poll may come this much sooner, no more (the agent may have stopped).
	tickSwitchLead = 4 * time.Second
)

// probeOffsets are the follow-ups after a trigger, counted from it, until
// its run shows.
var probeOffsets = []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second, maxRunTime}

// hitPlanner plans the polls where requests start the agent's due runs
// (see the package doc); a poll by which a run fell due is its trigger.
type hitPlanner struct {
	*pollPlan
	dueBy      time.Time     // the next run falls due by then; zero: not known
	runTime    time.Duration // a run shows within this of its trigger; 0: not measured (runBound)
	trigger    time.Time     // the last poll by which a run fell due, whose result is awaited
	triggerSaw bool          // that poll saw a change
	missed     bool          // it missed an awaited run
	inStep     bool          // busy, and the polls come just after the runs end
	busy       bool          // runs start without our polls
	expect     bool          // the next rhythm poll should see the trigger's run
	probe      int           // follow-ups made since trigger; -1: not probing
	ahead      aheadState    // the follow-ups after the first change: wait_rhythm_ahead.go
}

// plan plans the next poll after one at at, or reports that cron starts
// the runs; skipCalibration: the tick planner need not learn their lateness.
func (h *hitPlanner) plan(at time.Time, changed bool, kind pollKind, s *ImportStatus) (cron, skipCalibration bool) {
	probing := kind == pollFollowUp && h.probe >= 0
	switch {
	case probing && changed:
		// A run that took this long waited for something else than our polls
		// (one missed before the run time was measured took longer than assumed).
		took := at.Sub(h.trigger)
		if took > maxRunTime || h.missed && h.runTime > 0 && took > 2*h.runTime+tickSlack {
			return true, false
		}
		h.runTime = max(h.runTime, took)
		h.probe = -1
		h.inStep = h.busy
		h.seen(at)
	case probing:
		h.probe++
		limit := len(probeOffsets)
		if h.triggerSaw {
			limit = shortProbe
		}
		if h.probe < limit && probeOffsets[h.probe] < h.interval {
			h.followUp(h.trigger.Add(probeOffsets[h.probe]))
			break
		}
		h.probe = -1
		if h.triggerSaw {
			h.seen(h.trigger) // the trigger's change was the due run's
			break
		}
		// No run within maxRunTime: cron, or a locked step.
		h.lastRegular = h.lastRegular.Add(-tickSwitchLead)
		return true, true
	case h.busy && changed:
		h.seenBusy(at, s)
	case !h.dueBy.IsZero() && !at.Before(h.dueBy):
		// A run falls due by this poll; probes look for an awaited run that
		// did not show.
		ahead := h.ahead
		h.ahead = aheadNone
		if changed && !h.expect && ahead != aheadNone {
			h.afterLookAhead(at, ahead, s)
			break
		}
		h.busy = h.busy || changed && !h.expect // a change nobody awaited: others start the runs
		h.inStep = h.inStep && changed          // a run that shows late is out of step
		h.triggered(at, changed, (h.expect || ahead == aheadMissed) && !changed, s)
	case kind == pollFollowUp && h.ahead == aheadLooking:
		h.lookedAhead(at, changed)
	case kind == pollFollowUp && h.ahead == aheadStarting:
		h.startedAhead(at, changed, s)
	case changed && h.dueBy.IsZero():
		if !h.startAhead(at, s) && !h.lookAhead(at) {
			h.seen(at)
		}
	case changed:
		h.seen(at)
	default:
		h.rhythmPoll(h.dueBy.Add(pollLate))
	}
	return false, false
}

// imminent reports that the agent's next run ends the import: P with
// action false (F next), or a recorded exception (E next).
func imminent(s *ImportStatus) bool {
	return s.Status == StatusProcessing && (s.Progress != nil && s.Progress.Action == "" || len(s.Exceptions) > 0)
}

// seen plans after a change whose run ended by at.
func (h *hitPlanner) seen(at time.Time) {
	h.dueBy, h.expect = at.Add(agentGap+agentResolution), false
	h.rhythmPoll(h.dueBy.Add(pollLate))
}

// seenBusy plans after a change on a busy portal; unless in step, probes
// look for an imminent end.
func (h *hitPlanner) seenBusy(at time.Time, s *ImportStatus) {
	if imminent(s) && !h.inStep {
		h.triggered(at, true, false, s)
		return
	}
	h.seen(at)
}

// triggered plans after a trigger: the poll a run and a gap later, or
// probes when the run ends the import or an awaited run did not show.
func (h *hitPlanner) triggered(at time.Time, saw, missed bool, s *ImportStatus) {
	h.trigger, h.triggerSaw, h.missed = at, saw, missed
	if missed || imminent(s) {
		h.probe = 0
		for h.probe < len(probeOffsets)-1 && h.tooSoon(probeOffsets[h.probe]) {
			h.probe++
		}
		h.followUp(at.Add(max(probeOffsets[h.probe], h.runTime)))
		return
	}
	h.dueBy, h.expect = at.Add(h.runBound()+agentGap+agentResolution), true
	h.rhythmPoll(h.dueBy.Add(pollLate))
}

// tooSoon reports that a probe offset comes before the trigger's run can
// show: within the run time, or, after a missed run not yet measured,
// within the assumed time and its slack (it would have shown).
func (h *hitPlanner) tooSoon(offset time.Duration) bool {
	if h.missed && h.runTime == 0 {
		return offset <= assumedRunTime+triggerSlack
	}
	return offset < h.runTime
}

// runBound is how long after its trigger a run shows.
func (h *hitPlanner) runBound() time.Duration {
	if h.runTime > 0 {
		return h.runTime
	}
	return assumedRunTime
}
