// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Request is one HTTP request the portal received.
type Request struct {
	At           time.Time
	Method       string         // lower-case, without .json; "" outside /rest/
	Params       map[string]any // query, form and JSON body merged; nested keys decoded
	HTTPStatus   int            // 0 when the connection was dropped (Hangup); logged before any Delay, so kept if the client gives up
	Authorized   bool
	ResultStatus string // for configuration.import.get: the status letter answered, else ""
	Fault        bool   // an injected fault answered it, or changed or delayed its answer
	Ran          bool   // the method ran (its effects happened), whatever the client got
	RateLimited  bool   // the rate limit refused it (HTTP 503 QUERY_LIMIT_EXCEEDED); the method did not run
	// CommandFaults counts the commands of a batch that got an injected
	// command fault (InjectCommandFault) instead of running.
	CommandFaults int
}

// Outcome is what the client got for one request, for tests that count.
type Outcome string

const (
	OutcomeAnswered    Outcome = "answered"     // the portal's own answer, success or error, as it made it
	OutcomeRateLimited Outcome = "rate-limited" // the rate limit's refusal, as the portal made it
	OutcomeFault       Outcome = "fault"        // an injected fault's answer, or the portal's changed or delayed by one
	OutcomeDropped     Outcome = "dropped"      // no answer: the connection was closed
)

// Outcome says what the client got. A dropped connection counts as dropped
// whatever fault dropped it, and a fault that let the call through to a
// refusal counts as a fault (RateLimited still says the limit refused it).
func (r Request) Outcome() Outcome {
	switch {
	case r.HTTPStatus == 0:
		return OutcomeDropped
	case r.Fault:
		return OutcomeFault
	case r.RateLimited:
		return OutcomeRateLimited
	default:
		return OutcomeAnswered
	}
}

// ProcessIDs lists the process ids a request read: the processId of a
// configuration.import.get, or of each configuration.import.get command of
// a batch, as sent; nil for other methods.
func (r Request) ProcessIDs() []string {
	switch r.Method {
	case "configuration.import.get":
		return []string{fmt.Sprint(r.Params["processId"])}
	case "batch":
		cmd, _ := r.Params["cmd"].(map[string]any)
		var ids []string
		for _, line := range cmd {
			method, query, _ := strings.Cut(fmt.Sprint(line), "?")
			if normalizeMethod(method) == "configuration.import.get" {
				ids = append(ids, fmt.Sprint(parsePHPQuery(query).get("processId")))
			}
		}
		return ids
	}
	return nil
}

// requestLog is every request the portal received, in order.
type requestLog struct {
	mu       sync.Mutex
	requests []Request
}

func (l *requestLog) logRequest(req Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, req)
}

// Requests lists every request received, in order. Calls inside a batch
// are not listed apart from the batch itself.
func (l *requestLog) Requests() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Request(nil), l.requests...)
}

// RateLimitedCount is how many requests the rate limit refused.
func (l *requestLog) RateLimitedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.requests {
		if r.RateLimited {
			n++
		}
	}
	return n
}
