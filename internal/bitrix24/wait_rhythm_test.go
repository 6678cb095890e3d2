// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// The tests of the schedule run Wait against the emulator's agent models
// on a fake clock that jumps to the end of each of the wait's sleeps: the
// emulator's agent advances from the same clock, so a 20-minute import
// takes milliseconds and every time is exact.

// newMinuteClock returns a jumping fake clock on a whole minute, so that
// runs (and cron ticks) fall at the same moments in every test run.
func newMinuteClock() *fakeclock.Clock {
	clock := newFakeClock(true)
	clock.Advance(fakeEpoch.Truncate(time.Minute).Add(time.Minute).Sub(fakeEpoch))
	return clock
}

// twentySteps is an import of 5 + 2*2 + 11 = 20 agent runs.
var twentySteps = emulator.Script{Sections: []string{"CRM_STATUS", "TASKS"}, Files: 11}

// rhythmRun is what one wait for an emulated import saw.
type rhythmRun struct {
	polls    []time.Duration // since the wait started
	statuses []string
	info     emulator.ProcessInfo
	waited   time.Duration
	delay    time.Duration // from F or E to the wait returning
}

// perMinute is the wait's requests per minute.
func (r rhythmRun) perMinute() float64 {
	return float64(len(r.polls)) / r.waited.Minutes()
}

// gaps lists the time between consecutive polls.
func (r rhythmRun) gaps() []time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(r.polls); i++ {
		gaps = append(gaps, r.polls[i]-r.polls[i-1])
	}
	return gaps
}

// rhythmTestBudget is how long, in real time, a wait of these tests may
// take: on the jumping clock a 20-step import takes well under a second,
// so a wait that never ends fails in seconds, not at the suite's timeout.
const rhythmTestBudget = 15 * time.Second

// withBudget returns a context cancelled after rhythmTestBudget of real
// time. It has no deadline: Wait would read one on the fake clock.
func withBudget(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(rhythmTestBudget, cancel)
	t.Cleanup(func() {
		timer.Stop()
		cancel()
	})
	return ctx
}

// waitForModel registers script on an emulated portal with model, after
// moving the clock by phase, and waits for it from lateBy after the
// registration.
func waitForModel(t *testing.T, model emulator.AgentModel, script emulator.Script, interval, phase, lateBy time.Duration) rhythmRun {
	t.Helper()
	return waitForRuns(t, model, script, 0, interval, phase, lateBy)
}

// waitForRuns is waitForModel for an import of which the agent had made
// runsDone runs by the registration: that many runs shorter, its next run
// due a gap later as a fresh one's is.
func waitForRuns(t *testing.T, model emulator.AgentModel, script emulator.Script, runsDone int, interval, phase, lateBy time.Duration) rhythmRun {
	t.Helper()
	clock := newMinuteClock()
	clock.Advance(phase)
	portal := emulator.New(emulator.Config{WebhookCode: testWebhookCode, Now: clock.Now, Agent: model})
	t.Cleanup(portal.Close)
	server := httptest.NewServer(portal)
	t.Cleanup(server.Close)
	hook, err := ParseWebhookURL(server.URL + portal.WebhookPath())
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(Config{Auth: hook, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	id := portal.CreateProcess(script)
	portal.Advance(id, runsDone)
	clock.Advance(lateBy)

	started := clock.Now()
	status, err := client.ConfigurationImport.Wait(withBudget(t), id, WaitOptions{PollInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	run := rhythmRun{waited: clock.Now().Sub(started)}
	run.info, _ = portal.Process(id)
	run.delay = clock.Now().Sub(run.info.FinishedAt)
	for _, r := range portal.Requests() {
		run.polls = append(run.polls, r.At.Sub(started))
		run.statuses = append(run.statuses, r.ResultStatus)
	}
	if status.Status != run.info.Status {
		t.Fatalf("Wait returned %s with the import at %s", status.Status, run.info.Status)
	}
	return run
}

var (
	quiet = emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 2 * time.Second}
	busy  = emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 2 * time.Second, Traffic: time.Second}
)

// Rule: with no change seen yet the wait polls on the plain interval, and
// with an interval under half a minute it needs two changes a gap apart
// before it moves a poll; changes closer than the agent can make them (a
// fast emulator) keep the plain interval for good.
func TestWaitRhythm_fastAgentKeepsThePlainInterval(t *testing.T) {
	fast := emulator.AgentModel{Kind: emulator.AgentOnHits, Traffic: time.Second, StepDuration: time.Second}
	clock := newMinuteClock()
	portal := emulator.New(emulator.Config{WebhookCode: testWebhookCode, Now: clock.Now, Agent: fast, AgentPeriod: 10 * time.Second})
	server := httptest.NewServer(portal)
	defer server.Close()
	hook, _ := ParseWebhookURL(server.URL + portal.WebhookPath())
	client, _ := NewClient(Config{Auth: hook, Clock: clock})
	id := portal.CreateProcess(twentySteps)

	started := clock.Now()
	if _, err := client.ConfigurationImport.Wait(withBudget(t), id, WaitOptions{PollInterval: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for i, r := range portal.Requests() {
		if at := r.At.Sub(started); at != time.Duration(i)*5*time.Second {
			t.Fatalf("poll %d at %v; want every 5 s", i+1, at)
		}
	}
}

// Rule: poll_interval stays the nominal spacing: with 3 minutes the polls
// the rhythm moves come no sooner than 3 minutes after the poll before
// (only follow-ups are closer), even though the agent could run a step a
// minute.
func TestWaitRhythm_longerIntervalStaysTheSpacing(t *testing.T) {
	run := waitForModel(t, quiet, twentySteps, 3*time.Minute, 0, 3*time.Second)
	regular := run.polls[0]
	for _, at := range run.polls[1:] {
		switch gap := at - regular; {
		case gap <= maxRunTime: // a follow-up
		case gap < 3*time.Minute:
			t.Fatalf("polls at %v; want regular polls at least 3 min apart", run.polls)
		default:
			regular = at
		}
	}
}

// Rule: on a quiet hit-driven portal each poll comes just after the next
// run falls due, so that it starts that run and sees the one before: the
// import takes as long as on a busy portal (within 10 %), where a fixed
// grid takes two intervals a step.
func TestWaitRhythm_quietPortalKeepsThePace(t *testing.T) {
	// Runs of 5 s: a poll a gap after the last change would come before
	// the next run falls due (60 s after the 5 s run ended), and miss it.
	quiet5, busy5 := quiet, busy
	quiet5.StepDuration, busy5.StepDuration = 5*time.Second, 5*time.Second
	onQuiet := waitForModel(t, quiet5, twentySteps, time.Minute, 0, 3*time.Second)
	onBusy := waitForModel(t, busy5, twentySteps, time.Minute, 0, 3*time.Second)
	if onQuiet.info.Status != "F" || onBusy.info.Status != "F" {
		t.Fatalf("imports ended %s and %s", onQuiet.info.Status, onBusy.info.Status)
	}
	quietTook := onQuiet.info.FinishedAt.Sub(onQuiet.info.RegisteredAt)
	busyTook := onBusy.info.FinishedAt.Sub(onBusy.info.RegisteredAt)
	t.Logf("quiet %v, busy %v, %.2f requests a minute", quietTook, busyTook, onQuiet.perMinute())
	if quietTook > busyTook*11/10 {
		t.Errorf("the import took %v on a quiet portal, %v on a busy one; want within 10 %%", quietTook, busyTook)
	}
	if n := onQuiet.perMinute(); n > 1.3 {
		t.Errorf("%.2f requests a minute; want at most 1.3", n)
	}
}

// sevenSteps is the shortest import: start, init_background, manifest,
// clean, load, finish, action false; F at the 7th run.
var sevenSteps = emulator.Script{Sections: []string{"CRM_STATUS"}}

// Rule: the poll before the first change can have started its run (on a
// quiet portal it did), so follow-ups a gap after that poll start the next
// run and see it: the wait keeps step from the first change, and a short
// import takes as long as on a busy portal (within 10 %), not an interval
// more, with its end seen within seconds.
func TestWaitRhythm_quietPortalKeepsStepFromTheFirstChange(t *testing.T) {
	for _, c := range []struct {
		name     string
		runsDone int // of sevenSteps' 7, before the wait
		interval time.Duration
		lateBy   time.Duration
		fSeen    time.Duration // from the wait's start, at most; 0: not checked
		polls    int           // at most, with fSeen
	}{
		// Its first poll starts the first run, the second sees it and
		// follow-ups start and see the second, the one a gap after them
		// starts the last and its follow-up sees F: 134 s, 6 polls.
		{"3 steps, the first due at the wait's first poll", 4, time.Minute, agentGap, 140 * time.Second, 6},
		{"3 steps, the first due a minute after the wait's first poll", 4, time.Minute, 3 * time.Second, 0, 0},
		{"7 steps", 0, time.Minute, 3 * time.Second, 0, 0},
		// The second poll starts the first run, the third sees it 45 s
		// later: the follow-ups count from a gap after the second.
		{"3 steps, polled every 45 s", 4, 45 * time.Second, 15 * time.Second, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			onQuiet := waitForRuns(t, quiet, sevenSteps, c.runsDone, c.interval, 0, c.lateBy)
			onBusy := waitForRuns(t, busy, sevenSteps, c.runsDone, c.interval, 0, c.lateBy)
			quietTook := onQuiet.info.FinishedAt.Sub(onQuiet.info.RegisteredAt)
			busyTook := onBusy.info.FinishedAt.Sub(onBusy.info.RegisteredAt)
			t.Logf("quiet %v, busy %v; polls %v", quietTook, busyTook, onQuiet.polls)
			if onQuiet.info.Status != "F" {
				t.Fatalf("the import ended %s", onQuiet.info.Status)
			}
			if quietTook > busyTook*11/10 {
				t.Errorf("the import took %v on a quiet portal, %v on a busy one; want within 10 %%", quietTook, busyTook)
			}
			if onQuiet.delay > 5*time.Second {
				t.Errorf("the wait returned %v after F; want within 5 s", onQuiet.delay)
			}
			if c.fSeen > 0 && (onQuiet.waited > c.fSeen || len(onQuiet.polls) > c.polls) {
				t.Errorf("F seen %v after the wait started, in %d polls; want within %v and %d polls", onQuiet.waited, len(onQuiet.polls), c.fSeen, c.polls)
			}
		})
	}
}

// Rule: on a quiet hit-driven portal the poll that can have started the
// first change's run is taken as its trigger, and every poll after a
// trigger comes a run and a gap later, seeing its run and starting the
// next: one request a run, plus the first poll, the one that sees the
// first change (it comes on the plain interval, too soon to start the
// next run) and the one that sees F. Over 20 steps that is at most 1.3
// requests a minute; a 7-step import needs 10 requests in about 7.6
// minutes, and no schedule that keeps the plain interval until the first
// change needs fewer.
func TestWaitRhythm_quietPortalOneRequestARun(t *testing.T) {
	for _, c := range []struct {
		name     string
		script   emulator.Script
		runsDone int
		runs     int
	}{
		{"3 steps", sevenSteps, 4, 3},
		{"7 steps", sevenSteps, 0, 7},
		{"20 steps", twentySteps, 0, 20},
	} {
		for _, start := range []struct{ phase, lateBy time.Duration }{
			{370 * time.Millisecond, 1200 * time.Millisecond},
			{0, 4500 * time.Millisecond},
			{830 * time.Millisecond, 9100 * time.Millisecond},
		} {
			run := waitForRuns(t, quiet, c.script, c.runsDone, time.Minute, start.phase, start.lateBy)
			t.Logf("%s, registered at +%v, waited for from %v later: %d requests, %.2f a minute",
				c.name, start.phase, start.lateBy, len(run.polls), run.perMinute())
			if run.info.Status != "F" {
				t.Fatalf("%s: the import ended %s", c.name, run.info.Status)
			}
			if want := c.runs + 3; len(run.polls) > want {
				t.Errorf("%s, from %v late: %d requests (polls %v); want at most %d, one a run and 3", c.name, start.lateBy, len(run.polls), run.polls, want)
			}
			if n := run.perMinute(); c.runs >= 20 && n > 1.3 {
				t.Errorf("%s, from %v late: %.2f requests a minute; want at most 1.3", c.name, start.lateBy, n)
			}
		}
	}
}

// Rule: the follow-ups after the first change are two, and where
// something else starts the runs (cron here) they cost nothing in the end:
// when the due poll after them sees no run either, runs take longer than
// they looked for, and its probes start at 10 s, not at 2.
func TestWaitRhythm_firstChangeFollowUpsCostCronNothing(t *testing.T) {
	cron := emulator.AgentModel{Kind: emulator.AgentOnCron, CronEvery: time.Minute, StepDuration: 2 * time.Second}
	for _, phase := range []time.Duration{0, 23 * time.Second, 47 * time.Second} {
		run := waitForModel(t, cron, twentySteps, time.Minute, phase, 3*time.Second)
		first := slices.Index(run.statuses, StatusProcessing) // S until the first run
		followUps, due := 0, 0
		for i := first + 1; i < len(run.polls) && due == 0; i++ {
			if run.polls[i]-run.polls[first] < agentGap-5*time.Second {
				followUps++
			} else {
				due = i
			}
		}
		if followUps > 2 {
			t.Errorf("phase %v: %d polls within 55 s after the first change (polls %v); want 2 at most", phase, followUps, run.polls)
		}
		if probe := run.polls[due+1] - run.polls[due]; probe < 10*time.Second {
			t.Errorf("phase %v: the due poll after them followed up after %v (polls %v); want 10 s", phase, probe, run.polls)
		}
	}
}

// Rule: a poll by which a run fell due is followed up until the run shows,
// which measures how long runs take; the polls then come that much plus a
// gap apart (8 s steps: seen by the follow-up at 10 s, polls 72 s apart).
func TestWaitRhythm_measuresHowLongRunsTake(t *testing.T) {
	slow := emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 8 * time.Second}
	run := waitForModel(t, slow, twentySteps, time.Minute, 0, 3*time.Second)
	gaps := run.gaps()
	steady := gaps[len(gaps)/2 : len(gaps)-2] // past the learning, before the end's follow-up
	for _, gap := range steady {
		if gap != 72*time.Second {
			t.Fatalf("gaps between polls %v; want 72 s once learnt (10 s run + 61 s + 1 s)", gaps)
		}
	}
	if took := run.info.FinishedAt.Sub(run.info.RegisteredAt); took > 25*time.Minute {
		t.Errorf("the import took %v; want at most 25 min (20 runs of 72 s)", took)
	}
}

// Rule: when the next run ends the import (action false with P; a recorded
// exception), the poll that starts it is followed up after the run time,
// so the end is seen within seconds.
func TestWaitRhythm_followsUpWhenTheEndIsImminent(t *testing.T) {
	failing := twentySteps
	failing.Messages = []emulator.ScriptedMessage{{AtRun: 14, Type: "exception", Message: "Cannot read file 9.json"}}
	for name, script := range map[string]emulator.Script{"F": twentySteps, "E": failing} {
		t.Run(name, func(t *testing.T) {
			run := waitForModel(t, quiet, script, time.Minute, 0, 3*time.Second)
			if run.info.Status != name {
				t.Fatalf("the import ended %s", run.info.Status)
			}
			if run.delay > 5*time.Second {
				t.Errorf("the wait returned %v after %s; want within 5 s", run.delay, name)
			}
		})
	}
}

// Rule: on a busy portal (runs start on other visitors' requests) a change
// that no poll of ours started says when the next run falls due, and each
// poll comes a gap after the change it follows: changes, the end included,
// are seen within seconds.
func TestWaitRhythm_busyPortalSeesChangesAsTheyCome(t *testing.T) {
	for _, phase := range []time.Duration{0, 17 * time.Second, 41 * time.Second} {
		run := waitForModel(t, busy, twentySteps, time.Minute, phase, 7*time.Second)
		if run.delay > 7*time.Second {
			t.Errorf("phase %v: the wait returned %v after F; want within 7 s", phase, run.delay)
		}
		if n := run.perMinute(); n > 1.3 {
			t.Errorf("phase %v: %.2f requests a minute; want at most 1.3", phase, n)
		}
	}
}

// Rule: when a run that fell due waits for something other than our polls
// (cron), the polls come just after the ticks, on the minute of the
// portal's clock.
func TestWaitRhythm_cronPortalPollsJustAfterTicks(t *testing.T) {
	cron := emulator.AgentModel{Kind: emulator.AgentOnCron, CronEvery: time.Minute, StepDuration: 2 * time.Second}
	for _, phase := range []time.Duration{0, 23 * time.Second, 47 * time.Second} {
		run := waitForModel(t, cron, twentySteps, time.Minute, phase, 3*time.Second)
		if run.delay > 8*time.Second {
			t.Errorf("phase %v: the wait returned %v after F; want within 8 s", phase, run.delay)
		}
		if n := run.perMinute(); n > 1.3 {
			t.Errorf("phase %v: %.2f requests a minute; want at most 1.3", phase, n)
		}
	}
}

// Rule: when the probes after a due poll find no run, cron starts the
// runs, and the first poll on the minute comes just after the next tick,
// though that tick comes a few seconds short of an interval after the due
// poll (tickSwitchLead): a short import's end is seen within seconds, not
// a minute late. And a tick poll that came a moment after its tick's
// does not hold the later ones as late.
func TestWaitRhythm_cronFoundByProbesPollsAtTheNextTick(t *testing.T) {
	cron := emulator.AgentModel{Kind: emulator.AgentOnCron, CronEvery: time.Minute, StepDuration: 2 * time.Second}
	for _, start := range []struct{ phase, lateBy time.Duration }{
		{44900 * time.Millisecond, 9900 * time.Millisecond},
		{40500 * time.Millisecond, 600 * time.Millisecond},
		{48300 * time.Millisecond, 5200 * time.Millisecond},
	} {
		run := waitForRuns(t, cron, sevenSteps, 4, time.Minute, start.phase, start.lateBy)
		if run.delay > 5*time.Second {
			t.Errorf("3 steps registered at +%v: the wait returned %v after F (polls %v); want within 5 s", start.phase, run.delay, run.polls)
		}
	}
	run := waitForModel(t, cron, twentySteps, time.Minute, 58*time.Second, 7100*time.Millisecond)
	if run.delay > time.Second {
		t.Errorf("20 steps: the wait returned %v after F (polls %v); want within 1 s", run.delay, run.polls)
	}
}

// Rule: a rhythm slower than the interval (cron every 5 minutes) backs
// off: fewer polls than the plain interval's, the end still seen at once.
func TestWaitRhythm_slowRhythmBacksOff(t *testing.T) {
	cron5 := emulator.AgentModel{Kind: emulator.AgentOnCron, CronEvery: 5 * time.Minute, StepDuration: 2 * time.Second}
	run := waitForModel(t, cron5, twentySteps, time.Minute, 13*time.Second, 3*time.Second)
	if n := run.perMinute(); n > 0.75 {
		t.Errorf("%.2f requests a minute; want at most 0.75 (the plain interval makes 1)", n)
	}
	if run.delay > 5*time.Second {
		t.Errorf("the wait returned %v after F; want within 5 s", run.delay)
	}
}

// Rule: when an awaited change does not show, short follow-ups look for
// it, and then the polls come about a minute apart (here the agent stops
// running: the import was unregistered).
func TestWaitRhythm_missingChangeFallsBackToTheInterval(t *testing.T) {
	clock := newMinuteClock()
	portal := emulator.New(emulator.Config{WebhookCode: testWebhookCode, Now: clock.Now, Agent: quiet})
	server := httptest.NewServer(portal)
	defer server.Close()
	hook, _ := ParseWebhookURL(server.URL + portal.WebhookPath())
	client, _ := NewClient(Config{Auth: hook, Clock: clock})
	id := portal.CreateProcess(twentySteps)

	ctx, cancel := context.WithCancel(withBudget(t))
	defer cancel()
	stopAfter := 12 // polls; by then the rhythm is learnt
	var stoppedAt time.Duration
	started := clock.Now()
	_, _ = client.ConfigurationImport.Wait(ctx, id, WaitOptions{PollInterval: time.Minute, OnPoll: func(e PollEvent) {
		switch e.Poll {
		case stopAfter:
			portal.Unregister(id) // the agent runs it no more
			stoppedAt = e.Elapsed
		case stopAfter + 12:
			cancel()
		}
	}})
	var after []time.Duration
	for _, r := range portal.Requests() {
		if at := r.At.Sub(started); at > stoppedAt {
			after = append(after, at-stoppedAt)
		}
	}
	// The next regular poll, its follow-ups (within 20 s of it), then polls
	// on the minute: each at least 55 s after the regular poll before it.
	followUps, regular := 0, after[0]
	for _, at := range after[1:] {
		switch {
		case at-regular <= maxRunTime:
			followUps++
		case at-regular < 55*time.Second:
			t.Fatalf("polls after the agent stopped: %v; want follow-ups, then at least 55 s apart", after)
		default:
			regular = at
		}
	}
	if followUps == 0 || followUps > len(probeOffsets) {
		t.Errorf("polls after the agent stopped: %v; want 1 to %d short follow-ups first", after, len(probeOffsets))
	}
}

// Rule: follow-ups beyond an allowance (10, and one more every 5 minutes)
// mean the portal keeps no rhythm the schedule knows: the plain interval
// from then on. Here an import that says its end is next (a recorded
// exception) changes at every regular poll and never when a follow-up
// looks: every follow-up is wasted.
func TestWaitRhythm_followUpsStayWithinTheAllowance(t *testing.T) {
	r := newAgentRhythm(time.Minute)
	start := time.Unix(1_700_000_000, 0)
	now, kind := start, pollPlain
	followUps, notices := 0, 0
	failing := []ImportMessage{{Message: "Cannot read file 9.json", Type: "exception"}}
	for now.Before(start.Add(time.Hour)) {
		if kind != pollFollowUp {
			notices++
		}
		r.observe(now, &ImportStatus{Status: StatusProcessing, Progress: &ImportProgress{Action: "load", Step: 3},
			Notices: make([]ImportMessage, notices), Exceptions: failing})
		next, planned := r.next, r.nextKind
		if next.IsZero() {
			next, planned = now.Add(time.Minute), pollPlain
		}
		if planned == pollFollowUp {
			followUps++
		}
		now, kind = next, planned
	}
	if limit := followUpAllowance + 60/5 + 1; followUps > limit {
		t.Errorf("%d follow-ups in an hour; want at most %d", followUps, limit)
	}
}

// Rule: a portal that keeps no rhythm the schedule knows (random gaps)
// gets at most 1.3 requests a minute, and its end is seen no later than a
// fixed grid sees it.
func TestWaitRhythm_randomTimingNoWorseThanTheGrid(t *testing.T) {
	random := emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 2 * time.Second, Traffic: time.Second, Jitter: 40 * time.Second}
	var requests float64
	var delays, gridDelays time.Duration
	const runs = 16
	for seed := range uint64(runs) {
		random.Seed = seed
		phase := time.Duration(seed) * 7 * time.Second
		run := waitForModel(t, random, twentySteps, time.Minute, phase, 3*time.Second)
		requests += run.perMinute()
		delays += run.delay
		gridDelays += waitOnGrid(t, random, phase)
	}
	t.Logf("%.2f requests a minute; F seen %v late on average, %v on a grid", requests/runs, delays/runs, gridDelays/runs)
	if mean := requests / runs; mean > 1.3 {
		t.Errorf("%.2f requests a minute on average; want at most 1.3", mean)
	}
	if delays > gridDelays+runs*2*time.Second {
		t.Errorf("F seen %v late on average; a fixed grid sees it %v late", delays/runs, gridDelays/runs)
	}
}

// waitOnGrid reads the import every minute until it ends, as the wait did
// before it learnt rhythms, and returns how late it saw the end.
func waitOnGrid(t *testing.T, model emulator.AgentModel, phase time.Duration) time.Duration {
	t.Helper()
	clock := newMinuteClock()
	clock.Advance(phase)
	portal := emulator.New(emulator.Config{WebhookCode: testWebhookCode, Now: clock.Now, Agent: model})
	server := httptest.NewServer(portal)
	defer server.Close()
	hook, _ := ParseWebhookURL(server.URL + portal.WebhookPath())
	client, _ := NewClient(Config{Auth: hook})
	id := portal.CreateProcess(twentySteps)
	clock.Advance(3 * time.Second)
	ctx := withBudget(t)
	for {
		status, err := client.ConfigurationImport.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if status.Terminal() {
			info, _ := portal.Process(id)
			return clock.Now().Sub(info.FinishedAt)
		}
		clock.Advance(time.Minute)
	}
}

// Moved polls round up to the whole second, the slot of their shared round.
func TestMomentSlot_roundsUpToTheSecond(t *testing.T) {
	p := &pollRound{interval: momentRounds, anchor: time.Unix(0, 0)}
	t0 := time.Unix(1_700_000_000, 0)
	for _, c := range []struct{ in, want time.Time }{
		{t0, t0}, {t0.Add(time.Millisecond), t0.Add(time.Second)}, {t0.Add(999 * time.Millisecond), t0.Add(time.Second)},
	} {
		at, slot := p.momentSlot(c.in)
		if !at.Equal(c.want) || slot.index != c.want.Unix() || slot.round != p {
			t.Errorf("momentSlot(%v) = %v, %d", c.in, at, slot.index)
		}
	}
}

// The follow-ups are bounded, not cut short: the allowance is spent in
// full before the wait falls back to the plain interval, one past it.
func TestWaitRhythm_followUpsUpToTheAllowance(t *testing.T) {
	r := newAgentRhythm(time.Minute)
	status := &ImportStatus{Status: StatusProcessing, Progress: &ImportProgress{Action: "load", Step: 1}}
	r.observe(fakeEpoch, status) // the wait's first poll
	for i := 1; i <= followUpAllowance+1; i++ {
		at := fakeEpoch.Add(time.Duration(i) * time.Second)
		r.next, r.nextKind = at, pollFollowUp // as planned
		r.observe(at, status)
		if wantOff := i > followUpAllowance; r.off != wantOff {
			t.Fatalf("after %d follow-ups within a minute: off = %v, want %v", i, r.off, wantOff)
		}
	}
}
