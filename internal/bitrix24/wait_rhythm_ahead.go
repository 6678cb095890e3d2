// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// The follow-ups after the first change (see the package doc): where the
// poll before it started its run, the next run falls due a gap and a run
// time after that poll, seconds after the change is seen. When that poll is
// known to have been due (startAhead), one follow-up starts the next run;
// otherwise (lookAhead) two look for it, since the change's cause is
// unknown.

// lookAheadOffsets are those follow-ups, counted from a gap after the poll
// that can have started the first change's run: the first starts the next
// run when runs take up to 5 s, the second sees it when it took up to 5 s
// more. Only two, for they are wasted where something else starts the runs.
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

// lookAhead plans the next follow-up after the first change, seen at
// changeAt; false when none is left.
func (r *agentRhythm) lookAhead(at time.Time) bool {
	if r.ahead != aheadLooking {
		r.ahead, r.aheadMade = aheadLooking, 0
	}
	base := maxTime(r.changeAt, r.changeLo.Add(agentGap))
	for _, offset := range lookAheadOffsets[r.aheadMade:] {
		next := base.Add(offset)
		r.aheadMade++
		if next.After(at) {
			r.followUp(next)
			return true
		}
	}
	r.ahead = aheadNone
	return false
}

// startAhead plans after the first change, seen at at, when the poll
// before it (changeLo) came a gap or more after one that saw the same: a
// run was due by it, so on a quiet portal it started the change's run, and
// the next falls due a run and a gap after it. (Where other visitors'
// requests start the runs, the one due by changeLo started a moment after
// it fell due, and was under way at changeLo, or changeLo would have seen
// it: the next falls due about then as well.) So one follow-up then starts
// the next run, and the poll after a trigger sees it, with no follow-up to
// learn the rhythm. False when changeLo came sooner (the wait's first poll
// among them): what started the change's run is not known.
func (r *agentRhythm) startAhead(at time.Time, s *ImportStatus) bool {
	if r.changeLo.Before(r.started.Add(agentGap)) {
		return false
	}
	next := r.changeLo.Add(r.runBound() + agentGap + triggerSlack)
	if !next.After(at) {
		r.triggered(at, true, false, s) // this poll came late enough to start it
		return true
	}
	r.ahead = aheadStarting
	r.followUp(next)
	return true
}

// startedAhead plans after the follow-up that was to start the next run.
// When it saw no change, it started it (quiet), and the poll a run and a
// gap later sees it. When it saw one, the run due after the change came
// without it: other visitors' requests start the runs (busy), and the next
// falls due a gap after this one.
func (r *agentRhythm) startedAhead(at time.Time, changed bool, s *ImportStatus) {
	r.ahead = aheadNone
	if changed {
		// Seen within seconds of its end, as a follow-up that catches a
		// run does: the polls a gap after each change stay in step.
		r.busy, r.inStep = true, true
		r.seen(at)
		return
	}
	r.triggered(at, false, false, s)
}

// lookedAhead plans after one of those follow-ups. When one sees the next
// run, the one after falls due a gap after it, whoever started it. When
// none does (runs are long, or something else starts them), the next run
// falls due by a gap after the first change, as without them.
func (r *agentRhythm) lookedAhead(at time.Time, changed bool) {
	switch {
	case changed:
		r.ahead = aheadCaught
		r.seen(at)
	case !r.lookAhead(at):
		r.ahead = aheadMissed
		r.seen(r.changeAt)
	}
}

// afterLookAhead plans after the first due poll since the follow-ups, when
// it saw a change nobody awaited. After follow-ups that saw no run, one of
// them may have started this one, which outlasted them: the next falls due
// by a gap after it, whoever starts the runs, and the due poll then tells
// who does. Otherwise no poll of ours can have started it (a run one
// started would have shown by them, or would not show yet): other
// visitors' requests did, a busy portal; and when a follow-up caught the
// run before as it came, this poll came as closely after this one, in
// step.
func (r *agentRhythm) afterLookAhead(at time.Time, ahead aheadState, s *ImportStatus) {
	if ahead == aheadMissed {
		r.ahead = aheadNotOurs
		r.seen(at)
		return
	}
	r.busy, r.inStep = true, ahead == aheadCaught
	if imminent(s) && !r.inStep {
		r.triggered(at, true, false, s) // follow-ups look for the end
		return
	}
	r.seen(at)
}
