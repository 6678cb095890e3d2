// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

const repeats = 3 // plans per cell; the table shows the median time

// planTable measures plans of 0 to 500 data sources, with and without
// batching, against a portal without a rate limit and a provider whose
// own limit is out of the way: what is measured is the provider's cost.
func planTable(tf *terraform) error {
	p, err := startPortal(emulator.Config{})
	if err != nil {
		return err
	}
	defer p.stop()
	ids := p.imports(500)

	fmt.Println("Requests and wall time of one `terraform plan` (median of 3) against the emulator on loopback,")
	fmt.Println("without a rate limit (provider `rate_limit = 1000`). 0 data sources is Terraform's own cost.")
	fmt.Println()
	fmt.Println("| data sources | parallelism | batched: requests | batched: time | `batch_reads = false`: requests | `batch_reads = false`: time |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for _, n := range []int{0, 1, 10, 100, 500} {
		for _, parallelism := range []int{10, 100} {
			row := fmt.Sprintf("| %d | %d |", n, parallelism)
			for _, batch := range []bool{true, false} {
				extra := fmt.Sprintf("  rate_limit  = 1000\n  rate_burst  = 10000\n  batch_reads = %t\n", batch)
				config := configuration(p.url, extra, ids[:n], "")
				var times []time.Duration
				requests := 0
				for range repeats {
					before := len(p.Requests())
					took, err := tf.plan(context.Background(), "plan", config, parallelism)
					if err != nil {
						return err
					}
					times = append(times, took)
					requests, _ = p.requestsSince(before)
				}
				row += fmt.Sprintf(" %d | %s |", requests, median(times).Round(time.Millisecond))
			}
			fmt.Println(row)
		}
	}
	fmt.Println()
	return nil
}

// rateLimitTable plans against a portal that enforces the standard plan's
// bucket, with the provider's defaults; each row on a fresh portal.
func rateLimitTable(tf *terraform) error {
	fmt.Println("Against an emulator enforcing the standard plan's limit (2 a second, burst 50), provider defaults:")
	fmt.Println()
	fmt.Println("| data sources | parallelism | requests | rate-limited | time |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, c := range []struct{ n, parallelism int }{{100, 10}, {100, 100}, {500, 10}, {500, 100}, {500, 500}} {
		p, err := startPortal(emulator.Config{RateLimit: emulator.StandardRateLimit})
		if err != nil {
			return err
		}
		ids := p.imports(c.n)
		took, err := tf.plan(context.Background(), "limited", configuration(p.url, "", ids, ""), c.parallelism)
		requests, limited := p.requestsSince(0)
		p.stop()
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %d | %d | %d | %s |\n", c.n, c.parallelism, requests, limited, took.Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}
