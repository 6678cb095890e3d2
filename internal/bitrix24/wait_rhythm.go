// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// A run of the agent falls due agentGap after the previous one ended, in
// whole seconds (see the package doc).
const (
	agentGap        = time.Minute
	agentResolution = time.Second
	// pollLate is how long after the moment it aims at a poll comes.
	pollLate = time.Second
	// rhythmMinGap: two changes closer than this were not made by the
	// portal's agent (an emulator or a test with a fast agent).
	rhythmMinGap = agentGap - 2*time.Second
	// Beyond followUpAllowance follow-ups plus one every followUpEvery, the
	// portal keeps no rhythm the schedule knows: the plain interval.
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

// pollPlan is what the planners share: the changes seen, and the next poll.
type pollPlan struct {
	interval time.Duration
	started  time.Time       // the first poll
	changeLo time.Time       // the last change happened after changeLo (the poll before)...
	changeAt time.Time       // ...and by changeAt (the poll that saw it); zero: none yet
	gaps     []time.Duration // between the changes

	lastRegular time.Time // the last poll that was not a follow-up
	next        time.Time // zero: no opinion, the plain interval
	nextKind    pollKind
}

func (p *pollPlan) followUp(t time.Time) {
	p.next, p.nextKind = t, pollFollowUp
}

// rhythmPoll plans a poll moved to t, but no sooner than the interval after
// the last regular poll: the interval stays the nominal spacing.
func (p *pollPlan) rhythmPoll(t time.Time) {
	p.next, p.nextKind = maxTime(t, p.lastRegular.Add(p.interval)), pollRhythm
}

// agentRhythm plans one wait's polls from what they saw, reading no clock:
// Wait feeds it each successful poll (observe) and reads the next it plans.
type agentRhythm struct {
	*pollPlan
	hits  hitPlanner  // runs start on requests: wait_rhythm_hits.go
	ticks tickPlanner // cron starts the runs: wait_rhythm_ticks.go

	off       bool // changes came faster than the agent makes them
	prev      *ImportStatus
	prevAt    time.Time
	followUps int
}

func newAgentRhythm(interval time.Duration) *agentRhythm {
	plan := &pollPlan{interval: interval}
	return &agentRhythm{
		pollPlan: plan,
		hits:     hitPlanner{pollPlan: plan, probe: -1},
		ticks:    tickPlanner{pollPlan: plan, late: defaultTickLate},
	}
}

// observe takes a successful poll that read s, answered at, and plans the next.
func (r *agentRhythm) observe(at time.Time, s *ImportStatus) {
	kind := r.nextKind
	if r.next.IsZero() || at.Before(r.next) {
		kind = pollPlain // a poll the plan did not ask for (the first, or the deadline's)
	}
	r.ticks.server.sample(at, s.Time)
	changed := r.prev != nil && s.ChangedFrom(r.prev)
	lo := r.prevAt
	r.prev, r.prevAt = s, at
	r.next, r.nextKind = time.Time{}, pollPlain

	if kind == pollFollowUp {
		r.followUps++
		if r.followUps > followUpAllowance+int(at.Sub(r.started)/followUpEvery) {
			r.off = true
		}
	} else {
		r.lastRegular = at
	}
	if r.started.IsZero() {
		r.started = at
	}
	if changed {
		if !r.changeAt.IsZero() {
			if at.Sub(r.changeLo) < rhythmMinGap {
				r.off = true
			}
			r.gaps = append(r.gaps, at.Sub(r.changeAt))
			if lo.Sub(r.changeAt) >= tickGap {
				r.ticks.on = true // a due run waited longer than hits let it
			}
		}
		r.changeLo, r.changeAt = lo, at
		r.ticks.noteTight(lo, at)
	}
	if r.off || r.changeAt.IsZero() || (r.interval < agentGap/2 && len(r.gaps) == 0) {
		return // no rhythm known: the plain interval
	}
	if !r.ticks.on {
		cron, skipCalibration := r.hits.plan(at, changed, kind, s)
		if !cron {
			return
		}
		r.ticks.on = true
		r.ticks.calibrated = r.ticks.calibrated || skipCalibration
	}
	r.ticks.plan(at, changed, kind)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
