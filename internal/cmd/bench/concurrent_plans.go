// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// concurrentPlansTable runs six `terraform plan` processes at once, 50 data
// sources each, with batch_reads = false, against one emulator enforcing
// the standard plan's bucket (2 a second, burst 50). Each provider process
// has a client-side bucket of its own, starting full, so together they
// overrun the portal's: it refuses them with QUERY_LIMIT_EXCEEDED, which
// must slow the plans down and fail none of them.
func concurrentPlansTable(tf *terraform) error {
	const plans, perPlan = 6, 50
	p, err := startPortal(emulator.Config{RateLimit: emulator.StandardRateLimit})
	if err != nil {
		return err
	}
	defer p.stop()
	ids := p.imports(plans * perPlan)

	type outcome struct {
		took time.Duration
		err  error
	}
	outcomes := make([]outcome, plans)
	started := time.Now()
	var wg sync.WaitGroup
	for i := range plans {
		wg.Go(func() {
			config := configuration(p.url, "  batch_reads = false\n", ids[i*perPlan:(i+1)*perPlan], "")
			took, err := tf.plan(context.Background(), fmt.Sprintf("concurrent%d", i), config, 10)
			outcomes[i] = outcome{took, err}
		})
	}
	wg.Wait()
	all := time.Since(started)
	requests, refused := p.requestsSince(0)

	fmt.Printf("%d `terraform plan` processes at once, %d data sources each, `batch_reads = false`, provider defaults, "+
		"against one emulator enforcing 2 requests a second with a burst of 50:\n\n", plans, perPlan)
	fmt.Println("| plan | wall time | outcome |")
	fmt.Println("|---:|---:|---|")
	failed := 0
	for i, o := range outcomes {
		result := "succeeded"
		if o.err != nil {
			failed++
			result = "FAILED: " + strings.Join(strings.Fields(ansiEscape.ReplaceAllString(tail(o.err.Error(), 300), "")), " ")
		}
		fmt.Printf("| %d | %s | %s |\n", i+1, o.took.Round(time.Second), result)
	}
	fmt.Printf("\nAll six: %s; %d requests, %d refused with QUERY_LIMIT_EXCEEDED; %d of %d plans failed.\n\n",
		all.Round(time.Second), requests, refused, failed, plans)
	return nil
}

// ansiEscape matches the colour codes of Terraform's error output.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")
