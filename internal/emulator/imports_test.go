// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}

func TestStart_agentReachesF(t *testing.T) {
	for _, period := range []time.Duration{time.Millisecond, 5 * time.Millisecond} {
		t.Run(period.String(), func(t *testing.T) {
			p := New(Config{AgentPeriod: period})
			p.Start()
			defer p.Close()
			created := time.Now()
			id := p.CreateProcess(Script{Sections: []string{"A", "B"}, Files: 1})
			done := waitFor(t, 5*time.Second, func() bool {
				info, _ := p.Process(id)
				// Never faster than one run per period, the first one period in.
				if elapsed := time.Since(created); info.Runs > int(elapsed/period) {
					t.Fatalf("%d runs after %v with period %v", info.Runs, elapsed, period)
				}
				return info.Status == "F"
			})
			info, _ := p.Process(id)
			if !done || info.Runs != info.PlannedRuns {
				t.Fatalf("not finished: %+v", info)
			}
			if elapsed := time.Since(created); elapsed < time.Duration(info.PlannedRuns)*period {
				t.Errorf("finished in %v, faster than %d periods", elapsed, info.PlannedRuns)
			}
		})
	}
}

func TestStart_firstRunAfterOnePeriod(t *testing.T) {
	const period = 100 * time.Millisecond
	p := New(Config{AgentPeriod: period})
	p.Start()
	defer p.Close()
	created := time.Now()
	id := p.CreateProcess(Script{Sections: []string{"A"}})
	info, _ := p.Process(id)
	if elapsed := time.Since(created); elapsed < period && info.Status != "S" {
		t.Fatalf("ran before one period: %+v", info)
	}
	if !waitFor(t, 5*time.Second, func() bool { info, _ := p.Process(id); return info.Runs >= 1 }) {
		t.Fatal("never ran")
	}
	if elapsed := time.Since(created); elapsed < period {
		t.Errorf("first run after %v, before one period", elapsed)
	}
}

func TestClose_stopsAgent(t *testing.T) {
	p := New(Config{AgentPeriod: time.Millisecond})
	p.Start()
	p.Start() // idempotent
	id := p.CreateProcess(Script{Sections: []string{"A"}, Files: 100000})
	if !waitFor(t, 5*time.Second, func() bool { info, _ := p.Process(id); return info.Runs >= 3 }) {
		t.Fatal("agent never ran")
	}
	started := time.Now()
	p.Close()
	if d := time.Since(started); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	// Close returns only once the agent's goroutine has ended: no run can
	// come after it, which no amount of sleeping here could prove.
	select {
	case <-p.done:
	default:
		t.Error("Close returned while the agent goroutine was still running")
	}
	p.Close() // twice is fine
	done := p.done
	p.Start() // after Close: nothing
	if p.done != done {
		t.Errorf("Start after Close started another agent")
	}
}

func TestStart_negativePeriodStartsNoAgent(t *testing.T) {
	p := New(Config{AgentPeriod: -1})
	p.Start()
	defer p.Close()
	p.CreateProcess(Script{})
	if p.started || p.done != nil {
		t.Error("a negative period started the background agent")
	}
	New(Config{}).Close() // Close without Start
}

func TestPortal_concurrentUse(t *testing.T) {
	h := newHarness(t, Config{AgentPeriod: time.Millisecond})
	h.portal.Start()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
				resp := h.get(h.portal.WebhookPath() + "configuration.import.get?processId=" + strconv.FormatInt(id, 10))
				if resp.status != 200 {
					t.Errorf("HTTP %d", resp.status)
				}
				h.portal.RunAgent()
				h.portal.Advance(id, 2)
				h.portal.InjectFault("server.time", GatewayHTML(502))
				_ = h.get(h.portal.WebhookPath() + "server.time")
				_, _ = h.portal.Process(id)
				_ = h.portal.Requests()
			}
		}()
	}
	wg.Wait()
}
