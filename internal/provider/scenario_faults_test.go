// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-cleanhttp"
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

// faultCase is one row of the fault matrix, the table in CONTRIBUTING.md.
type faultCase struct {
	name  string
	fault emulator.Fault // injected into the first fault.Count configuration.import.get calls
	cost  int            // requests it costs beyond the fault-free run
	error string         // the read fails with this; "" for a read that recovers

	// A fault that is the portal's error envelope also comes as one
	// command's error inside a batch that other reads share (see
	// emulator.InjectCommandFault). commandCost is what it costs then,
	// in reads (plain requests plus batch commands), when that differs
	// from cost: learning a reset time costs the read alone.
	command     bool
	commandCost *int

	// wait reads with wait {}: a poll that fails after its retries is
	// followed by the next. Other rows read once, so that only the retry
	// policy stands between the fault and a failed read.
	wait bool

	// Faults below the HTTP layer, set up on the client's transport.
	connectTimeouts int  // the first so many connection attempts time out at once
	httpOnHTTPS     bool // the webhook URL says https, the portal's port speaks plain HTTP
}

func faultMatrix() []faultCase {
	one := 1
	return []faultCase{
		{name: "QUERY_LIMIT_EXCEEDED (503)", fault: emulator.QueryLimitExceeded(), cost: 1, command: true},
		{name: "QUERY_LIMIT_EXCEEDED three times", fault: withCount(emulator.QueryLimitExceeded(), 3), cost: 3, command: true},
		{name: "INTERNAL_SERVER_ERROR (500)", fault: emulator.InternalServerError(), cost: 1, command: true},
		{name: "HTML 502 from a gateway", fault: emulator.GatewayHTML(502), cost: 1},
		{name: "HTML 504 from a gateway", fault: emulator.GatewayHTML(504), cost: 1},
		{name: "HTML 429 from a firewall", fault: emulator.WAFRateLimitHTML(), cost: 1},
		{name: "empty 200 body", fault: emulator.EmptyBody(), cost: 1},
		{name: "truncated body", fault: emulator.TruncatedJSON(), cost: 1},
		{name: "dropped connection", fault: emulator.Hangup(), cost: 1},
		{name: "dropped after the method ran", fault: emulator.Fault{Hangup: true, AfterCall: true}, cost: 1},
		{name: "answer slower than the request timeout", fault: emulator.Slow(2 * time.Second), cost: 1},
		{name: "byte-order mark before the JSON", fault: emulator.BOM(), cost: 0},
		{name: "OPERATION_TIME_LIMIT with operating_reset_at", fault: emulator.OperationTimeLimitFor(time.Second), cost: 1, command: true},
		{name: "connect timeout once", connectTimeouts: 1, cost: 0},
		// The poll fails after its retries; the wait goes on to the next.
		{name: "every retry of a poll fails", fault: withCount(emulator.GatewayHTML(502), 1+bitrix24.DefaultMaxRetries),
			cost: 1 + bitrix24.DefaultMaxRetries, wait: true},
		{name: "every retry of a poll fails, as a command error", fault: withCount(emulator.InternalServerError(), 1+bitrix24.DefaultMaxRetries),
			cost: 1 + bitrix24.DefaultMaxRetries, command: true, wait: true},
		{name: "OVERLOAD_LIMIT (blocked by hand)", fault: emulator.ErrorFault(503, "OVERLOAD_LIMIT", "REST API is blocked due to overload."), cost: 0,
			error: `OVERLOAD_LIMIT: REST API is blocked due to overload`, command: true},
		// As a command: the read goes alone to learn the reset time, and
		// meets the same refusal.
		{name: "OPERATION_TIME_LIMIT without a reset time", fault: withCount(emulator.OperationTimeLimit(), 2), cost: 0,
			error: `Bitrix24 method time limit reached.*did not say when the method is available again`, command: true, commandCost: &one},
		{name: "302 to another host", fault: emulator.Redirect("https://moved.example.com/rest/1/x/configuration.import.get.json"), cost: 0,
			error: `redirected the request to https://moved.example.com/.*use the portal's new address`},
		{name: "INVALID_CREDENTIALS", fault: emulator.ErrorFault(401, "INVALID_CREDENTIALS", "Invalid request credentials"), cost: 0,
			error: `Bitrix24 refused the credentials`, command: true},
		// A portal that never answered gets one retry of a timeout.
		{name: "connect timeout on every attempt", connectTimeouts: 1000, cost: 0,
			error: `did not answer the connection attempt.*no reply to the connection attempt.*gave up after 2 attempts: ` +
				`the portal has not answered once.*tried again only once, whatever max_retries says`},
		{name: "plain HTTP on an https address", httpOnHTTPS: true, cost: 0,
			error: `answered plain HTTP on an https address.*check the scheme and port in webhook_url`},
	}
}

func withCount(f emulator.Fault, n int) emulator.Fault {
	f.Count = n
	return f
}

// readsSent counts the reads the portal was sent, however they came: plain
// requests, and the commands of batch requests.
func readsSent(portal *testPortal) int {
	n := 0
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" || r.Method == "batch" {
			n += len(r.ProcessIDs())
		}
	}
	return n
}

// faultMode is how the provider reads in a run of the fault matrix.
type faultMode struct {
	name        string
	batchReads  bool
	dataSources int  // read by as many data sources, all in one configuration
	command     bool // the fault comes as one command's error inside a batch
}

var faultModes = []faultMode{
	{name: "batched", batchReads: true, dataSources: 1},
	{name: "batch_reads = false", batchReads: false, dataSources: 1},
	{name: "command in a shared batch", batchReads: true, dataSources: 5, command: true},
}

// faultFactories is the test provider with retries on at their default
// count, fast backoffs, a short request timeout, and a transport whose
// first connectTimeouts connection attempts time out (none for 0).
func faultFactories(connectTimeouts int) map[string]func() (tfprotov6.ProviderServer, error) {
	var httpClient *http.Client
	if connectTimeouts > 0 {
		httpClient = timingOutDials(connectTimeouts)
	}
	return testProviderFactoriesWith(func(p *bitrix24Provider) {
		p.pollIntervalOverride = testPollInterval
		p.configureClient = func(cfg *bitrix24.Config) {
			fastRetries(cfg)
			cfg.RateLimit = 0
			cfg.RequestTimeout = faultRequestTimeout
			cfg.HTTPClient = httpClient
		}
	})
}

// runFaultCase waits for finished imports through one fault (none for the
// baseline) and returns how many reads the portal was sent.
func runFaultCase(t *testing.T, fc faultCase, mode faultMode, baseline bool) int {
	t.Helper()
	portal := newTestPortal(t, emulator.Config{})
	ids := make([]int64, mode.dataSources)
	for i := range ids {
		ids[i] = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Additional: map[string]any{"CRM_STATUS": 3}})
		portal.RunToEnd(ids[i])
	}
	webhookURL := portal.webhookURL()
	switch {
	case baseline:
	case fc.httpOnHTTPS:
		webhookURL = strings.Replace(webhookURL, "http://", "https://", 1)
	case mode.command:
		portal.InjectCommandFault("configuration.import.get", fc.fault)
	case fc.connectTimeouts == 0:
		portal.InjectFault("configuration.import.get", fc.fault)
	}
	connectTimeouts := fc.connectTimeouts
	if baseline {
		connectTimeouts = 0
	}
	config := fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  batch_reads = %t\n}\n", webhookURL, mode.batchReads)
	wait := ""
	if fc.wait {
		wait = "  wait {}\n"
	}
	for i, id := range ids {
		config += dataSourceConfig(fmt.Sprintf("test%d", i), id, wait)
	}
	step := resource.TestStep{Config: config}
	if fc.error != "" && !baseline {
		step.ExpectError = expectError(fc.error)
	} else {
		info, _ := portal.Process(ids[0])
		step.ConfigStateChecks = []statecheck.StateCheck{
			expect("test0", "status", knownvalue.StringExact(info.Status)),
			expect("test0", "finished", knownvalue.Bool(true)),
			expect("test0", "additional", knownvalue.StringExact(`{"CRM_STATUS":3}`)),
		}
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: faultFactories(connectTimeouts), Steps: []resource.TestStep{step}})
	if mode.command && !baseline {
		served := 0
		for _, r := range portal.Requests() {
			served += r.CommandFaults
		}
		if served == 0 {
			t.Error("no command met the fault inside a batch")
		}
	}
	return readsSent(portal)
}

// Each fault of a real portal costs the requests CONTRIBUTING.md says, and
// a read through it (a wait, for the rows about polls) records what the
// portal holds, alike whether the provider batches its reads or not; a
// fault that is the portal's error
// envelope costs the same again as one command's error inside a batch
// that other reads share. The fault-free run is the baseline: Terraform
// reads the data source more than once per step.
func TestAccConfigurationImportFaults_matrix(t *testing.T) {
	t.Parallel()
	for _, mode := range faultModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			baselines := map[bool]int{} // by wait
			for _, wait := range []bool{false, true} {
				baselines[wait] = runFaultCase(t, faultCase{wait: wait}, mode, true)
			}
			failedBaseline := mode.dataSources // a failing read stops the step after its first pass
			for _, fc := range faultMatrix() {
				if mode.command && !fc.command {
					continue
				}
				t.Run(fc.name, func(t *testing.T) {
					t.Parallel()
					cost := fc.cost
					if mode.command && fc.commandCost != nil {
						cost = *fc.commandCost
					}
					got := runFaultCase(t, fc, mode, false)
					want := baselines[fc.wait] + cost
					switch {
					case fc.error != "" && (fc.connectTimeouts > 0 || fc.httpOnHTTPS):
						want = 0 // no read reached the portal
					case fc.error != "":
						want = failedBaseline + cost
					}
					if got != want {
						t.Errorf("%d reads sent, want %d (%d without the fault, plus %d)", got, want, want-cost, cost)
					}
				})
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
		ProtoV6ProviderFactories: faultFactories(0),
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

// timingOutDials returns an HTTP client whose first n connection attempts
// time out at once, as when a firewall drops them; later ones connect. The
// error is the dialer's own, for a dial whose deadline has passed; nothing
// but loopback is ever dialled.
func timingOutDials(n int) *http.Client {
	var dials atomic.Int32
	transport := cleanhttp.DefaultPooledTransport()
	dialer := &net.Dialer{}
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= int32(n) {
			expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
			defer cancel()
			return dialer.DialContext(expired, network, addr)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: transport}
}
