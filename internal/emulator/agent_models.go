// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"math/rand/v2"
	"time"
)

// AgentModel says what runs the import agent, as on a real portal. The zero
// value keeps the simple background agent of Config.AgentPeriod (runs take
// no time, each one period after the previous one started).
//
// With a model, the agent follows the portal's own rules: a process's next
// run falls due Config.AgentPeriod (60 s by default) after its previous run
// ENDED, kept to the whole second; a run takes StepDuration, and its result
// (the new cursor or status) shows when it ends. What starts a due run:
//
//   - AgentOnHits: a request to the portal, right after its answer is made
//     (so that answer does not show the run), plus, when Traffic is set,
//     other visitors' requests every Traffic on the portal's clock.
//   - AgentOnCron: a cron tick at every whole multiple of CronEvery on the
//     portal's clock (every minute on the minute, every 5 minutes, ...).
//
// The model runs on Config.Now and nothing else: it advances lazily, when a
// request or a test reads the portal, so a test scales time down by giving
// the portal a fast or manual clock. Start runs no goroutine for it.
//
// With a model, a run that records an exception keeps status P (progress
// names the failed step and the exception is listed) and the next run marks
// E, as on the portal; without one, E comes with the run that records it.
type AgentModel struct {
	Kind         AgentKind
	StepDuration time.Duration // how long each run takes
	Traffic      time.Duration // AgentOnHits: other visitors' requests this far apart; 0: a quiet portal
	CronEvery    time.Duration // AgentOnCron: the cron period; 0 -> 1 minute
	// Jitter moves each gap between runs by a random amount in
	// [-Jitter, +Jitter] (drawn from Seed): an agent with random timing.
	Jitter time.Duration
	Seed   uint64
}

// AgentKind is what starts the agent's due runs.
type AgentKind int

const (
	AgentBackground AgentKind = iota // Config.AgentPeriod's background agent
	AgentOnHits                      // requests to the portal (and Traffic)
	AgentOnCron                      // cron ticks every CronEvery
)

// agentModel is an AgentModel in use.
type agentModel struct {
	AgentModel
	gap    time.Duration
	random *rand.Rand
}

func newAgentModel(m AgentModel, gap time.Duration) *agentModel {
	if m.Kind == AgentBackground {
		return nil
	}
	if m.Kind == AgentOnCron && m.CronEvery <= 0 {
		m.CronEvery = time.Minute
	}
	return &agentModel{AgentModel: m, gap: gap, random: rand.New(rand.NewPCG(m.Seed, m.Seed^0x5eed))}
}

// nextDue is when the run after one that ended at end falls due: the gap
// after the end, in whole seconds as the portal stores it.
func (m *agentModel) nextDue(end time.Time) time.Time {
	gap := m.gap
	if m.Jitter > 0 {
		gap += time.Duration(m.random.Int64N(int64(2*m.Jitter)+1)) - m.Jitter
	}
	return end.Truncate(time.Second).Add(gap)
}

// start returns when a run due at due starts without our requests: the next
// cron tick, or the next visitor's request; false on a quiet portal.
func (m *agentModel) start(due time.Time) (time.Time, bool) {
	switch {
	case m.Kind == AgentOnCron:
		return ceilTo(due, m.CronEvery), true
	case m.Traffic > 0:
		return ceilTo(due, m.Traffic), true
	}
	return time.Time{}, false
}

// ceilTo rounds t up to a whole multiple of step since the Unix epoch.
func ceilTo(t time.Time, step time.Duration) time.Time {
	ns := t.UnixNano()
	rest := ns % int64(step)
	if rest == 0 {
		return t
	}
	return time.Unix(0, ns-rest+int64(step)).In(t.Location())
}

// catchUp performs the runs of pr that have ended by now, and starts
// those that cron or other visitors start by now; without a model (m nil)
// there is nothing to catch up.
func (m *agentModel) catchUp(pr *process, now time.Time) {
	if m == nil {
		return
	}
	for pr.registered {
		if !pr.runEnds.IsZero() {
			if pr.runEnds.After(now) {
				return
			}
			end := pr.runEnds
			pr.runEnds = time.Time{}
			pr.run(end)
			pr.modelDue = m.nextDue(end)
			continue
		}
		start, ok := m.start(pr.modelDue)
		if !ok || start.After(now) {
			return
		}
		pr.runEnds = start.Add(m.StepDuration)
	}
}
