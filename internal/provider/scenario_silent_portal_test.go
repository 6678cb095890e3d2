// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// A portal that accepts the connection and never answers, and has never
// answered, fails a read and a wait with the default settings after two
// request timeouts, in both modes: the diagnostic names what got no reply,
// why the provider did not try longer, and what to check. The client runs
// on a jumping fake clock, moved to each request timeout as it starts.
func TestAccConfigurationImport_silentPortalThatNeverAnswered(t *testing.T) {
	for _, batch := range []bool{true, false} {
		for _, wait := range []string{"", "  wait {}\n"} {
			t.Run(fmt.Sprintf("batch_reads = %t, wait %t", batch, wait != ""), func(t *testing.T) {
				portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
				portal.InjectFault("configuration.import.get", withCount(emulator.Slow(time.Hour), 1000))
				clock := newJumpingClock()
				go advanceToRequestTimeouts(t, clock)
				started := clock.Now()

				resource.UnitTest(t, resource.TestCase{
					ProtoV6ProviderFactories: testProviderFactoriesWith(func(p *bitrix24Provider) {
						p.configureClient = func(cfg *bitrix24.Config) { cfg.Clock = clock }
					}),
					Steps: []resource.TestStep{{
						Config: fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  batch_reads = %t\n}\n", portal.webhookURL(), batch) +
							dataSourceConfig("test", id, wait),
						ExpectError: expectError(`Bitrix24 portal did not answer.*the portal accepted the connection and sent nothing for 70 s; ` +
							`gave up after 2 attempts: the portal has not answered once in this run.*` +
							`a proxy or load balancer in front of it, hangs.*tried again only once, whatever max_retries says`),
					}},
				})

				if took := clock.Now().Sub(started); took < 140*time.Second+500*time.Millisecond || took > 141*time.Second {
					t.Errorf("failed after %v, want two request timeouts and a backoff: 140.5 to 141 s", took)
				}
			})
		}
	}
}

// advanceToRequestTimeouts moves clock to each request timeout as it is
// made: the portal answers nothing, so every one of them runs out.
func advanceToRequestTimeouts(t *testing.T, clock *fakeclock.Clock) {
	for {
		select {
		case d := <-clock.TimeoutMade():
			if d == bitrix24.DefaultRequestTimeout {
				clock.AdvanceToTimeout()
			}
		case <-t.Context().Done():
			return
		}
	}
}
