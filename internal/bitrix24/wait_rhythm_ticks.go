// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// Where cron starts the agent's runs (cloud portals), a due run waits for
// the next tick, on the minute of the portal's clock: the polls come just
// after the ticks at which the next run can run.
const (
	// defaultTickLate is how long after a cron tick its run's result is
	// first looked for, until a change seen just after a tick says better.
	defaultTickLate = 3 * time.Second
	maxTickLate     = 20 * time.Second
	// tickGap: no change for this long after one was seen (two hit-driven
	// runs are a gap and a run apart) means cron starts the runs.
	tickGap = 100 * time.Second
	// tightChange: a change seen within this of the poll before is known
	// to the second, enough to place it against the minute.
	tightChange = 8 * time.Second
	// tickPhaseSlack: two such changes this close to a whole number of
	// minutes apart came on ticks.
	tickPhaseSlack = 3 * time.Second
	// slowGap: changes this far apart or more, twice, are a slow rhythm
	// (cron every 5 minutes): polls skip the ticks before the next change.
	slowGap = 4 * time.Minute
	// tickSwitchLead: when probes after a due poll find no run (cron),
	// the run due by it runs at the next tick, which often falls a few
	// seconds short of an interval after it; the first tick poll may come
	// this much sooner than the interval after it, and no more, so that
	// polls stay about an interval apart where the agent has stopped.
	tickSwitchLead = 4 * time.Second
	// maxTickCalibrations bounds the follow-ups that learn how long after
	// its tick a run shows: a run that shows within the default is never
	// caught by them.
	maxTickCalibrations = 4
)

// tickFollowUps are the follow-ups after a tick poll that saw nothing,
// while how long runs take to show after a tick is not known.
var tickFollowUps = []time.Duration{4 * time.Second, 8 * time.Second}

// tickState is what the rhythm knows of cron ticks.
type tickState struct {
	late         time.Duration // a tick's run shows within this of the tick
	calibrated   bool          // a change was seen within seconds of its tick
	followUps    int           // follow-ups since the last tick poll
	calibrations int           // such follow-ups so far
	lastTight    time.Time     // the last change known to the second (portal's clock)
}

// noteTight notes a change known within a few seconds: two of them a
// whole number of minutes apart, further apart than a hit-driven run, mean
// cron ticks.
func (r *agentRhythm) noteTight(lo, at time.Time) {
	if at.Sub(lo) > tightChange {
		return
	}
	t := r.server.toServer(at)
	if last := r.tick.lastTight; !last.IsZero() {
		gap := t.Sub(last)
		off := gap % time.Minute
		if gap >= tickGap && (off <= tickPhaseSlack || off >= time.Minute-tickPhaseSlack) {
			r.ticks = true
		}
	}
	r.tick.lastTight = t
	if r.ticks {
		// How long after its tick the change showed, as a bound for later ticks.
		if late := t.Sub(t.Truncate(time.Minute)) + pollLate; late <= maxTickLate {
			r.tick.late, r.tick.calibrated = late, true
		}
	}
}

// planTick plans the next poll on a cron-driven portal: just after the
// first tick (on the minute, server time) at which the next run can run.
// Until a change has been seen within seconds of its tick, a tick poll that
// sees nothing is followed up twice, to learn how long after the tick runs
// show.
func (r *agentRhythm) planTick(at time.Time, changed bool, kind pollKind) {
	ts := &r.tick
	if kind != pollFollowUp {
		ts.followUps = 0
	}
	if !changed && !ts.calibrated && ts.followUps < len(tickFollowUps) && ts.calibrations < maxTickCalibrations {
		ts.calibrations++
		r.followUp(at.Add(tickFollowUps[ts.followUps]))
		ts.followUps++
		return
	}
	from := r.changeLo.Add(agentGap - agentResolution) // the run cannot fall due earlier
	if len(r.gaps) >= 2 && r.gaps[len(r.gaps)-1] >= slowGap && r.gaps[len(r.gaps)-2] >= slowGap {
		from = r.changeLo.Add(min(r.gaps[len(r.gaps)-1], r.gaps[len(r.gaps)-2]) - 30*time.Second)
	}
	// No sooner than about an interval after the last regular poll: less
	// pollLate, so that a poll that came a moment after its tick's does not
	// hold every later tick poll as late.
	earliest := r.lastRegular.Add(r.interval - pollLate)
	from = maxTime(from, earliest.Add(-ts.late))
	from = maxTime(from, at.Add(time.Second))
	tick := r.server.toLocal(ceilMinute(r.server.toServer(from)))
	r.next, r.nextKind = maxTime(tick.Add(ts.late), earliest), pollRhythm
}

// ceilMinute rounds t up to the minute.
func ceilMinute(t time.Time) time.Time {
	if f := t.Truncate(time.Minute); !f.Equal(t) {
		return f.Add(time.Minute)
	}
	return t
}
