// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// plainReadsConfig reads every id in one configuration, one request each:
// batch_reads is off, so that the client's rate limit alone keeps the
// portal's bucket from overflowing.
func plainReadsConfig(portal *testPortal, ids []int64) string {
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  batch_reads = false\n}\n", portal.webhookURL()) +
		countedConfig(`data "bitrix24_configuration_import"`, list)
}

// runManyReads plans count data sources against a portal that enforces the
// standard plan's bucket, with the provider's own default limit and plain
// requests, and requires that the portal refused nothing of the plan.
func runManyReads(t *testing.T, count int, parallelism int) {
	portal := newTestPortal(t, emulator.Config{RateLimit: emulator.StandardRateLimit})
	ids := make([]int64, count)
	for i := range ids {
		ids[i] = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	}
	if parallelism != 10 {
		withParallelism(t, parallelism)
	}
	// Each Terraform command starts a provider of its own, with a full
	// bucket of its own, while the portal's still drains the command
	// before: note when each starts, to tell the first plan's requests.
	factories := testProviderFactoriesWith(func(p *bitrix24Provider) { p.configureClient = fastRetries })
	serve := factories["bitrix24"]
	var mu sync.Mutex
	var starts []time.Time
	factories["bitrix24"] = func() (tfprotov6.ProviderServer, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return serve()
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps:                    []resource.TestStep{{Config: plainReadsConfig(portal, ids)}},
	})

	mu.Lock()
	defer mu.Unlock()
	if len(starts) < 2 {
		t.Fatalf("%d provider starts; want the plan's and later ones", len(starts))
	}
	var inPlan, reads, refused int
	for _, r := range portal.Requests() {
		if r.Method != "configuration.import.get" {
			continue
		}
		reads++
		if r.RateLimited {
			refused++
			if r.At.Before(starts[1]) {
				inPlan++
			}
		}
	}
	if inPlan != 0 {
		t.Errorf("the portal refused %d requests of the plan with QUERY_LIMIT_EXCEEDED", inPlan)
	}
	// A later command's provider starts with a full bucket while the
	// portal's is still full from the plan: one refusal empties its
	// bucket, so at most the reads in flight then are refused.
	if limit := (len(starts) - 1) * parallelism; refused > limit {
		t.Errorf("%d refusals after the plan; want at most %d, the reads in flight when the first came", refused, limit)
	}
	if reads < count {
		t.Fatalf("%d reads of %d data sources", reads, count)
	}
	t.Logf("%d data sources, %d commands: %d reads, none refused in the plan, %d refused in later commands and retried",
		count, len(starts), reads, refused)
}

func TestAccProvider_rateLimit100PlainReads(t *testing.T) {
	t.Parallel()
	runManyReads(t, 100, 10)
}

func TestAccProvider_rateLimit100PlainReadsParallelism100(t *testing.T) {
	runManyReads(t, 100, 100)
}
