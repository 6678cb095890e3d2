// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

// The follow-ups after the first change (see the package doc): its cause
// is unknown, and where the poll before it started its run, the next run
// falls due a gap and a run time after that poll, seconds after the change
// is seen.

// lookAheadOffsets are those follow-ups, counted from a gap after the poll
// that can have started the first change's run: the first starts the next
// run when runs take up to 5 s, the second sees it when it took up to 5 s
// more. Only two, for they are wasted where something else starts the runs.
var lookAheadOffsets = []time.Duration{5 * time.Second, 10 * time.Second}

// aheadState is where the follow-ups after the first change stand.
type aheadState int

const (
	aheadNone    aheadState = iota // none under way, or a due poll has come since they ended
	aheadLooking                   // under way
	aheadMissed                    // they saw no run, though one of them may have started it
	aheadCaught                    // one saw the next run, within seconds of its end
	aheadNotOurs                   // that run showed since: no poll of ours starts the next before the next due poll
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

// skipShortProbes follows up a due poll that saw no run after follow-ups
// that saw none either: the first of those came when a run of up to
// lookAheadOffsets[0] would have fallen due and been started, so runs take
// longer (or something else starts them), and probes shorter than the
// follow-ups' span would find nothing.
func (r *agentRhythm) skipShortProbes(at time.Time) {
	if r.probe != 0 {
		return // not probing from the start
	}
	span := lookAheadOffsets[len(lookAheadOffsets)-1]
	for r.probe < len(probeOffsets)-1 && probeOffsets[r.probe] < span {
		r.probe++
	}
	r.followUp(at.Add(probeOffsets[r.probe]))
}
