// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// faultRequestTimeout stands in for the 70 s request timeout, so that an
// answer slower than it takes a fraction of a second to give up on.
const faultRequestTimeout = 300 * time.Millisecond

// faultProviderFactories is the test provider with retries on at their
// default count, fast backoffs and a short request timeout.
func faultProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return testProviderFactoriesWith(func(p *bitrix24Provider) {
		p.pollIntervalOverride = testPollInterval
		p.configureClient = func(cfg *bitrix24.Config) {
			fastRetries(cfg)
			cfg.RateLimit = 0
			cfg.RequestTimeout = faultRequestTimeout
		}
	})
}

// faultCase is one row of the fault matrix, the table in CONTRIBUTING.md.
type faultCase struct {
	name  string
	fault emulator.Fault // injected into the first fault.Count configuration.import.get calls
	cost  int            // requests it costs beyond the fault-free run
	error string         // the read fails with this; "" for a read that recovers
}

func faultMatrix() []faultCase {
	return []faultCase{
		{name: "QUERY_LIMIT_EXCEEDED (503)", fault: emulator.QueryLimitExceeded(), cost: 1},
		{name: "QUERY_LIMIT_EXCEEDED three times", fault: withCount(emulator.QueryLimitExceeded(), 3), cost: 3},
		{name: "INTERNAL_SERVER_ERROR (500)", fault: emulator.InternalServerError(), cost: 1},
		{name: "HTML 502 from a gateway", fault: emulator.GatewayHTML(502), cost: 1},
		{name: "HTML 504 from a gateway", fault: emulator.GatewayHTML(504), cost: 1},
		{name: "HTML 429 from a firewall", fault: emulator.WAFRateLimitHTML(), cost: 1},
		{name: "empty 200 body", fault: emulator.EmptyBody(), cost: 1},
		{name: "truncated body", fault: emulator.TruncatedJSON(), cost: 1},
		{name: "dropped connection", fault: emulator.Hangup(), cost: 1},
		{name: "dropped after the method ran", fault: emulator.Fault{Hangup: true, AfterCall: true}, cost: 1},
		{name: "answer slower than the request timeout", fault: emulator.Slow(2 * time.Second), cost: 1},
		{name: "byte-order mark before the JSON", fault: emulator.BOM(), cost: 0},
		{name: "OPERATION_TIME_LIMIT with operating_reset_at", fault: emulator.OperationTimeLimitFor(time.Second), cost: 1},
		// The poll fails after its retries; the wait goes on to the next.
		{name: "every retry of a poll fails", fault: withCount(emulator.GatewayHTML(502), 1+bitrix24.DefaultMaxRetries), cost: 1 + bitrix24.DefaultMaxRetries},
		{name: "OVERLOAD_LIMIT (blocked by hand)", fault: emulator.ErrorFault(503, "OVERLOAD_LIMIT", "REST API is blocked due to overload."), cost: 0,
			error: `OVERLOAD_LIMIT: REST API is blocked due to overload`},
		{name: "OPERATION_TIME_LIMIT without a reset time", fault: emulator.OperationTimeLimit(), cost: 0,
			error: `Bitrix24 method time limit reached.*did not say when the method is available again`},
		{name: "302 to another host", fault: emulator.Redirect("https://moved.example.com/rest/1/x/configuration.import.get.json"), cost: 0,
			error: `redirected the request to https://moved.example.com/.*use the portal's new address`},
		{name: "INVALID_CREDENTIALS", fault: emulator.ErrorFault(401, "INVALID_CREDENTIALS", "Invalid request credentials"), cost: 0,
			error: `Bitrix24 refused the credentials`},
	}
}

func withCount(f emulator.Fault, n int) emulator.Fault {
	f.Count = n
	return f
}

// getsOf counts the configuration.import.get requests the portal received.
func getsOf(portal *testPortal) int {
	n := 0
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" {
			n++
		}
	}
	return n
}

// runFaultCase waits for a finished import through one fault (none for the
// baseline) and returns how many requests the portal received.
func runFaultCase(t *testing.T, fc faultCase, baseline bool) int {
	t.Helper()
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Additional: map[string]any{"CRM_STATUS": 3}})
	portal.RunToEnd(id)
	if !baseline {
		portal.InjectFault("configuration.import.get", fc.fault)
	}
	step := resource.TestStep{Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait {}\n")}
	if fc.error != "" {
		step.ExpectError = expectError(fc.error)
	} else {
		info, _ := portal.Process(id)
		step.ConfigStateChecks = []statecheck.StateCheck{
			expect("test", "status", knownvalue.StringExact(info.Status)),
			expect("test", "finished", knownvalue.Bool(true)),
			expect("test", "additional", knownvalue.StringExact(`{"CRM_STATUS":3}`)),
		}
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: faultProviderFactories(), Steps: []resource.TestStep{step}})
	return getsOf(portal)
}

// Each fault of a real portal costs the requests CONTRIBUTING.md says, and a
// wait through it records what the portal holds. The fault-free run is the
// baseline: Terraform reads the data source more than once per step.
func TestAccConfigurationImportFaults_matrix(t *testing.T) {
	t.Parallel()
	baseline := runFaultCase(t, faultCase{}, true)
	failedBaseline := 1 // a failing read stops the step after its first read
	for _, fc := range faultMatrix() {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			got := runFaultCase(t, fc, false)
			want := baseline + fc.cost
			if fc.error != "" {
				want = failedBaseline + fc.cost
			}
			if got != want {
				t.Errorf("%d requests, want %d (%d without the fault, plus %d)", got, want, got-fc.cost, fc.cost)
			}
		})
	}
}

// A wait through S, P and F with every recoverable fault on the way ends
// with what the portal holds, and each fault costs one request.
func TestAccConfigurationImportFaults_mixDuringAWait(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS", "CRM_DEAL_CATEGORY"},
		Messages:     []emulator.ScriptedMessage{{AtRun: 3, Type: "notice", Message: "Stage kept"}},
		Additional:   map[string]any{"CRM_DEAL_CATEGORY": map[string]any{"0": 5}},
		CreatedItems: []map[string]any{{"ENTITY": "CRM_DEAL_CATEGORY", "ID": 5}},
	})
	portal.runAgentFromFirstPoll(t, id, 3*testPollInterval)
	faults := []emulator.Fault{
		withCount(emulator.QueryLimitExceeded(), 2), emulator.GatewayHTML(502), emulator.Hangup(), emulator.BOM(),
		emulator.EmptyBody(), emulator.GatewayHTML(504), emulator.WAFRateLimitHTML(), emulator.TruncatedJSON(),
		emulator.Slow(2 * time.Second), emulator.InternalServerError(),
	}
	injected := 0
	for _, f := range faults {
		portal.InjectFault("configuration.import.get", f)
		injected += max(f.Count, 1)
	}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: faultProviderFactories(),
		Steps: []resource.TestStep{{
			Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait {}\n"),
			ConfigStateChecks: []statecheck.StateCheck{
				expect("test", "status", knownvalue.StringExact("F")),
				expect("test", "notices", knownvalue.ListExact([]knownvalue.Check{message("", "Stage kept", "notice")})),
				expect("test", "additional", knownvalue.StringExact(`{"CRM_DEAL_CATEGORY":{"0":5}}`)),
				expect("test", "created_items", knownvalue.StringExact(`[{"ENTITY":"CRM_DEAL_CATEGORY","ID":5}]`)),
			},
			Check: func(*terraform.State) error {
				faulted := 0
				for _, r := range portal.Requests() {
					if r.Fault {
						faulted++
					}
				}
				if faulted != injected {
					return fmt.Errorf("%d requests met a fault, want all %d injected", faulted, injected)
				}
				// The agent starts at the first request, which meets a
				// fault, so the first status read may already be P.
				if statuses := strings.Join(answeredStatuses(portal), ""); !regexp.MustCompile(`^S*P+F+$`).MatchString(statuses) {
					return fmt.Errorf("the portal answered %q; want P, then F", statuses)
				}
				return nil
			},
		}},
	})
}
