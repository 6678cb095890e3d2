// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// What the schedule knows of the portal's agent: it runs an import one step
// a run, and a run falls due agentGap after the previous one ENDED, in
// whole seconds. On most portals requests start due runs (right after
// their answer: with no other traffic, our polls are the hits); on others
// cron does, on the minute.
const (
	agentGap        = time.Minute
	agentResolution = time.Second
	// pollLate is how long after the moment it aims at a poll comes.
	pollLate = time.Second
	// rhythmMinGap: two changes closer than this were not made by the
	// portal's agent (an emulator or a test with a fast agent): the wait
	// keeps the plain interval.
	rhythmMinGap = agentGap - 2*time.Second
	// tickSlack: a run that shows this much later than twice the usual
	// run time after a due poll was not started by it.
	tickSlack = 5 * time.Second
	// maxRunTime: a run that shows later than this after a poll by which it
	// fell due was started by something else (cron).
	maxRunTime = 20 * time.Second
	// followUpAllowance and followUpEvery bound the follow-ups: beyond
	// followUpAllowance plus one every followUpEvery, the portal is not
	// keeping any rhythm the schedule knows, and the wait keeps the plain
	// interval (requests stay near one a minute).
	followUpAllowance = 10
	followUpEvery     = 5 * time.Minute
)

// pollKind says what a planned poll is for.
type pollKind int

const (
	pollPlain    pollKind = iota // on the plain interval (or the shared rounds)
	pollRhythm                   // moved to just after the agent's next run
	pollFollowUp                 // a short follow-up, closer than the interval
)

// agentRhythm plans the polls of one wait from what they saw. Without a
// known rhythm it has no opinion and the wait polls on the plain interval;
// Wait feeds it each successful poll (observe) and asks for the next one
// (plan). It is a pure state machine: it reads no clock.
type agentRhythm struct {
	interval time.Duration
	server   serverClock

	off      bool // changes came faster than the agent makes them
	prev     *ImportStatus
	prevAt   time.Time
	polled   bool
	changes  int
	changeLo time.Time // the last change happened after changeLo (the poll before)...
	changeAt time.Time // ...and by changeAt (the poll that saw it)
	gaps     []time.Duration

	// Hit-driven runs.
	dueBy      time.Time     // the agent's next run falls due by then; zero: not known
	runTime    time.Duration // a run due by a poll shows within this of it; 0: not measured (runBound)
	trigger    time.Time     // the last poll by which a run fell due, whose result is awaited
	triggerSaw bool          // that poll saw a change
	missed     bool          // the trigger's poll missed an awaited run
	inStep     bool          // busy, and the polls come just after the runs end
	busy       bool          // runs start without our polls (other visitors' requests)
	expect     bool          // the next rhythm poll should see the trigger's run
	probe      int           // follow-ups made since trigger; -1: not probing
	ahead      aheadState    // the follow-ups after the first change: wait_rhythm_ahead.go
	aheadMade  int           // how many of them were made

	ticks bool // cron starts the runs: see wait_rhythm_ticks.go
	tick  tickState

	started   time.Time // the first poll
	followUps int       // follow-ups so far

	lastRegular time.Time // the last poll that was not a follow-up
	next        time.Time
	nextKind    pollKind
}

func newAgentRhythm(interval time.Duration) *agentRhythm {
	return &agentRhythm{interval: interval, probe: -1, tick: tickState{late: defaultTickLate}}
}

// imminent reports that the agent's next run ends the import: action false
// with P means the last step has run and the next run marks F; a recorded
// exception means the next run marks E.
func imminent(s *ImportStatus) bool {
	if s.Status != StatusProcessing {
		return false
	}
	return (s.Progress != nil && s.Progress.Action == "") || len(s.Exceptions) > 0
}

// observe takes a successful poll that read s, answered at (local time).
// It then plans the next poll.
func (r *agentRhythm) observe(at time.Time, s *ImportStatus) {
	kind := r.nextKind
	if r.next.IsZero() || at.Before(r.next) {
		kind = pollPlain // a poll the plan did not ask for (the first, or the deadline's)
	}
	r.server.sample(at, s.Time)
	changed := r.polled && s.ChangedFrom(r.prev)
	lo := r.prevAt
	r.prev, r.prevAt, r.polled = s, at, true
	if kind != pollFollowUp {
		r.lastRegular = at
	}
	r.next, r.nextKind = time.Time{}, pollPlain

	if kind == pollFollowUp {
		r.followUps++
		if r.followUps > followUpAllowance+int(at.Sub(r.started)/followUpEvery) {
			// More surprises than a rhythm has: the plain interval from now on.
			r.off = true
		}
	}
	if r.started.IsZero() {
		r.started = at
	}
	if changed {
		if r.changes > 0 && at.Sub(r.changeLo) < rhythmMinGap {
			r.off = true
		}
		if r.changes > 0 {
			r.gaps = append(r.gaps, at.Sub(r.changeAt))
			if lo.Sub(r.changeAt) >= tickGap {
				// A due run waited far longer than a hit-driven agent
				// lets it: cron starts the runs.
				r.ticks = true
			}
		}
		r.changes++
		r.changeLo, r.changeAt = lo, at
		r.noteTight(lo, at)
	}
	if r.off || r.changes == 0 || (r.interval < agentGap/2 && r.changes < 2) {
		return // no rhythm known: the plain interval
	}
	if r.ticks {
		r.planTick(at, changed, kind)
		return
	}
	r.planHit(at, changed, kind, s)
}

// planHit plans the next poll on a portal whose runs start on hits: each
// poll comes just after the next run falls due, so that it starts that run
// on a quiet portal (on a busy one, the run has started), and sees the run
// that fell due by the poll before.
func (r *agentRhythm) planHit(at time.Time, changed bool, kind pollKind, s *ImportStatus) {
	probing := kind == pollFollowUp && r.probe >= 0
	switch {
	case probing && changed:
		// The run due by the trigger showed: runs take that long to show.
		took := at.Sub(r.trigger)
		if took > maxRunTime || r.missed && r.runTime > 0 && took > 2*r.runTime+tickSlack {
			// A run that was due waited for something else than our
			// polls, longer than runs take: cron starts them. (A run
			// missed before the run time was measured only took longer
			// than assumed.)
			r.ticks = true
			r.planTick(at, true, kind)
			return
		}
		r.runTime = max(r.runTime, took)
		r.probe = -1
		r.inStep = r.busy
		r.seen(at)
	case probing:
		r.probe++
		limit := len(probeOffsets)
		if r.triggerSaw {
			limit = shortProbe // the run due by the trigger may have shown already
		}
		if r.probe < limit && probeOffsets[r.probe] < r.interval {
			r.followUp(r.trigger.Add(probeOffsets[r.probe]))
			return
		}
		r.probe = -1
		if r.triggerSaw {
			// The change the trigger saw was the due run's: the next one
			// falls due a gap after it.
			r.seen(r.trigger)
			return
		}
		// Nothing within maxRunTime of a due run: the agent does not run
		// on our polls (cron, or a locked step). Polls on the minute from
		// now on, without learning how late after a tick runs show. The
		// due poll was placed for a run that nothing started, which runs
		// at the next tick: the first tick poll may come up to
		// tickSwitchLead sooner than an interval after it.
		r.ticks, r.tick.calibrated = true, true
		r.lastRegular = r.lastRegular.Add(-tickSwitchLead)
		r.planTick(at, false, kind)
	case r.busy && changed:
		// Runs start without us: each change says when the next run falls
		// due, and the poll a gap later sees the next. Once a follow-up has
		// caught a change as it came, the polls stay in step with the runs
		// and see the end as it comes; otherwise, when the next run ends
		// the import, follow-ups look for it.
		if imminent(s) && !r.inStep {
			r.triggered(at, true, false, s)
			return
		}
		r.seen(at)
	case !r.dueBy.IsZero() && !at.Before(r.dueBy):
		// A run falls due by this poll: on a quiet portal the poll starts
		// it. Its result shows within the run time; one that was awaited
		// and did not show is looked for with follow-ups, as is one after
		// the first change's follow-ups saw none either (runs take longer
		// than they looked for, or cron starts them). A change nobody
		// awaited means other visitors start the runs: a busy portal.
		ahead := r.ahead
		r.ahead = aheadNone
		if changed && !r.expect && ahead != aheadNone {
			r.afterLookAhead(at, ahead, s)
			return
		}
		if changed && !r.expect {
			r.busy = true
		}
		if !changed {
			r.inStep = false // the run showed later than the step says
		}
		r.triggered(at, changed, (r.expect || ahead == aheadMissed) && !changed, s)
	case kind == pollFollowUp && r.ahead == aheadLooking:
		r.lookedAhead(at, changed)
	case kind == pollFollowUp && r.ahead == aheadStarting:
		r.startedAhead(at, changed, s)
	case changed && r.dueBy.IsZero():
		// The first change: see wait_rhythm_ahead.go.
		if !r.startAhead(at, s) && !r.lookAhead(at) {
			r.seen(at)
		}
	case changed:
		r.seen(at)
	default:
		r.rhythmPoll(r.dueBy.Add(pollLate))
	}
}

// seen plans after a change whose run ended by at: the next run falls due
// by a gap later.
func (r *agentRhythm) seen(at time.Time) {
	r.dueBy = at.Add(agentGap + agentResolution)
	r.expect = false
	r.rhythmPoll(r.dueBy.Add(pollLate))
}

func (r *agentRhythm) followUp(t time.Time) {
	r.next, r.nextKind = t, pollFollowUp
}

// rhythmPoll plans a poll moved to t, but never sooner than the plain
// interval after the last regular poll: the interval stays the nominal
// spacing, and polls never come faster than the agent can change.
func (r *agentRhythm) rhythmPoll(t time.Time) {
	r.next, r.nextKind = maxTime(t, r.lastRegular.Add(r.interval)), pollRhythm
}

// plan returns the next poll the rhythm asks for; ok is false when it has
// no opinion (the plain interval).
func (r *agentRhythm) plan() (at time.Time, kind pollKind, ok bool) {
	if r.next.IsZero() {
		return time.Time{}, pollPlain, false
	}
	return r.next, r.nextKind, true
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
