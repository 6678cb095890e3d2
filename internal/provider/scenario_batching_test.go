// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// portalReads sums up what the emulator served to the provider.
type portalReads struct {
	requests     int // HTTP requests, however answered
	batches      int
	plainGets    int
	reads        int // configuration.import.get runs: plain ones plus batch commands
	rateLimited  int
	largestBatch int

	// firstPassRateLimited counts the refusals until every data source had
	// been read once: during the first plan, which meets a full bucket.
	firstPassRateLimited int
}

func countReads(portal *testPortal, dataSources int) portalReads {
	var c portalReads
	for _, r := range portal.Requests() {
		c.requests++
		if r.RateLimited {
			c.rateLimited++
			if c.reads < dataSources {
				c.firstPassRateLimited++
			}
		}
		switch r.Method {
		case "batch":
			c.batches++
			n := len(r.ProcessIDs())
			c.largestBatch = max(c.largestBatch, n)
			if r.Ran {
				c.reads += n
			}
		case "configuration.import.get":
			c.plainGets++
			if r.Ran {
				c.reads++
			}
		}
	}
	return c
}

// perPass divides the requests by the number of times Terraform read every
// data source: plugin-testing runs several plans, and a destroy, per step.
func (c portalReads) perPass(dataSources int) (passes int, requestsPerPass float64) {
	passes = c.reads / dataSources
	if passes == 0 {
		return 0, 0
	}
	return passes, float64(c.requests) / float64(passes)
}

// manyDataSourcesConfig reads every id with a data source of its own and
// outputs their statuses by id. (count, not for_each: plugin-testing's state
// checks do not support for_each.)
func manyDataSourcesConfig(providerConfig string, ids []int64) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", fmt.Sprint(id))
	}
	return providerConfig + countedConfig(`data "bitrix24_configuration_import"`, quoted) + `
output "statuses" {
  value = { for d in data.bitrix24_configuration_import.many : d.id => d.status }
}
`
}

// importsOfEveryStatus creates n imports with statuses S, P, F and E in
// turn, and one id in ten that the portal does not know (U). It returns the
// ids and each id's status.
func importsOfEveryStatus(t *testing.T, portal *testPortal, n int) ([]int64, map[string]knownvalue.Check) {
	t.Helper()
	var ids []int64
	want := map[string]knownvalue.Check{}
	for i := range n {
		var id int64
		var status string
		switch {
		case i%10 == 9:
			id, status = int64(900000+i), "U"
		case i%4 == 0:
			id, status = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}}), "S"
		case i%4 == 1:
			id, status = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Files: 2}), "P"
			portal.Advance(id, 1+i%5)
		case i%4 == 2:
			id, status = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}}), "F"
			portal.RunToEnd(id)
		default:
			id, status = portal.CreateProcess(failingScript()), "E"
			portal.RunToEnd(id)
		}
		ids = append(ids, id)
		want[fmt.Sprint(id)] = knownvalue.StringExact(status)
	}
	return ids, want
}

// withParallelism makes every plan and apply the test runs use
// -parallelism=n. TF_CLI_ARGS_plan and TF_CLI_ARGS_apply reach Terraform
// (plugin-testing passes the environment on) but cannot do it:
// terraform-exec always adds -parallelism=10 itself, after them, and the
// last one wins. So TF_ACC_TERRAFORM_PATH points at a wrapper that rewrites
// that flag. t.Setenv rules out t.Parallel.
func withParallelism(t *testing.T, n int) {
	t.Helper()
	terraform := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if terraform == "" {
		var err error
		if terraform, err = exec.LookPath("terraform"); err != nil {
			t.Fatal(err)
		}
	}
	wrapper := filepath.Join(t.TempDir(), "terraform")
	script := fmt.Sprintf(`#!/usr/bin/env bash
args=()
for arg in "$@"; do
  case "$arg" in -parallelism=*) arg=-parallelism=%d ;; esac
  args+=("$arg")
done
exec %q "${args[@]}"
`, n, terraform)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_ACC_TERRAFORM_PATH", wrapper)
}

// checkReads runs a step reading ids and checks the statuses and what the
// portal served: every read answered, no batch above the portal's 50
// commands, and at most maxPerPass requests each time Terraform read them
// all.
// A plan-only step reads the data sources in fewer passes.
func checkReads(t *testing.T, portal *testPortal, factories providerFactories, ids []int64, want map[string]knownvalue.Check, maxPerPass float64, planOnly bool) portalReads {
	t.Helper()
	step := resource.TestStep{Config: manyDataSourcesConfig(portal.providerConfig(), ids)}
	if planOnly {
		step.PlanOnly, step.ExpectNonEmptyPlan = true, true // the output is new
		step.ConfigPlanChecks.PostApplyPreRefresh = []plancheck.PlanCheck{plancheck.ExpectKnownOutputValue("statuses", knownvalue.MapExact(want))}
	} else {
		step.ConfigStateChecks = []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("statuses", knownvalue.MapExact(want))}
	}
	resource.UnitTest(t, resource.TestCase{ProtoV6ProviderFactories: factories, Steps: []resource.TestStep{step}})
	counts := countReads(portal, len(ids))
	passes, perPass := counts.perPass(len(ids))
	t.Logf("%d data sources: %d requests (%d batches, %d plain) in %d passes, %.1f a pass; largest batch %d; %d rate-limited, %d in the first pass",
		len(ids), counts.requests, counts.batches, counts.plainGets, passes, perPass, counts.largestBatch, counts.rateLimited, counts.firstPassRateLimited)
	if passes == 0 || counts.reads%len(ids) != 0 {
		t.Errorf("the portal ran %d reads for %d data sources: not a whole number of passes", counts.reads, len(ids))
	}
	if counts.largestBatch > 50 {
		t.Errorf("a batch of %d commands: the portal runs 50", counts.largestBatch)
	}
	// Each Terraform run starts a provider whose client-side limiter begins
	// with a full burst, while the portal's bucket remembers the run
	// before: plugin-testing's back-to-back plans can meet refusals (which
	// the retry policy absorbs) that one plan from a full bucket must not.
	if counts.firstPassRateLimited > 0 {
		t.Errorf("%d requests of the first plan refused by the portal's rate limit", counts.firstPassRateLimited)
	}
	if perPass > maxPerPass {
		t.Errorf("%.1f requests a pass, want at most %.0f", perPass, maxPerPass)
	}
	return counts
}

type providerFactories = map[string]func() (tfprotov6.ProviderServer, error)

// 120 data sources of every status, an unknown id among them, in one
// configuration: each gets its own status, in a fraction of the requests.
func TestAccConfigurationImportBatch_manyDataSourcesMixedStatuses(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	ids, want := importsOfEveryStatus(t, portal, 120)
	counts := checkReads(t, portal, testProviderFactories(), ids, want, 48, false)
	if counts.batches == 0 {
		t.Error("no batch request")
	}
}

// At -parallelism=100 more than 50 reads wait at once: they go out as
// several batches of at most 50.
func TestAccConfigurationImportBatch_moreThan50AtOnce(t *testing.T) {
	withParallelism(t, 100)
	portal := newTestPortal(t, emulator.Config{})
	ids, want := importsOfEveryStatus(t, portal, 120)
	checkReads(t, portal, testProviderFactories(), ids, want, 20, false)
}

// defaultRateLimitFactories keep the provider's own rate limit and retries.
func defaultRateLimitFactories() providerFactories {
	return testProviderFactoriesWith(func(*bitrix24Provider) {})
}

// 500 data sources against a portal that enforces the standard plan's
// bucket (2 a second, 50), with the provider's defaults: nothing refused.
func TestAccConfigurationImportBatch_rateLimitedPortal(t *testing.T) {
	for _, parallelism := range []int{10, 100} {
		t.Run(fmt.Sprintf("parallelism %d", parallelism), func(t *testing.T) {
			withParallelism(t, parallelism)
			portal := newTestPortal(t, emulator.Config{RateLimit: emulator.StandardRateLimit})
			ids, want := importsOfEveryStatus(t, portal, 500)
			// Plain reads would cost 500 a pass; the bounds leave room for a
			// busy machine, where Terraform's reads trickle in more slowly.
			maxPerPass := 175.0
			if parallelism == 100 {
				maxPerPass = 60
			}
			checkReads(t, portal, defaultRateLimitFactories(), ids, want, maxPerPass, true)
		})
	}
}

// batch_reads = false, or BITRIX24_BATCH_READS=false, sends a plain
// configuration.import.get for every read.
func TestAccConfigurationImportBatch_batchReadsFalse(t *testing.T) {
	for name, setting := range map[string]struct{ attribute, env string }{
		"attribute":            {attribute: "  batch_reads = false\n"},
		"environment variable": {env: "false"},
	} {
		t.Run(name, func(t *testing.T) {
			if setting.env != "" {
				t.Setenv(envVarOf("batch_reads"), setting.env)
			}
			portal := newTestPortal(t, emulator.Config{})
			ids, want := importsOfEveryStatus(t, portal, 30)
			providerConfig := strings.Replace(portal.providerConfig(), "}\n", setting.attribute+"}\n", 1)
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				Steps: []resource.TestStep{{
					Config:            manyDataSourcesConfig(providerConfig, ids),
					ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("statuses", knownvalue.MapExact(want))},
				}},
			})
			counts := countReads(portal, len(ids))
			if counts.batches != 0 || counts.plainGets != counts.requests || counts.reads%len(ids) != 0 {
				t.Errorf("%+v: want only plain reads, one per data source and pass", counts)
			}
		})
	}
}

func TestAccConfigurationImportBatch_badBatchReadsNamesItsAttribute(t *testing.T) {
	t.Run("environment", func(t *testing.T) {
		t.Setenv(envVarOf("batch_reads"), "sometimes")
		runBadInput(t, badInput{env: map[string]string{envVarOf("batch_reads"): "sometimes"},
			want: `BITRIX24_BATCH_READS environment variable \(used because batch_reads is not set\) must be true or false; got "sometimes"`})
	})
	t.Run("unknown at plan time", func(t *testing.T) {
		runBadInput(t, badInput{provider: "batch_reads = terraform_data.later.output == \"x\"",
			want: `batch_reads depends on a value that is known only after apply.*BITRIX24_BATCH_READS`})
	})
}

// A wait that starts while another is waiting polls once, then in the
// other's rounds: their polls share requests. The second wait starts late
// because it depends on a third, short one.
func TestAccConfigurationImportBatch_waitsJoiningLate(t *testing.T) {
	t.Parallel()
	const pollEvery = 50 * time.Millisecond
	portal := newTestPortal(t, emulator.Config{AgentPeriod: 20 * time.Millisecond})
	// Long enough (about 3 s) that the late wait starts before it ends,
	// even on a loaded machine.
	long := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS", "REST_APPLICATION"}, Files: 150})
	short := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	late := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS", "REST_APPLICATION"}, Files: 40})
	factories := testProviderFactoriesWith(func(p *bitrix24Provider) {
		p.pollIntervalOverride = pollEvery
		p.configureClient = func(cfg *bitrix24.Config) {
			fastRetries(cfg)
			cfg.RateLimit = 0
		}
	})

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: portal.providerConfig() + fmt.Sprintf(`
data "bitrix24_configuration_import" "long" {
  process_id = %d
  wait {}
}

data "bitrix24_configuration_import" "short" {
  process_id = %d
  wait {}
}

data "bitrix24_configuration_import" "late" {
  process_id = %d
  wait {}
  depends_on = [data.bitrix24_configuration_import.short]
}
`, long, short, late),
			ConfigStateChecks: []statecheck.StateCheck{
				expect("long", "status", knownvalue.StringExact("F")),
				expect("late", "status", knownvalue.StringExact("F")),
			},
		}},
	})

	// While both waited: from the late wait's first poll to the end of
	// the long one, every later poll of the late wait should have gone
	// out with a poll of the long one.
	longID, lateID := fmt.Sprint(long), fmt.Sprint(late)
	longInfo, _ := portal.Process(long)
	var lateFirst time.Time
	shared, alone := 0, 0
	for _, r := range portal.Requests() {
		ids := strings.Join(r.ProcessIDs(), " ")
		readsLate := strings.Contains(" "+ids+" ", " "+lateID+" ")
		if !readsLate || r.At.After(longInfo.FinishedAt) {
			continue
		}
		if lateFirst.IsZero() {
			lateFirst = r.At
			continue
		}
		if strings.Contains(" "+ids+" ", " "+longID+" ") {
			shared++
		} else {
			alone++
		}
	}
	t.Logf("while both waited, the late wait polled %d times with the long one and %d times alone", shared, alone)
	if lateFirst.IsZero() || shared < 3 {
		t.Fatalf("the late wait did not poll while the long one waited (%d shared polls): the test proves nothing", shared)
	}
	if alone > shared/4 {
		t.Errorf("the late wait polled alone %d times and with the long wait %d times: it did not join its rounds", alone, shared)
	}
}

// Cancelling one read among many that share a client ends that read
// promptly and no other: the rest see their imports finish.
func TestAccConfigurationImportBatch_oneCancelledAmongMany(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{}) // the agent runs only when told
	shared := testProviderData(t, portal, nil)
	shared.pollIntervalOverride = testPollInterval

	const readers = 20
	ids := make([]int64, readers)
	for i := range ids {
		ids[i] = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	}
	cancelCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		status   string
		problems string
		returned time.Time
	}
	results := make([]result, readers)
	var wg sync.WaitGroup
	for i, id := range ids {
		ctx := context.Background()
		if i == 7 {
			ctx = cancelCtx
		}
		wg.Go(func() {
			state, diags := directRead{processID: fmt.Sprint(id), wait: map[string]tftypes.Value{}, provider: shared}.run(ctx, t, portal)
			results[i].returned = time.Now()
			if diags.HasError() {
				results[i].problems = fmt.Sprint(diags)
				return
			}
			results[i].status = state.Status.ValueString()
		})
	}

	// Let the waits poll a few rounds together, then cancel one of them.
	for deadline := time.Now().Add(10 * time.Second); countReads(portal, readers).reads < 3*readers && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancelledAt := time.Now()
	cancel()
	time.Sleep(100 * time.Millisecond) // the others keep polling meanwhile
	before := countReads(portal, readers).reads
	for _, id := range ids {
		portal.RunToEnd(id)
	}
	wg.Wait()

	if r := results[7]; !strings.Contains(r.problems, "Waiting for the configuration import was cancelled") {
		t.Errorf("the cancelled read: %+v", r)
	} else if took := r.returned.Sub(cancelledAt); took > time.Second {
		t.Errorf("the cancelled read returned %s after the cancellation", took)
	}
	for i, r := range results {
		if i != 7 && (r.status != "F" || r.problems != "") {
			t.Errorf("read %d: %+v", i, r)
		}
	}
	if after := countReads(portal, readers).reads; after <= before {
		t.Errorf("no read after the cancellation")
	}
	counts := countReads(portal, readers)
	t.Logf("%d waits: %d requests (%d batches), %d reads", readers, counts.requests, counts.batches, counts.reads)
}
