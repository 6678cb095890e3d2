// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// options are the command's flags, checked.
type options struct {
	listen        string
	agentPeriod   time.Duration
	agent         emulator.AgentModel
	agentName     string
	user          string
	code          string
	scenario      string
	readyFile     string
	cloud         bool
	rateLimit     emulator.RateLimit
	rateLimitName string
	tls           bool
	caFile        string // absolute
	faults        []faultSpec
	manifests     []string // nil: any non-empty code
	scopes        []string
	failure       *emulator.Failure // of the scenario's import and every registered one
}

// usageError is a flag the flag package refused; it has already printed
// the error and the usage.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// rateLimits are the values of -rate-limit.
var rateLimits = map[string]emulator.RateLimit{
	"off":        {},
	"standard":   emulator.StandardRateLimit,
	"enterprise": emulator.EnterpriseRateLimit,
}

// agentKinds are the values of -agent.
var agentKinds = map[string]emulator.AgentKind{
	"background": emulator.AgentBackground,
	"hits":       emulator.AgentOnHits,
	"busy":       emulator.AgentOnHits,
	"cron":       emulator.AgentOnCron,
}

// parseOptions reads the command line; the flag package writes its
// complaints and the usage to output.
func parseOptions(args []string, output io.Writer) (options, error) {
	opts := options{rateLimitName: "off", agentName: "background",
		manifests: emulator.RESTImportManifests, scopes: []string{importScope}}
	var failMessage string
	fs := flag.NewFlagSet("bitrix24-emulator", flag.ContinueOnError)
	fs.SetOutput(output)
	// -help shows the guide; a flag it refuses, only how to get it.
	fs.Usage = func() {}
	fs.StringVar(&opts.listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.DurationVar(&opts.agentPeriod, "agent-period", 60*time.Second, "how often the import agent runs one step of each process (negative: never)")
	fs.Func("agent", "what runs the import agent, `MODEL`: background (every -agent-period, runs take no time), "+
		"hits (requests, right after their answer; a quiet portal), busy (hits plus another visitor's request every -traffic-every) "+
		"or cron (a tick every -cron-every); with a model a run takes -step-duration and the next falls due -agent-period after it ended (default background)", func(s string) error {
		kind, ok := agentKinds[s]
		if !ok {
			return errors.New("want background, hits, busy or cron")
		}
		opts.agent.Kind, opts.agentName = kind, s
		return nil
	})
	fs.DurationVar(&opts.agent.StepDuration, "step-duration", 2*time.Second, "with -agent hits, busy or cron: how long one run takes")
	fs.DurationVar(&opts.agent.Traffic, "traffic-every", time.Second, "with -agent busy: another visitor's request this often")
	fs.DurationVar(&opts.agent.CronEvery, "cron-every", time.Minute, "with -agent cron: the cron period (ticks on its whole multiples)")
	fs.StringVar(&opts.user, "user", "1", "webhook user id")
	fs.StringVar(&opts.code, "code", emulator.DefaultWebhookCode, "webhook secret code")
	fs.StringVar(&opts.scenario, "scenario", "none", "imports to create at start: none, demo, failing or finished")
	fs.StringVar(&opts.readyFile, "ready-file", "", "write {\"webhook_url\", \"process_id\"[, \"ca_cert_file\"]} here once listening")
	fs.BoolVar(&opts.cloud, "cloud", false, "answer like a cloud portal (time.operating fields)")
	fs.Func("rate-limit", "the portal's leaky bucket, `PLAN`: off, standard (2/s, 50) or enterprise (5/s, 250) (default off)", func(s string) error {
		limit, ok := rateLimits[s]
		if !ok {
			return errors.New("want off, standard or enterprise")
		}
		opts.rateLimit, opts.rateLimitName = limit, s
		return nil
	})
	fs.BoolVar(&opts.tls, "tls", false, "serve HTTPS with a certificate from a CA generated at start (needs -ca-file)")
	fs.StringVar(&opts.caFile, "ca-file", "", "with -tls, write the CA certificate (PEM) to `PATH` for clients to trust")
	fs.Func("fault", "script a fault at start, `METHOD=KIND[*COUNT|@DURATION]` (METHOD * for any; @DURATION: every call for that long from the first); repeatable. KIND: "+strings.Join(faultKindNames(), ", "), func(s string) error {
		spec, err := parseFaultSpec(s)
		if err == nil {
			opts.faults = append(opts.faults, spec)
		}
		return err
	})
	fs.Func("manifests", "the manifest `CODES` that register accepts, comma-separated, or * for any non-empty code (default "+
		strings.Join(emulator.RESTImportManifests, ",")+")", func(s string) error {
		opts.manifests = nil
		if s != "*" {
			opts.manifests = splitList(s)
		}
		return nil
	})
	fs.Func("scopes", "the webhook's `SCOPES`, comma-separated; without "+importScope+
		" the import methods answer HTTP 401 insufficient_scope (default "+importScope+")", func(s string) error {
		opts.scopes = splitList(s)
		return nil
	})
	fs.Func("fail-at", "make the scenario's import and every one registered fail at `STEP`: ACTION[:SECTION][:STEP], "+
		"e.g. load, manifest, clean:CRM_STATUS or load:LANDING:0", func(s string) error {
		at, err := emulator.ParseStepRef(s)
		if err == nil {
			opts.failure = &emulator.Failure{At: at}
		}
		return err
	})
	fs.StringVar(&failMessage, "fail-message", "", "with -fail-at, the exception's `TEXT` (default: one that names the step)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(output, fs)
			return options{}, err
		}
		fmt.Fprintln(output, "Run bitrix24-emulator -help for its flags and how to try the provider with it.")
		return options{}, usageError{err}
	}
	if opts.failure != nil {
		opts.failure.Message = failMessage
		if failMessage == "" {
			opts.failure.Message = "The import stopped at " + opts.failure.At.String() + ": bitrix24-emulator -fail-at made this step fail."
		}
	}

	if opts.agentName != "busy" {
		opts.agent.Traffic = 0
	}
	switch {
	case opts.agent.StepDuration < 0 || opts.agent.Traffic < 0 || opts.agent.CronEvery <= 0:
		return options{}, errors.New("-step-duration and -traffic-every must not be negative, -cron-every must be positive")
	case fs.NArg() > 0:
		return options{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case opts.agentPeriod == 0:
		return options{}, errors.New("-agent-period must not be 0")
	case opts.code == "" || strings.Contains(opts.code, "/") || opts.user == "" || strings.Contains(opts.user, "/"):
		return options{}, errors.New("-user and -code must be non-empty and contain no '/'")
	case opts.tls && opts.caFile == "":
		return options{}, errors.New("-tls needs -ca-file PATH: clients must be given the generated CA")
	case !opts.tls && opts.caFile != "":
		return options{}, errors.New("-ca-file is only used with -tls")
	case opts.failure == nil && failMessage != "":
		return options{}, errors.New("-fail-message is only used with -fail-at")
	case opts.manifests != nil && len(opts.manifests) == 0:
		return options{}, errors.New("-manifests must name a code, or * for any")
	}
	if opts.caFile != "" {
		abs, err := filepath.Abs(opts.caFile)
		if err != nil {
			return options{}, err
		}
		opts.caFile = abs
	}
	return opts, nil
}

// portalConfig is the emulator's configuration the options give.
func (o options) portalConfig() emulator.Config {
	return emulator.Config{
		UserID: o.user, WebhookCode: o.code, AgentPeriod: o.agentPeriod, Cloud: o.cloud,
		Agent:          o.agent,
		RateLimit:      o.rateLimit,
		Manifests:      o.manifests,
		Scopes:         o.scopes,
		FailRegistered: o.failure,
	}
}

// importScope is the scope the configuration.import methods need.
const importScope = "configuration.import"

// splitList reads a comma-separated list, without empty entries; "" is an
// empty list, not nil.
func splitList(s string) []string {
	list := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}

// faultSpec is one -fault: which method, how many calls, and what fault.
type faultSpec struct {
	method string // "" for any method
	count  int
	window time.Duration // every call for this long from the first, instead of count calls
	make   func(webhookURL, method string) emulator.Fault
}

// fault is the fault to inject once the webhook URL is known.
func (s faultSpec) fault(webhookURL string) emulator.Fault {
	f := s.make(webhookURL, s.method)
	f.Count, f.For = s.count, s.window
	return f
}

// faultKinds are the KINDs of -fault, but for slow:DURATION.
var faultKinds = map[string]func(webhookURL, method string) emulator.Fault{
	"502":       func(string, string) emulator.Fault { return emulator.GatewayHTML(http.StatusBadGateway) },
	"504":       func(string, string) emulator.Fault { return emulator.GatewayHTML(http.StatusGatewayTimeout) },
	"500":       func(string, string) emulator.Fault { return emulator.InternalServerError() },
	"503-limit": func(string, string) emulator.Fault { return emulator.QueryLimitExceeded() },
	"429-time":  func(string, string) emulator.Fault { return emulator.OperationTimeLimitFor(5 * time.Second) },
	"429-waf":   func(string, string) emulator.Fault { return emulator.WAFRateLimitHTML() },
	// A moved portal would point elsewhere; this one has only itself, so
	// the redirect leads back to the same method (without its query).
	"redirect":  func(webhookURL, method string) emulator.Fault { return emulator.Redirect(webhookURL + method) },
	"bom":       func(string, string) emulator.Fault { return emulator.BOM() },
	"empty":     func(string, string) emulator.Fault { return emulator.EmptyBody() },
	"hangup":    func(string, string) emulator.Fault { return emulator.Hangup() },
	"truncated": func(string, string) emulator.Fault { return emulator.TruncatedJSON() },
}

const slowPrefix = "slow:"

// faultKindNames lists the KINDs for help and errors, in a fixed order.
func faultKindNames() []string {
	return []string{"502", "504", "500", "503-limit", "429-time", "429-waf", "redirect", "bom", "empty", "hangup", "truncated", slowPrefix + "DURATION"}
}

// parseFaultSpec reads METHOD=KIND[*COUNT|@DURATION], e.g.
// configuration.import.get=502*2, server.time=slow:3s or *=503-limit@60s
// (every call for 60 s from the first).
func parseFaultSpec(s string) (faultSpec, error) {
	method, rest, ok := strings.Cut(s, "=")
	if !ok || method == "" {
		return faultSpec{}, errors.New("want METHOD=KIND[*COUNT|@DURATION], e.g. configuration.import.get=502*2")
	}
	if method == "*" {
		method = ""
	}
	spec := faultSpec{method: method, count: 1}
	kind := rest
	if k, windowText, found := strings.Cut(rest, "@"); found {
		d, err := time.ParseDuration(windowText)
		if err != nil || d <= 0 {
			return faultSpec{}, fmt.Errorf("window %q: want a positive duration such as 60s", windowText)
		}
		kind, spec.window = k, d
	}
	if k, countText, found := strings.Cut(rest, "*"); found {
		count, err := strconv.Atoi(countText)
		if err != nil || count < 1 {
			return faultSpec{}, fmt.Errorf("count %q: want a positive whole number", countText)
		}
		kind, spec.count = k, count
	}
	if durationText, found := strings.CutPrefix(kind, slowPrefix); found {
		d, err := time.ParseDuration(durationText)
		if err != nil || d <= 0 {
			return faultSpec{}, fmt.Errorf("slow %q: want a positive duration such as 3s", durationText)
		}
		spec.make = func(string, string) emulator.Fault { return emulator.Slow(d) }
		return spec, nil
	}
	spec.make = faultKinds[kind]
	if spec.make == nil {
		return faultSpec{}, fmt.Errorf("unknown fault kind %q: want one of %s", kind, strings.Join(faultKindNames(), ", "))
	}
	return spec, nil
}
