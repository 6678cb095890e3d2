// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import "time"

const (
	// callerLimitMemory is how long a learnt limit is kept after the last
	// caller came or went: a burst of reads that starts later learns its own.
	callerLimitMemory = time.Second

	// minCallerLimit is the smallest count taken for a limit: below it,
	// counts repeat by chance.
	minCallerLimit = 4
)

// callerLimit learns how many reads the caller sends at most at once.
// Terraform reads at most -parallelism data sources at once, so once that
// many reads wait in the batcher nothing else arrives, and waiting for a
// quiet period only holds Terraform up. When two gathered sends in a row
// went out, after a quiet period, with the same number of callers waiting,
// that number is taken for the limit; from then on the gathered reads go
// out as soon as that many wait. Guarded by the batcher's mutex.
type callerLimit struct {
	callers    int  // in get, not yet returned
	limit      int  // learnt; 0 while unknown
	lastQuiet  int  // callers waiting at the last send after a quiet period
	saturated  bool // callers reached the limit: send without waiting for quiet
	lastChange time.Time
}

func (l *callerLimit) arrive(now time.Time) {
	if now.Sub(l.lastChange) > callerLimitMemory {
		l.limit, l.lastQuiet = 0, 0
	}
	l.lastChange = now
	l.callers++
	if l.callers > l.limit {
		l.limit = 0 // wrong: more came
	}
	if l.limit > 0 && l.callers == l.limit {
		l.saturated = true
	}
}

func (l *callerLimit) leave() {
	l.callers--
	l.lastChange = time.Now()
}

// sentAfterQuiet notes a send that waited for a quiet period.
func (l *callerLimit) sentAfterQuiet() {
	if l.callers >= minCallerLimit && l.callers == l.lastQuiet {
		l.limit = l.callers
	}
	l.lastQuiet = l.callers
}
