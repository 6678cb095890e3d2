// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// batchModes are the two ways the provider reads: batched (the default)
// and one plain request per read.
var batchModes = []bool{true, false}

func batchModeName(batchReads bool) string {
	if batchReads {
		return "batched"
	}
	return "batch_reads = false"
}

// A connection attempt that gets no reply, as when a firewall drops it, is
// a connection problem: with max_retries = 1 and timeouts.read = "10m",
// the plan fails after two attempts naming it, not at the deadline with a
// timeout; with a wait too, since the portal was never reached. (The
// dialer times out at once, instead of after its 30 s.)
func TestAccConfigurationImportFaults_connectTimeout(t *testing.T) {
	t.Parallel()
	for _, batchReads := range batchModes {
		for _, wait := range []string{"", "  wait {}\n"} {
			t.Run(fmt.Sprintf("%s, wait %t", batchModeName(batchReads), wait != ""), func(t *testing.T) {
				t.Parallel()
				portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
				config := fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  max_retries = 1\n  batch_reads = %t\n}\n",
					portal.webhookURL(), batchReads) + dataSourceConfig("test", id, wait+"  timeouts {\n    read = \"10m\"\n  }\n")
				resource.UnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: faultFactories(1000),
					Steps: []resource.TestStep{{
						Config:      config,
						ExpectError: expectError(`Bitrix24 portal did not answer the connection attempt.*after 2 attempts \(max_retries = 1\).*Raise max_retries`),
					}},
				})
				if n := len(portal.Requests()); n != 0 {
					t.Errorf("%d requests reached the portal", n)
				}
			})
		}
	}
}

// A wait whose first connection attempt gets no reply, and whose retry
// connects, ends with the import's status, in both modes.
func TestAccConfigurationImportFaults_connectTimeoutThenAnswers(t *testing.T) {
	t.Parallel()
	for _, batchReads := range batchModes {
		t.Run(batchModeName(batchReads), func(t *testing.T) {
			t.Parallel()
			portal, id := portalWithRunningImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}, 3*testPollInterval)
			config := fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  max_retries = 1\n  batch_reads = %t\n}\n",
				portal.webhookURL(), batchReads) + dataSourceConfig("test", id, "  wait {}\n  timeouts {\n    read = \"10m\"\n  }\n")
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: faultFactories(1),
				Steps: []resource.TestStep{{
					Config:            config,
					ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("F"))},
				}},
			})
		})
	}
}

// busyPortalScale shrinks a busy minute for a test: the portal refuses
// everything for busyPortalWindow, and the client's backoff (1 s doubling
// to 30 s) and rate limit (2 a second) run as much faster. The client-level
// TestGet_BusyPortalForAMinute runs the real minute on a fake clock.
const (
	busyPortalScale  = 600
	busyPortalWindow = time.Minute / busyPortalScale
)

// A portal that answers QUERY_LIMIT_EXCEEDED to everything for a minute,
// then normally: a plain read with the provider's defaults (max_retries 5,
// rate limit 2/s with a burst of 50, timeouts.read 60m), scaled in time,
// succeeds in both modes, in at most 30 requests.
func TestAccConfigurationImportFaults_busyPortalForAMinute(t *testing.T) {
	t.Parallel()
	for _, batchReads := range batchModes {
		t.Run(batchModeName(batchReads), func(t *testing.T) {
			t.Parallel()
			portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
			busy := emulator.QueryLimitExceeded()
			busy.For = busyPortalWindow
			portal.InjectFault("", busy)
			factories := testProviderFactoriesWith(func(p *bitrix24Provider) {
				p.configureClient = func(cfg *bitrix24.Config) {
					cfg.RetryWaitMin = time.Second / busyPortalScale
					cfg.RetryWaitMax = 30 * time.Second / busyPortalScale
					cfg.RateLimit *= busyPortalScale
				}
			})
			config := fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  batch_reads = %t\n}\n", portal.webhookURL(), batchReads) +
				dataSourceConfig("test", id, "")
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories,
				Steps: []resource.TestStep{{
					Config:            config,
					ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("S"))},
					Check: func(*terraform.State) error {
						refused := 0
						for _, r := range portal.Requests() {
							if r.Fault {
								refused++
							}
						}
						// Every refusal came before the first read's answer.
						if refused+1 > 30 {
							return fmt.Errorf("the first read took %d requests, want at most 30", refused+1)
						}
						t.Logf("the first read took %d requests", refused+1)
						return nil
					},
				}},
			})
		})
	}
}
