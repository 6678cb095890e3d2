// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// waitTable runs plans whose data sources all wait (poll_interval 1s) for
// imports that do not move, counts the requests of the rounds after the
// first, then finishes the imports. It also reads the provider's peak RSS.
func waitTable(tf *terraform) error {
	const rounds = 4
	fmt.Printf("Concurrent waits (`wait { poll_interval = \"1s\" }`, parallelism = waits): requests per poll round, over %d rounds after the first, and the provider's peak RSS (VmHWM):\n\n", rounds)
	fmt.Println("| waits | batched: requests per round | batched: peak RSS | `batch_reads = false`: requests per round | `batch_reads = false`: peak RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, n := range []int{1, 50, 200} {
		row := fmt.Sprintf("| %d |", n)
		for _, batch := range []bool{true, false} {
			perRound, rss, err := waits(tf, n, batch, rounds)
			if err != nil {
				return err
			}
			row += fmt.Sprintf(" %.1f | %.1f MiB |", perRound, float64(rss)/(1<<10))
		}
		fmt.Println(row)
	}
	fmt.Println()
	return nil
}

func waits(tf *terraform, n int, batch bool, rounds int) (perRound float64, peakKiB int, err error) {
	p, err := startPortal(emulator.Config{})
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = p.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Files: 3})
	}
	done, err := startWaitingPlan(tf, p, ids, batch)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(500 * time.Millisecond) // between rounds
	from := len(p.Requests())
	time.Sleep(time.Duration(rounds) * time.Second)
	requests, _ := p.requestsSince(from)
	peakKiB = providerPeakRSS(tf.bin)

	for _, id := range ids {
		p.RunToEnd(id)
	}
	if err := <-done; err != nil {
		return 0, 0, err
	}
	return float64(requests) / float64(rounds), peakKiB, nil
}

// startWaitingPlan starts a plan whose data sources wait for ids, polling
// every second, at a parallelism of one per data source, and returns once
// each has polled once. done gets the plan's outcome.
func startWaitingPlan(tf *terraform, p *portal, ids []int64, batch bool) (done chan error, err error) {
	extra := fmt.Sprintf("  rate_limit  = 1000\n  rate_burst  = 10000\n  batch_reads = %t\n", batch)
	config := configuration(p.url, extra, ids, "  wait { poll_interval = \"1s\" }\n")
	done = make(chan error, 1)
	go func() {
		_, err := tf.plan(context.Background(), "waits", config, len(ids))
		done <- err
	}()
	for p.readsOf(ids) < len(ids) {
		select {
		case err := <-done:
			return nil, fmt.Errorf("the plan ended early: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return done, nil
}

// readsOf counts the ids that have been read at least once.
func (p *portal) readsOf(ids []int64) int {
	read := map[string]bool{}
	for _, r := range p.Requests() {
		for _, id := range r.ProcessIDs() {
			read[id] = true
		}
	}
	n := 0
	for _, id := range ids {
		if read[fmt.Sprint(id)] {
			n++
		}
	}
	return n
}

// latencyTable measures, for imports that finish while their data sources
// wait, the time from the emulator marking an import F to the next read
// of it, and from the last such read to the end of the plan.
func latencyTable(tf *terraform) error {
	const n = 20
	fmt.Printf("Finishing imports: %d waits (`poll_interval = \"1s\"`), each import marked F at a random moment:\n\n", n)
	fmt.Println("| | F marked → read of F: median | max | last read of F → plan ends |")
	fmt.Println("|---|---:|---:|---:|")
	for _, batch := range []bool{true, false} {
		p, err := startPortal(emulator.Config{})
		if err != nil {
			return err
		}
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = p.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
		}
		done, err := startWaitingPlan(tf, p, ids, batch)
		if err != nil {
			p.stop()
			return err
		}
		// Finish the imports one by one, 137 ms apart: never in step with the polls.
		for _, id := range ids {
			time.Sleep(137 * time.Millisecond)
			p.RunToEnd(id)
		}
		err = <-done
		ended := time.Now()
		if err != nil {
			p.stop()
			return err
		}
		var delays []time.Duration
		var lastRead time.Time
		for _, id := range ids {
			info, _ := p.Process(id)
			for _, r := range p.Requests() {
				if r.At.After(info.FinishedAt) && slices.Contains(r.ProcessIDs(), fmt.Sprint(id)) {
					delays = append(delays, r.At.Sub(info.FinishedAt))
					lastRead = maxTime(lastRead, r.At)
					break
				}
			}
		}
		p.stop()
		name := "batched"
		if !batch {
			name = "`batch_reads = false`"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", name, median(delays).Round(time.Millisecond),
			slices.Max(delays).Round(time.Millisecond), ended.Sub(lastRead).Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}

// providerPeakRSS reads VmHWM, in KiB, of the running provider binary.
func providerPeakRSS(bin string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != bin {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				var kib int
				_, _ = fmt.Sscanf(strings.TrimSpace(rest), "%d", &kib)
				return kib
			}
		}
	}
	return 0
}
