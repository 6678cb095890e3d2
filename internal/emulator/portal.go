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
// Its parts keep their own state and lock: the imports and the agent that
// runs them, the injected faults, the request log.
type Portal struct {
	userID    string
	code      string
	now       func() time.Time
	cloud     bool
	manifests map[string]bool
	httpsOnly bool

	*imports
	faultQueue
	requestLog

	// mu guards the fields below; a call takes it before imports.mu.
	mu        sync.Mutex
	webhooks  map[string]*webhook       // by code
	operating map[string]*operatingTime // by method
	bucket    leakyBucket
	// commandFaultsServed counts the command faults of the batch running.
	commandFaultsServed int
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
		userID:    cfg.UserID,
		code:      cfg.WebhookCode,
		now:       cfg.Now,
		cloud:     cfg.Cloud,
		httpsOnly: cfg.RequireHTTPS,
		webhooks:  map[string]*webhook{},
		operating: map[string]*operatingTime{},
		bucket:    leakyBucket{limit: cfg.RateLimit},
	}
	if p.userID == "" {
		p.userID = "1"
	}
	if p.code == "" {
		p.code = DefaultWebhookCode
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.imports = newImports(cfg, p.now)
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
