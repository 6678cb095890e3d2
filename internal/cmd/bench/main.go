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
	tf, err := buildProvider(work)
	if err != nil {
		return err
	}

	fmt.Printf("## terraform plan, %s, %s\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	for _, table := range []struct {
		name string
		run  func() error
	}{
		{"plan", func() error { return planTable(tf) }},
		{"limit", func() error { return rateLimitTable(tf) }},
		{"waits", func() error { return waitTable(tf) }},
		{"latency", func() error { return latencyTable(tf) }},
		{"concurrent", func() error { return concurrentPlansTable(tf) }},
		{"agents", agentModelTable},
		{"lengths", importLengthTable},
	} {
		if *only == "" || slices.Contains(strings.Split(*only, ","), table.name) {
			if err := table.run(); err != nil {
				return err
			}
		}
	}
	info, err := os.Stat(tf.bin)
	if err != nil {
		return err
	}
	fmt.Printf("Provider binary: %.1f MiB.\n", float64(info.Size())/(1<<20))
	return nil
}

// terraform runs the Terraform CLI, in directories under work, with the
// provider built at bin through a dev_overrides configuration in env.
type terraform struct {
	work, bin string
	env       []string
}

// buildProvider builds the provider and writes the CLI configuration that
// points Terraform at it.
func buildProvider(work string) (*terraform, error) {
	tf := &terraform{work: work, bin: filepath.Join(work, "bin", "terraform-provider-bitrix24")}
	build := exec.Command("go", "build", "-o", tf.bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building the provider: %w", err)
	}
	rc := filepath.Join(tf.work, "terraformrc")
	config := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/b24-terraform/bitrix24" = %q
  }
  direct {}
}
`, filepath.Dir(tf.bin))
	tf.env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return tf, os.WriteFile(rc, []byte(config), 0o644)
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
func (tf *terraform) plan(ctx context.Context, name, config string, parallelism int) (time.Duration, error) {
	dir := filepath.Join(tf.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "terraform", "-chdir="+dir, "plan", "-input=false", "-lock=false",
		fmt.Sprintf("-parallelism=%d", parallelism))
	cmd.Env = tf.env
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
