// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"slices"
	"sync"
	"time"
)

// Config sets up a Portal. The zero value is a usable on-premise portal.
type Config struct {
	UserID      string        // webhook user id; "" -> "1"
	WebhookCode string        // webhook secret code; "" -> DefaultWebhookCode
	AgentPeriod time.Duration // how often the agent runs each process; 0 -> 60s; negative -> no background agent
	Retention   time.Duration // how long process data is kept after its last change; 0 -> 72h
	Now         func() time.Time
	Cloud       bool // answer `time` with operating and operating_reset_at, as a cloud portal does

	// Manifests lists the manifest codes that allow REST import; nil accepts
	// any non-empty code.
	Manifests []string
	// Scopes are the configured webhook's scopes; nil gives it
	// configuration.import, the one the import methods need. Without it
	// they answer insufficient_scope, as the portal does.
	Scopes []string
	// FailRegistered makes every import registered over HTTP fail at a
	// step; an import without that step runs as registered.
	FailRegistered *Failure
	// RequireHTTPS refuses calls that did not arrive over TLS, as the portal
	// does (INVALID_REQUEST "Https required"); serve with httptest.NewTLSServer.
	RequireHTTPS bool
	// Agent chooses what runs the import agent (on hits, from cron, with a
	// step duration); the zero value is the background agent of AgentPeriod,
	// which is then also the gap between a run's end and the next one.
	Agent AgentModel
	// RateLimit refuses requests beyond a leaky bucket, per portal; the zero
	// value is no limit. It runs on the real clock whatever Now says, so
	// that a frozen test clock does not stop it from draining.
	RateLimit RateLimit
}

// DefaultWebhookCode is the webhook code of a Config without one: 16
// random-looking characters, as a portal generates. A word-like code would
// be masked wherever the word appears in the portal's texts, since the
// provider masks every start of the code of 6 characters or more.
const DefaultWebhookCode = "k7q2xw9m4tz1vb8n"

const (
	defaultAgentPeriod = 60 * time.Second
	defaultRetention   = 72 * time.Hour
	firstProcessID     = 1000
	// operatingWindow is the span over which the cloud sums method time.
	operatingWindow = 10 * time.Minute
	// operatingLimit is the method time allowed per window in the rest
	// module's current source (older documentation says 480 s).
	operatingLimit = 420 * time.Second
)

// Portal is an emulated portal. All methods are safe for concurrent use.
type Portal struct {
	userID      string
	code        string
	agentPeriod time.Duration
	retention   time.Duration
	now         func() time.Time
	cloud       bool
	manifests   map[string]bool
	httpsOnly   bool
	model       *agentModel // nil: the background agent
	failure     *Failure    // of imports registered over HTTP

	mu            sync.Mutex
	webhooks      map[string]*webhook // by code
	processes     map[int64]*process
	order         []int64 // process ids in creation order
	nextID        int64
	requests      []Request
	faults        []queuedFault
	commandFaults []queuedCommandFault
	// commandFaultsServed counts the command faults of the batch running.
	commandFaultsServed int
	nextScript          []Script
	operating           map[string]*operatingTime // by method
	bucket              leakyBucket

	started bool
	closed  bool
	stop    chan struct{}
	wake    chan struct{}
	done    chan struct{}
}

type webhook struct {
	userID  string
	expired bool
	scopes  []string
}

// importScope is the scope the configuration.import methods need.
const importScope = "configuration.import"

func (w *webhook) hasScope(scope string) bool {
	return slices.Contains(w.scopes, scope)
}

// operatingTime sums the execution time of one method over a window, for
// the cloud's `operating` and `operating_reset_at`.
type operatingTime struct {
	resetAt time.Time
	seconds float64
}

// New returns a portal; it starts no goroutine.
func New(cfg Config) *Portal {
	p := &Portal{
		userID:      cfg.UserID,
		code:        cfg.WebhookCode,
		agentPeriod: cfg.AgentPeriod,
		retention:   cfg.Retention,
		now:         cfg.Now,
		cloud:       cfg.Cloud,
		httpsOnly:   cfg.RequireHTTPS,
		failure:     cfg.FailRegistered,
		webhooks:    map[string]*webhook{},
		processes:   map[int64]*process{},
		nextID:      firstProcessID,
		operating:   map[string]*operatingTime{},
		bucket:      leakyBucket{limit: cfg.RateLimit},
		wake:        make(chan struct{}, 1),
	}
	if p.userID == "" {
		p.userID = "1"
	}
	if p.code == "" {
		p.code = DefaultWebhookCode
	}
	if p.agentPeriod == 0 {
		p.agentPeriod = defaultAgentPeriod
	}
	if p.agentPeriod > 0 {
		p.model = newAgentModel(cfg.Agent, p.agentPeriod)
	}
	if p.retention == 0 {
		p.retention = defaultRetention
	}
	if p.now == nil {
		p.now = time.Now
	}
	if cfg.Manifests != nil {
		p.manifests = map[string]bool{}
		for _, m := range cfg.Manifests {
			p.manifests[m] = true
		}
	}
	scopes := []string{importScope}
	if cfg.Scopes != nil {
		scopes = slices.Clone(cfg.Scopes)
	}
	p.webhooks[p.code] = &webhook{userID: p.userID, scopes: scopes}
	return p
}

// WebhookPath is the base path of the configured webhook: "/rest/<user>/<code>/".
func (p *Portal) WebhookPath() string {
	return "/rest/" + p.userID + "/" + p.code + "/"
}

// AddWebhook makes another webhook valid, for user userID, with the
// configuration.import scope.
func (p *Portal) AddWebhook(userID, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.webhooks[code] = &webhook{userID: userID, scopes: []string{importScope}}
}

// RemoveWebhook deletes a webhook, the configured one included.
func (p *Portal) RemoveWebhook(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.webhooks, code)
}

// ExpireWebhook makes a webhook past its expiry date: its calls then fail
// with INVALID_CREDENTIALS (the documentation only says "an auth error").
func (p *Portal) ExpireWebhook(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, ok := p.webhooks[code]; ok {
		w.expired = true
	}
}

// Start runs the background agent when AgentPeriod > 0 and Config.Agent is
// the zero value (an agent model needs no goroutine). It is idempotent and
// does nothing after Close.
func (p *Portal) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.closed || p.agentPeriod < 0 || p.model != nil {
		return
	}
	p.started = true
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
	go p.agentLoop(p.stop, p.done)
}

// Close stops the background agent and waits for it. Safe to call twice and
// without Start.
func (p *Portal) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	stop, done := p.stop, p.done
	p.mu.Unlock()
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
func (p *Portal) agentLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		next, ok := p.runDueLocked(time.Now())
		p.mu.Unlock()
		var fire <-chan time.Time
		if ok {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-stop:
			return
		case <-p.wake:
		case <-fire:
		}
	}
}

// runDueLocked runs the processes due at realNow and returns when the next
// one is due.
func (p *Portal) runDueLocked(realNow time.Time) (time.Time, bool) {
	var next time.Time
	found := false
	for _, pr := range p.liveLocked() {
		if !pr.due.After(realNow) {
			pr.run(p.now())
			pr.due = realNow.Add(p.agentPeriod)
		}
		if pr.registered && (!found || pr.due.Before(next)) {
			next, found = pr.due, true
		}
	}
	return next, found
}

// wakeAgent tells the agent loop that a process was added.
func (p *Portal) wakeAgent() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// addProcessLocked registers a process; the agent first runs it one period
// from now.
func (p *Portal) addProcessLocked(sections []string, files int, skipClearing bool) *process {
	id := p.nextID
	p.nextID++
	pr := newProcess(id, sections, files, skipClearing, p.now())
	pr.due = time.Now().Add(p.agentPeriod)
	if p.model != nil {
		pr.modelDue = p.now().Add(p.agentPeriod)
		pr.failLater = true
	}
	p.processes[id] = pr
	p.order = append(p.order, id)
	p.wakeAgent()
	return pr
}

// lookupLocked finds a process, purging it first if its data has expired:
// the portal keeps each stored value for the retention period after it was
// last written (3 days), and a purged process reads as status U.
func (p *Portal) lookupLocked(id int64) *process {
	pr, ok := p.processes[id]
	if !ok {
		return nil
	}
	p.catchUpLocked(pr, p.now())
	if !p.now().Before(pr.lastWrite.Add(p.retention)) {
		delete(p.processes, id)
		return nil
	}
	return pr
}

// liveLocked lists the registered processes in id order (ids only grow),
// purging expired ones.
func (p *Portal) liveLocked() []*process {
	var live []*process
	kept := p.order[:0]
	for _, id := range p.order {
		pr := p.lookupLocked(id)
		if pr == nil {
			continue
		}
		kept = append(kept, id)
		if pr.registered {
			live = append(live, pr)
		}
	}
	p.order = kept
	return live
}
