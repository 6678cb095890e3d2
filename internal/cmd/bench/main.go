// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Command bench measures what the provider costs the portal and Terraform:
// it builds the provider, serves the portal emulator on loopback, runs the
// real `terraform plan` through a dev_overrides CLI configuration, and
// prints markdown tables of requests and times. `make bench` runs it.
//
// The emulator is served from this process rather than by the
// bitrix24-emulator command, so that the bench reads its request log, its
// processes and the times it marks them finished directly. Benchmarks are
// not tests: nothing here asserts.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

const webhookCode = "b3nchc0de4portal"

var only = flag.String("only", "", "comma-separated tables to run: plan, limit, waits, latency, concurrent, agents, lengths; default all")

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	work, err := os.MkdirTemp("", "bitrix24-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &bench{work: work, bin: filepath.Join(work, "bin", "terraform-provider-bitrix24")}
	if err := b.setUp(); err != nil {
		return err
	}

	fmt.Printf("## terraform plan, %s, %s\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	for _, table := range []struct {
		name string
		run  func() error
	}{
		{"plan", b.planTable}, {"limit", b.rateLimitTable}, {"waits", b.waitTable}, {"latency", b.latencyTable},
		{"concurrent", b.concurrentPlansTable},
		{"agents", b.agentModelTable},
		{"lengths", b.importLengthTable},
	} {
		if *only == "" || slices.Contains(strings.Split(*only, ","), table.name) {
			if err := table.run(); err != nil {
				return err
			}
		}
	}
	info, err := os.Stat(b.bin)
	if err != nil {
		return err
	}
	fmt.Printf("Provider binary: %.1f MiB.\n", float64(info.Size())/(1<<20))
	return nil
}

type bench struct {
	work, bin string
	env       []string
}

// setUp builds the provider and writes the CLI configuration that points
// Terraform at it.
func (b *bench) setUp() error {
	build := exec.Command("go", "build", "-o", b.bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the provider: %w", err)
	}
	rc := filepath.Join(b.work, "terraformrc")
	config := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/b24-terraform/bitrix24" = %q
  }
  direct {}
}
`, filepath.Dir(b.bin))
	b.env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return os.WriteFile(rc, []byte(config), 0o644)
}

// portal is an emulator served on loopback.
type portal struct {
	*emulator.Portal
	url    string
	server *http.Server
}

func startPortal(cfg emulator.Config) (*portal, error) {
	cfg.WebhookCode = webhookCode
	if cfg.AgentPeriod == 0 {
		cfg.AgentPeriod = -1 // the bench moves imports itself
	}
	p := &portal{Portal: emulator.New(cfg)}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + listener.Addr().String() + p.WebhookPath()
	p.server = &http.Server{Handler: p.Portal, ReadHeaderTimeout: 10 * time.Second}
	p.Start()
	go func() { _ = p.server.Serve(listener) }()
	return p, nil
}

func (p *portal) stop() {
	_ = p.server.Close()
	p.Close()
}

// imports creates n imports: registered, running and finished in turn.
func (p *portal) imports(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = p.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Files: 3})
		switch i % 3 {
		case 1:
			p.Advance(ids[i], 2)
		case 2:
			p.RunToEnd(ids[i])
		}
	}
	return ids
}

// requestsSince counts the requests after the first `from`, and how many
// of them the rate limit refused.
func (p *portal) requestsSince(from int) (requests, rateLimited int) {
	all := p.Requests()[from:]
	for _, r := range all {
		if r.RateLimited {
			rateLimited++
		}
	}
	return len(all), rateLimited
}

// configuration writes a root module with one data source per id.
func configuration(url string, providerExtra string, ids []int64, wait string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf(`terraform {
  required_providers {
    bitrix24 = { source = "b24-terraform/bitrix24" }
  }
}

provider "bitrix24" {
  webhook_url = %q
%s}

locals {
  ids = [%s]
}

data "bitrix24_configuration_import" "many" {
  count      = length(local.ids)
  process_id = local.ids[count.index]
%s}
`, url, providerExtra, strings.Join(quoted, ", "), wait)
}

// plan runs `terraform plan` on a configuration and says how long it took.
func (b *bench) plan(ctx context.Context, name, config string, parallelism int) (time.Duration, error) {
	dir := filepath.Join(b.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "terraform", "-chdir="+dir, "plan", "-input=false", "-lock=false",
		fmt.Sprintf("-parallelism=%d", parallelism))
	cmd.Env = b.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	started := time.Now()
	err := cmd.Run()
	took := time.Since(started)
	if err != nil {
		return took, fmt.Errorf("terraform plan (%s): %w\n%s", name, err, tail(out.String(), 2000))
	}
	return took, nil
}

const repeats = 3 // plans per cell; the table shows the median time

// planTable measures plans of 0 to 500 data sources, with and without
// batching, against a portal without a rate limit and a provider whose
// own limit is out of the way: what is measured is the provider's cost.
func (b *bench) planTable() error {
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
					took, err := b.plan(context.Background(), "plan", config, parallelism)
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
func (b *bench) rateLimitTable() error {
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
		took, err := b.plan(context.Background(), "limited", configuration(p.url, "", ids, ""), c.parallelism)
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

// waitTable runs plans whose data sources all wait (poll_interval 1s) for
// imports that do not move, counts the requests of the rounds after the
// first, then finishes the imports. It also reads the provider's peak RSS.
func (b *bench) waitTable() error {
	const rounds = 4
	fmt.Printf("Concurrent waits (`wait { poll_interval = \"1s\" }`, parallelism = waits): requests per poll round, over %d rounds after the first, and the provider's peak RSS (VmHWM):\n\n", rounds)
	fmt.Println("| waits | batched: requests per round | batched: peak RSS | `batch_reads = false`: requests per round | `batch_reads = false`: peak RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, n := range []int{1, 50, 200} {
		row := fmt.Sprintf("| %d |", n)
		for _, batch := range []bool{true, false} {
			perRound, rss, err := b.waits(n, batch, rounds)
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

func (b *bench) waits(n int, batch bool, rounds int) (perRound float64, peakKiB int, err error) {
	p, err := startPortal(emulator.Config{})
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = p.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Files: 3})
	}
	done, err := b.startWaitingPlan(p, ids, batch)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(500 * time.Millisecond) // between rounds
	from := len(p.Requests())
	time.Sleep(time.Duration(rounds) * time.Second)
	requests, _ := p.requestsSince(from)
	peakKiB = providerPeakRSS(b.bin)

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
func (b *bench) startWaitingPlan(p *portal, ids []int64, batch bool) (done chan error, err error) {
	extra := fmt.Sprintf("  rate_limit  = 1000\n  rate_burst  = 10000\n  batch_reads = %t\n", batch)
	config := configuration(p.url, extra, ids, "  wait { poll_interval = \"1s\" }\n")
	done = make(chan error, 1)
	go func() {
		_, err := b.plan(context.Background(), "waits", config, len(ids))
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
func (b *bench) latencyTable() error {
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
		done, err := b.startWaitingPlan(p, ids, batch)
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

func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	out, _ := exec.Command("terraform", "version").Output()
	version, _, _ := strings.Cut(string(out), "\n")
	return fmt.Sprintf("%d cores (%s), %s", runtime.NumCPU(), model, strings.TrimSpace(version))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
