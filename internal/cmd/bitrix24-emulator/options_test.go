// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"errors"
	"flag"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

func TestParseFaultSpec_Good(t *testing.T) {
	const webhook = "https://127.0.0.1:1/rest/1/code/"
	tests := []struct {
		spec       string
		wantMethod string
		wantCount  int
		wantStatus int // 0 for a fault that sends the real answer
		check      func(emulator.Fault) bool
	}{
		{"configuration.import.get=502*2", "configuration.import.get", 2, 502, func(f emulator.Fault) bool { return strings.Contains(f.Body, "502 Bad Gateway") }},
		{"server.time=504", "server.time", 1, 504, nil},
		{"server.time=500", "server.time", 1, 500, func(f emulator.Fault) bool { return strings.Contains(f.Body, "INTERNAL_SERVER_ERROR") }},
		{"batch=503-limit*3", "batch", 3, 503, func(f emulator.Fault) bool { return strings.Contains(f.Body, "QUERY_LIMIT_EXCEEDED") }},
		{"server.time=429-time", "server.time", 1, 429, func(f emulator.Fault) bool { return strings.Contains(f.Body, "operating_reset_at") }},
		{"server.time=429-waf", "server.time", 1, 429, func(f emulator.Fault) bool { return strings.HasPrefix(f.ContentType, "text/html") }},
		{"server.time=redirect", "server.time", 1, 302, func(f emulator.Fault) bool { return f.Header.Get("Location") == webhook+"server.time" }},
		{"*=redirect", "", 1, 302, func(f emulator.Fault) bool { return f.Header.Get("Location") == webhook }},
		{"server.time=bom", "server.time", 1, 0, func(f emulator.Fault) bool { return f.PassThrough && f.Prefix == "\uFEFF" }},
		{"server.time=empty", "server.time", 1, 200, func(f emulator.Fault) bool { return f.Body == "" }},
		{"*=hangup*5", "", 5, 0, func(f emulator.Fault) bool { return f.Hangup }},
		{"server.time=truncated", "server.time", 1, 200, nil},
		{"server.time=slow:1.5s*2", "server.time", 2, 0, func(f emulator.Fault) bool { return f.PassThrough && f.Delay == 1500*time.Millisecond }},
		{"*=503-limit@60s", "", 1, 503, func(f emulator.Fault) bool { return f.For == time.Minute }},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			spec, err := parseFaultSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			f := spec.fault(webhook)
			if spec.method != tt.wantMethod || f.Count != tt.wantCount || f.HTTPStatus != tt.wantStatus {
				t.Errorf("method %q, count %d, HTTP %d; want %q, %d, %d", spec.method, f.Count, f.HTTPStatus, tt.wantMethod, tt.wantCount, tt.wantStatus)
			}
			if tt.check != nil && !tt.check(f) {
				t.Errorf("fault %+v", f)
			}
		})
	}
}

func TestParseFaultSpec_Bad(t *testing.T) {
	tests := []struct{ spec, wantErr string }{
		{"server.time", "want METHOD=KIND[*COUNT|@DURATION]"},
		{"=502", "want METHOD=KIND[*COUNT|@DURATION]"},
		{"server.time=", `unknown fault kind "": want one of 502, 504,`},
		{"server.time=418", `unknown fault kind "418"`},
		{"server.time=502*0", `count "0": want a positive whole number`},
		{"server.time=502*-1", `count "-1"`},
		{"server.time=502*two", `count "two"`},
		{"server.time=502*", `count ""`},
		{"server.time=slow", `unknown fault kind "slow"`},
		{"server.time=slow:", `slow "": want a positive duration`},
		{"server.time=slow:soon", `slow "soon"`},
		{"server.time=slow:-1s", `slow "-1s"`},
		{"*=503-limit@", `window "": want a positive duration`},
		{"*=503-limit@soon", `window "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := parseFaultSpec(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseOptions_Good(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	tests := []struct {
		name  string
		args  []string
		check func(options) bool
	}{
		{"defaults", nil, func(o options) bool {
			return o.listen == "127.0.0.1:0" && o.rateLimit == (emulator.RateLimit{}) && o.rateLimitName == "off" && !o.tls && len(o.faults) == 0
		}},
		{"standard rate limit", []string{"-rate-limit", "standard"}, func(o options) bool { return o.rateLimit == emulator.StandardRateLimit }},
		{"enterprise rate limit", []string{"-rate-limit=enterprise"}, func(o options) bool { return o.rateLimit == emulator.EnterpriseRateLimit }},
		{"rate limit off", []string{"-rate-limit", "standard", "-rate-limit", "off"}, func(o options) bool { return o.rateLimit == (emulator.RateLimit{}) }},
		{"tls", []string{"-tls", "-ca-file", caFile}, func(o options) bool { return o.tls && o.caFile == caFile }},
		{"agent defaults to the background agent", nil, func(o options) bool {
			return o.agent.Kind == emulator.AgentBackground && o.agentName == "background"
		}},
		{"quiet hit-driven agent", []string{"-agent", "hits", "-step-duration", "5s"}, func(o options) bool {
			return o.agent == emulator.AgentModel{Kind: emulator.AgentOnHits, StepDuration: 5 * time.Second, CronEvery: time.Minute}
		}},
		{"busy agent", []string{"-agent", "busy", "-traffic-every", "3s"}, func(o options) bool {
			return o.agent.Kind == emulator.AgentOnHits && o.agent.Traffic == 3*time.Second && o.agent.StepDuration == 2*time.Second
		}},
		{"cron agent", []string{"-agent", "cron", "-cron-every", "5m"}, func(o options) bool {
			return o.agent.Kind == emulator.AgentOnCron && o.agent.CronEvery == 5*time.Minute && o.agent.Traffic == 0
		}},
		{"faults accumulate in order", []string{"-fault", "a=502", "-fault", "b=bom*2"}, func(o options) bool {
			return len(o.faults) == 2 && o.faults[0].method == "a" && o.faults[1].method == "b" && o.faults[1].count == 2
		}},
		{"the manifests a portal lets import over REST, the import scope, no failure", nil, func(o options) bool {
			return slices.Equal(o.manifests, []string{"landing_page", "landing_store", "landing_knowledge", "ui_masks"}) &&
				slices.Equal(o.scopes, []string{"configuration.import"}) && o.failure == nil
		}},
		{"any manifest", []string{"-manifests", "*"}, func(o options) bool { return o.manifests == nil }},
		{"listed manifests", []string{"-manifests", "vertical_crm, landing_page"}, func(o options) bool {
			return slices.Equal(o.manifests, []string{"vertical_crm", "landing_page"})
		}},
		{"scopes without the import scope", []string{"-scopes", "crm,user"}, func(o options) bool {
			return slices.Equal(o.scopes, []string{"crm", "user"})
		}},
		{"no scope at all", []string{"-scopes", ""}, func(o options) bool { return o.scopes != nil && len(o.scopes) == 0 }},
		{"fail at a step, with a message that names it", []string{"-fail-at", "load:LANDING:0"}, func(o options) bool {
			return o.failure != nil && o.failure.At == emulator.StepRef{Action: "load", Section: "LANDING", Step: 0} &&
				o.failure.Message == "The import stopped at load:LANDING:0: bitrix24-emulator -fail-at made this step fail."
		}},
		{"fail with a message of one's own", []string{"-fail-message", "File 3 is broken.", "-fail-at", "manifest"}, func(o options) bool {
			return o.failure.At == emulator.StepRef{Action: "manifest", Step: -1} && o.failure.Message == "File 3 is broken."
		}},
		{"the portal's configuration", []string{"-scopes", "crm", "-fail-at", "load", "-manifests", "x", "-code", "c"}, func(o options) bool {
			cfg := o.portalConfig()
			return slices.Equal(cfg.Scopes, []string{"crm"}) && cfg.FailRegistered == o.failure && slices.Equal(cfg.Manifests, []string{"x"}) &&
				cfg.WebhookCode == "c" && cfg.Agent == o.agent
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := parseOptions(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(opts) {
				t.Errorf("options %+v", opts)
			}
		})
	}

	t.Run("relative CA path made absolute", func(t *testing.T) {
		t.Chdir(t.TempDir())
		opts, err := parseOptions([]string{"-tls", "-ca-file", "ca.pem"}, io.Discard)
		if err != nil || !filepath.IsAbs(opts.caFile) || filepath.Base(opts.caFile) != "ca.pem" {
			t.Errorf("caFile %q, %v", opts.caFile, err)
		}
	})
}

func TestParseOptions_Bad(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantErr   string
		wantUsage bool // refused by the flag package, which printed the usage
	}{
		{"unknown rate limit", []string{"-rate-limit", "fast"}, `invalid value "fast" for flag -rate-limit: want off, standard or enterprise`, true},
		{"bad fault", []string{"-fault", "server.time=418"}, `invalid value "server.time=418" for flag -fault: unknown fault kind "418"`, true},
		{"unknown flag", []string{"-insecure"}, "flag provided but not defined: -insecure", true},
		{"tls without a CA file", []string{"-tls"}, "-tls needs -ca-file PATH", false},
		{"CA file without tls", []string{"-ca-file", "ca.pem"}, "-ca-file is only used with -tls", false},
		{"unknown agent", []string{"-agent", "sometimes"}, `invalid value "sometimes" for flag -agent: want background, hits, busy or cron`, true},
		{"negative step", []string{"-agent", "hits", "-step-duration", "-1s"}, "-step-duration and -traffic-every must not be negative", false},
		{"zero agent period", []string{"-agent-period", "0s"}, "-agent-period must not be 0", false},
		{"slash in code", []string{"-code", "a/b"}, "-user and -code must be non-empty", false},
		{"arguments", []string{"extra"}, "unexpected arguments: [extra]", false},
		{"unknown step", []string{"-fail-at", "loading"}, `invalid value "loading" for flag -fail-at: unknown action "loading"`, true},
		{"fail message without a step", []string{"-fail-message", "x"}, "-fail-message is only used with -fail-at", false},
		{"no manifest", []string{"-manifests", ","}, "-manifests must name a code, or * for any", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var output strings.Builder
			_, err := parseOptions(tt.args, &output)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			var usage usageError
			printedHint := strings.Contains(output.String(), "Run bitrix24-emulator -help")
			if errors.As(err, &usage) != tt.wantUsage || printedHint != tt.wantUsage {
				t.Errorf("usage error %v, printed the hint to -help %v; want %v", errors.As(err, &usage), printedHint, tt.wantUsage)
			}
			if strings.Contains(output.String(), "REHEARSE A FAILURE") {
				t.Errorf("a refused flag printed the whole guide:\n%s", output.String())
			}
		})
	}

	t.Run("help", func(t *testing.T) {
		var output strings.Builder
		_, err := parseOptions([]string{"-h"}, &output)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(output.String(), "-fault") {
			t.Errorf("error %v, output %q", err, output.String())
		}
	})
}

// The kinds map and the list shown in help and errors must name the same
// kinds.
func TestFaultKindNames_MatchTheKinds(t *testing.T) {
	names := faultKindNames()
	if len(names) != len(faultKinds)+1 {
		t.Errorf("%d names for %d kinds and slow", len(names), len(faultKinds))
	}
	for _, name := range names {
		if _, ok := faultKinds[name]; !ok && !strings.HasPrefix(name, slowPrefix) {
			t.Errorf("%q is listed but not a kind", name)
		}
	}
}

// The provider masks every start of the webhook code 6 characters or longer,
// wherever it appears: a default code that starts like a word of the
// emulator's own texts ("emulator...") would have a user rehearsing a failed
// import read "bitrix24-*** -fail-at made this step fail".
func TestParseOptions_defaultCodeLeavesTheFailureMessageUnmasked(t *testing.T) {
	opts, err := parseOptions([]string{"-fail-at", "load:LANDING:0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.code) != 16 {
		t.Errorf("default code %q has %d characters; a portal's has 16", opts.code, len(opts.code))
	}
	if masked := bitrix24.SecretPattern(opts.code).ReplaceAllString(opts.failure.Message, "***"); masked != opts.failure.Message {
		t.Errorf("the provider would show the failure message as %q", masked)
	}
}
