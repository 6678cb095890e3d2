// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// manyImportsConfig reads every id in one configuration.
func manyImportsConfig(portal *testPortal, ids []int64) string {
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = fmt.Sprint(id)
	}
	return portal.providerConfig() + fmt.Sprintf(`
locals {
  ids = [%s]
}

data "bitrix24_configuration_import" "many" {
  count      = length(local.ids)
  process_id = local.ids[count.index]
}
`, strings.Join(list, ", "))
}

// runManyReads plans count data sources against a portal that enforces the
// standard plan's bucket, with the provider's own default limit, and
// requires that the portal refused nothing.
func runManyReads(t *testing.T, count int, cliArgs string) {
	portal := newTestPortal(t, emulator.Config{RateLimit: emulator.StandardRateLimit})
	ids := make([]int64, count)
	for i := range ids {
		ids[i] = portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	}
	if cliArgs != "" {
		t.Setenv("TF_CLI_ARGS_plan", cliArgs)
		t.Setenv("TF_CLI_ARGS_apply", cliArgs)
		t.Setenv("TF_CLI_ARGS_refresh", cliArgs)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactoriesWith(func(p *bitrix24Provider) {
			p.configureClient = fastRetries
		}),
		Steps: []resource.TestStep{{Config: manyImportsConfig(portal, ids)}},
	})
	if n := portal.RateLimitedCount(); n != 0 {
		t.Fatalf("the portal refused %d of %d requests with QUERY_LIMIT_EXCEEDED", n, len(portal.Requests()))
	}
	if reads := getsOf(portal); reads < count {
		t.Fatalf("%d reads of %d data sources", reads, count)
	}
	t.Logf("%d data sources: %d requests, none refused", count, len(portal.Requests()))
}

func TestAccProvider_rateLimit100DataSources(t *testing.T) {
	runManyReads(t, 100, "")
}

func TestAccProvider_rateLimit100DataSourcesParallelism100(t *testing.T) {
	runManyReads(t, 100, "-parallelism=100")
}
