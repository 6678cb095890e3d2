// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// The agent-models table drives the client's Wait directly against the
// emulator's agent models (not through Terraform): each import runs on a
// jumping fake clock of its own (fakeclock.NewJumping), which moves to the
// end of each of the wait's sleeps, so that an import of 20 minutes takes
// milliseconds and every time is exact.
// The emulator's agent advances lazily from that clock, and the wait is the
// only thing that waits, so nothing else can miss a moment.

// agentModelImports is how many imports each cell of the table averages.
const agentModelImports = 60

// benchAgentModels are the rows: the agent models of real portals.
var benchAgentModels = []struct {
	name  string
	model emulator.AgentModel
}{
	{"hit-driven, quiet (only our polls), 2 s steps", emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 2 * time.Second}},
	{"hit-driven, quiet, 8 s steps", emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 8 * time.Second}},
	{"hit-driven, busy (a request a second), 2 s steps", emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 2 * time.Second, Traffic: time.Second}},
	{"cron every minute, 2 s steps", emulator.AgentModel{Kind: emulator.AgentOnCron, CronEvery: time.Minute, StepDuration: 2 * time.Second}},
	{"cron every 5 minutes, 2 s steps", emulator.AgentModel{Kind: emulator.AgentOnCron, CronEvery: 5 * time.Minute, StepDuration: 2 * time.Second}},
	{"random timing (gaps 60 s ± 40 s, busy)", emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 2 * time.Second, Traffic: time.Second, Jitter: 40 * time.Second}},
}

// importOutcome is what one waited-for import measured.
type importOutcome struct {
	delay    time.Duration // from F or E to the wait returning
	duration time.Duration // registration to F or E
	perMin   float64       // requests per minute over the whole wait
	requests int           // over the whole wait
	failed   bool
}

func agentModelTable() error {
	fmt.Printf("Waiting for a 20-step import (`poll_interval = \"1m\"`), %d imports per cell, each registered at a random\n", agentModelImports)
	fmt.Println("moment and waited for from 0 to 10 s later; half of them fail at step 14 (a recorded exception, then E).")
	fmt.Println("Client against the emulator on a jumping clock, not through Terraform.")
	fmt.Println()
	fmt.Println("| agent model | schedule | F → wait returns: mean | p95 | E → wait returns: mean | p95 | import duration (F) | requests/min/import |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, row := range benchAgentModels {
		for _, grid := range []bool{true, false} {
			outcomes, err := runModelImports(row.model, grid)
			if err != nil {
				return err
			}
			schedule := "rhythm"
			if grid {
				schedule = "fixed grid"
			}
			fmt.Printf("| %s | %s | %s |\n", row.name, schedule, summarize(outcomes))
		}
	}
	fmt.Println()
	return nil
}

// benchImport is an import the agent-model tables register.
type benchImport struct {
	script emulator.Script
	// runsDone is how many runs the agent has made by the registration
	// (emulator.Portal.Advance): an import that many runs shorter, whose
	// next run falls due a gap later as a fresh one's does.
	runsDone int
}

// twentySteps is an import of 5 + 2*2 + 11 = 20 agent runs.
var twentySteps = emulator.Script{Sections: []string{"CRM_STATUS", "TASKS"}, Files: 11}

// runModelImports waits for agentModelImports 20-step imports, in
// parallel; every other one fails at step 14.
func runModelImports(model emulator.AgentModel, grid bool) ([]importOutcome, error) {
	failing := twentySteps
	failing.Messages = []emulator.ScriptedMessage{{AtRun: 14, Type: "exception", Message: "Cannot read file 9.json"}}
	return waitForImports(model, grid, func(i int) benchImport {
		if i%2 == 1 {
			return benchImport{script: failing}
		}
		return benchImport{script: twentySteps}
	})
}

// waitForImports waits for agentModelImports imports, the i-th made by
// imp(i), four at a time.
func waitForImports(model emulator.AgentModel, grid bool, imp func(i int) benchImport) ([]importOutcome, error) {
	outcomes := make([]importOutcome, agentModelImports)
	errs := make([]error, agentModelImports)
	var wg sync.WaitGroup
	limit := make(chan struct{}, 4)
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit <- struct{}{}
			defer func() { <-limit }()
			outcomes[i], errs[i] = waitForModelImport(model, imp(i), grid, uint64(i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return outcomes, nil
}

// waitForModelImport registers one import and waits for it, with the
// rhythm or a fixed grid.
func waitForModelImport(model emulator.AgentModel, imp benchImport, grid bool, seed uint64) (importOutcome, error) {
	random := rand.New(rand.NewPCG(seed, 15))
	clock := fakeclock.NewJumping(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(random.Int64N(int64(time.Hour)))))
	model.Seed = seed
	portal := emulator.New(emulator.Config{WebhookCode: webhookCode, Now: clock.Now, Agent: model})
	defer portal.Close()
	id := portal.CreateProcess(imp.script)
	portal.Advance(id, imp.runsDone)
	clock.Advance(time.Duration(random.Int64N(int64(10 * time.Second))))

	server := httptest.NewServer(portal)
	defer server.Close()
	hook, err := bitrix24.ParseWebhookURL(server.URL + portal.WebhookPath())
	if err != nil {
		return importOutcome{}, err
	}
	client, err := bitrix24.NewClient(bitrix24.Config{Auth: hook, HTTPClient: server.Client(), RateLimit: 0, Clock: clock})
	if err != nil {
		return importOutcome{}, err
	}
	started := clock.Now()
	if grid {
		err = waitOnGrid(client, id, clock)
	} else {
		_, err = client.ConfigurationImport.Wait(context.Background(), id, bitrix24.WaitOptions{PollInterval: time.Minute})
	}
	if err != nil {
		return importOutcome{}, err
	}
	returned := clock.Now()
	info, _ := portal.Process(id)
	if info.Status != "F" && info.Status != "E" {
		return importOutcome{}, fmt.Errorf("the wait returned with the import at %s", info.Status)
	}
	return importOutcome{
		delay:    returned.Sub(info.FinishedAt),
		duration: info.FinishedAt.Sub(info.RegisteredAt),
		perMin:   float64(len(portal.Requests())) / returned.Sub(started).Minutes(),
		requests: len(portal.Requests()),
		failed:   info.Status == "E",
	}, nil
}

// waitOnGrid is the wait as it was before it learnt the agent's rhythm: a
// read every minute from the first, until F, E or U.
func waitOnGrid(client *bitrix24.Client, id int64, clock *fakeclock.Clock) error {
	for {
		status, err := client.ConfigurationImport.Get(context.Background(), id)
		if err != nil {
			return err
		}
		if status.Terminal() {
			return nil
		}
		clock.Advance(time.Minute)
	}
}

func summarize(outcomes []importOutcome) string {
	var fDelays, eDelays, durations []time.Duration
	perMin := 0.0
	for _, o := range outcomes {
		if o.failed {
			eDelays = append(eDelays, o.delay)
		} else {
			fDelays = append(fDelays, o.delay)
			durations = append(durations, o.duration)
		}
		perMin += o.perMin
	}
	return fmt.Sprintf("%s | %s | %s | %s | %s | %.2f", seconds(mean(fDelays)), seconds(p95(fDelays)),
		seconds(mean(eDelays)), seconds(p95(eDelays)), minutesText(mean(durations)), perMin/float64(len(outcomes)))
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func p95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[(len(sorted)*95+99)/100-1]
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func minutesText(d time.Duration) string { return fmt.Sprintf("%.1f min", d.Minutes()) }
