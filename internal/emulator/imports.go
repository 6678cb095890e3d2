// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"sync"
	"time"
)

// imports are the portal's import processes and the agent that runs them;
// control.go holds the methods a test drives them with.
type imports struct {
	agentPeriod time.Duration
	retention   time.Duration
	now         func() time.Time
	model       *agentModel // nil: the background agent
	failure     *Failure    // of imports registered over HTTP

	mu         sync.Mutex
	processes  map[int64]*process
	order      []int64 // process ids in creation order
	nextID     int64
	nextScript []Script

	started bool
	closed  bool
	stop    chan struct{}
	wake    chan struct{}
	done    chan struct{}
}

func newImports(cfg Config, now func() time.Time) *imports {
	im := &imports{
		agentPeriod: cfg.AgentPeriod,
		retention:   cfg.Retention,
		now:         now,
		failure:     cfg.FailRegistered,
		processes:   map[int64]*process{},
		nextID:      firstProcessID,
		wake:        make(chan struct{}, 1),
	}
	if im.agentPeriod == 0 {
		im.agentPeriod = defaultAgentPeriod
	}
	if im.agentPeriod > 0 {
		im.model = newAgentModel(cfg.Agent, im.agentPeriod)
	}
	if im.retention == 0 {
		im.retention = defaultRetention
	}
	return im
}

// Start runs the background agent when AgentPeriod > 0 and Config.Agent is
// the zero value (an agent model needs no goroutine). It is idempotent and
// does nothing after Close.
func (im *imports) Start() {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.started || im.closed || im.agentPeriod < 0 || im.model != nil {
		return
	}
	im.started = true
	im.stop = make(chan struct{})
	im.done = make(chan struct{})
	go im.agentLoop(im.stop, im.done)
}

// Close stops the background agent and waits for it. Safe to call twice and
// without Start.
func (im *imports) Close() {
	im.mu.Lock()
	if im.closed {
		im.mu.Unlock()
		return
	}
	im.closed = true
	stop, done := im.stop, im.done
	im.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// agentLoop sleeps until the earliest process is due, runs every due
// process once, and schedules each one period after its run, like the
// portal's agent (interval counted from the end of the previous run). It
// schedules on the real clock whatever Config.Now says, so that a test with
// a frozen clock can still use the background agent.
func (im *imports) agentLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		im.mu.Lock()
		next, ok := im.runDueLocked(time.Now())
		im.mu.Unlock()
		var fire <-chan time.Time
		if ok {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-stop:
			return
		case <-im.wake:
		case <-fire:
		}
	}
}

// runDueLocked runs the processes due at realNow and returns when the next
// one is due.
func (im *imports) runDueLocked(realNow time.Time) (time.Time, bool) {
	var next time.Time
	found := false
	for _, pr := range im.liveLocked() {
		if !pr.due.After(realNow) {
			pr.run(im.now())
			pr.due = realNow.Add(im.agentPeriod)
		}
		if pr.registered && (!found || pr.due.Before(next)) {
			next, found = pr.due, true
		}
	}
	return next, found
}

// wakeAgent tells the agent loop that a process was added.
func (im *imports) wakeAgent() {
	select {
	case im.wake <- struct{}{}:
	default:
	}
}

// addLocked registers a process; the agent first runs it one period from
// now.
func (im *imports) addLocked(sections []string, files int, skipClearing bool) *process {
	id := im.nextID
	im.nextID++
	pr := newProcess(id, sections, files, skipClearing, im.now())
	pr.due = time.Now().Add(im.agentPeriod)
	if im.model != nil {
		pr.modelDue = im.now().Add(im.agentPeriod)
		pr.failLater = true
	}
	im.processes[id] = pr
	im.order = append(im.order, id)
	im.wakeAgent()
	return pr
}

// registerLocked adds an import registered over HTTP, scripted by the
// first queued ScriptNextRegister and by Config.FailRegistered.
func (im *imports) registerLocked(manifestCode string, sections []string, files int, skipClearing bool) *process {
	pr := im.addLocked(sections, files, skipClearing)
	pr.manifestCode = manifestCode
	if len(im.nextScript) > 0 {
		s := im.nextScript[0]
		im.nextScript = im.nextScript[1:]
		pr.scripted, pr.additional, pr.createdItems = s.Messages, s.Additional, s.CreatedItems
	}
	if im.failure != nil {
		pr.scriptFailure(*im.failure)
	}
	return pr
}

// lookupLocked finds a process, purging it first if its data has expired:
// the portal keeps each stored value for the retention period after it was
// last written (3 days), and a purged process reads as status U.
func (im *imports) lookupLocked(id int64) *process {
	pr, ok := im.processes[id]
	if !ok {
		return nil
	}
	im.model.catchUp(pr, im.now())
	if !im.now().Before(pr.lastWrite.Add(im.retention)) {
		delete(im.processes, id)
		return nil
	}
	return pr
}

// liveLocked lists the registered processes in id order (ids only grow),
// purging expired ones.
func (im *imports) liveLocked() []*process {
	var live []*process
	kept := im.order[:0]
	for _, id := range im.order {
		pr := im.lookupLocked(id)
		if pr == nil {
			continue
		}
		kept = append(kept, id)
		if pr.registered {
			live = append(live, pr)
		}
	}
	im.order = kept
	return live
}

// runLocked is one agent run of pr, outside its schedule.
func (im *imports) runLocked(pr *process) {
	pr.run(im.now())
	pr.due = time.Now().Add(im.agentPeriod)
	if im.model != nil {
		pr.runEnds = time.Time{}
		pr.modelDue = im.model.nextDue(im.now())
	}
}

// hitLocked is a request answered now: on a hit-driven portal it starts
// every due run.
func (im *imports) hitLocked() {
	if im.model == nil || im.model.Kind != AgentOnHits {
		return
	}
	now := im.now()
	for _, pr := range im.liveLocked() {
		if pr.runEnds.IsZero() && !pr.modelDue.After(now) {
			pr.runEnds = now.Add(im.model.StepDuration)
		}
	}
}
