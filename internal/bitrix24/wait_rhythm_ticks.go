// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

const (
	// defaultTickLate: a tick's run is looked for this long after it, until
	// a change seen just after a tick says better.
	defaultTickLate = 3 * time.Second
	maxTickLate     = 20 * time.Second
	// tickGap: no change for this long after one (hit-driven runs are a gap
	// and a run apart) means cron starts the runs.
	tickGap = 100 * time.Second
	// A change seen within tightChange of the poll before is known to the
	// second; two such within tickPhaseSlack of whole minutes apart: ticks.
	tightChange    = 8 * time.Second
	tickPhaseSlack = 3 * time.Second
	// slowGap: changes this far apart or more, twice, are a slow rhythm
	// (cron every 5 minutes): polls skip the ticks before the next change.
	slowGap = 4 * time.Minute
	// maxTickCalibrations bounds the follow-ups that learn how late after
	// its tick a run shows: one within the default is never caught by them.
	maxTickCalibrations = 4
)

// tickFollowUps calibrate the tick planner after a tick poll that saw nothing.
var tickFollowUps = []time.Duration{4 * time.Second, 8 * time.Second}

// tickPlanner plans the polls where cron starts the agent's runs (cloud
// portals): a due run waits for the next tick, on the portal's minute.
type tickPlanner struct {
	*pollPlan
	on           bool // cron starts the runs
	server       serverClock
	late         time.Duration // a tick's run shows within this of the tick
	calibrated   bool          // a change was seen within seconds of its tick
	followUps    int           // follow-ups since the last tick poll
	calibrations int           // such follow-ups so far
	lastTight    time.Time     // the last change known to the second (portal's clock)
}

// noteTight notes a change known to the second: two a whole number of
// minutes apart, further than hit-driven runs, mean cron ticks.
func (tp *tickPlanner) noteTight(lo, at time.Time) {
	if at.Sub(lo) > tightChange {
		return
	}
	t := at.Add(-tp.server.skew())
	if !tp.lastTight.IsZero() {
		gap := t.Sub(tp.lastTight)
		off := gap % time.Minute
		if gap >= tickGap && (off <= tickPhaseSlack || off >= time.Minute-tickPhaseSlack) {
			tp.on = true
		}
	}
	tp.lastTight = t
	// How long after its tick the change showed bounds later ticks' runs.
	if late := t.Sub(t.Truncate(time.Minute)) + pollLate; tp.on && late <= maxTickLate {
		tp.late, tp.calibrated = late, true
	}
}

// plan plans the next poll just after the first tick at which the next run
// can run, or a follow-up that learns how late after its tick runs show.
func (tp *tickPlanner) plan(at time.Time, changed bool, kind pollKind) {
	if kind != pollFollowUp {
		tp.followUps = 0
	}
	if !changed && !tp.calibrated && tp.followUps < len(tickFollowUps) && tp.calibrations < maxTickCalibrations {
		tp.calibrations++
		tp.followUp(at.Add(tickFollowUps[tp.followUps]))
		tp.followUps++
		return
	}
	from := tp.changeLo.Add(agentGap - agentResolution) // the run cannot fall due earlier
	if n := len(tp.gaps); n >= 2 && tp.gaps[n-1] >= slowGap && tp.gaps[n-2] >= slowGap {
		from = tp.changeLo.Add(min(tp.gaps[n-1], tp.gaps[n-2]) - 30*time.Second)
	}
	// About an interval after the last regular poll; less pollLate, lest a
	// tick poll that came a moment late make every later one as late.
	earliest := tp.lastRegular.Add(tp.interval - pollLate)
	from = maxTime(from, earliest.Add(-tp.late))
	from = maxTime(from, at.Add(time.Second))
	// The first whole minute of the portal's clock at or after from.
	skew := tp.server.skew()
	tick := from.Add(-skew).Add(time.Minute - time.Nanosecond).Truncate(time.Minute).Add(skew)
	tp.next, tp.nextKind = maxTime(tick.Add(tp.late), earliest), pollRhythm
}

// serverClock maps the local clock to the portal's, from the time block of
// each answer: the smallest gap between an answer's arrival and the
// portal's finish is the offset (the rest was the way back). An answer
// whose gap is far from it (a frozen or jumping server clock) makes it
// untrusted, and the local clock stands in.
type serverClock struct {
	offset  time.Duration // local minus server
	sampled bool
	trusted bool
}

// serverClockSlack is how far an answer's gap may lie from the offset
// before the portal's clock is not trusted.
const serverClockSlack = 2 * time.Second

// sample takes an answer that arrived at (local time) with time block t.
func (c *serverClock) sample(at time.Time, t *Time) {
	if t == nil || t.Finish <= 0 {
		c.trusted = false
		return
	}
	gap := at.Sub(unixTime(t.Finish))
	c.trusted = !c.sampled || (gap-c.offset).Abs() < serverClockSlack
	if !c.sampled || gap < c.offset {
		c.offset = gap
	}
	c.sampled = true
}

// skew is what to subtract from a local time for the portal's: the offset,
// or zero while the portal's clock is not trusted.
func (c *serverClock) skew() time.Duration {
	if !c.trusted {
		return 0
	}
	return c.offset
}
