// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Command bitrix24-emulator serves an emulated Bitrix24 portal, to try the
// provider against and for demos; -help is a user's guide (help.go).
//
//	bitrix24-emulator [-listen 127.0.0.1:0] [-agent-period 60s] [-user 1] [-code CODE]
//	                  [-agent background|hits|busy|cron] [-step-duration 2s]
//	                  [-traffic-every 1s] [-cron-every 1m]
//	                  [-scenario none|demo|failing|finished] [-ready-file PATH] [-cloud]
//	                  [-rate-limit off|standard|enterprise] [-tls -ca-file PATH]
//	                  [-fault METHOD=KIND[*COUNT|@DURATION]]...
//	                  [-manifests CODES|*] [-scopes SCOPES]
//	                  [-fail-at ACTION[:SECTION][:STEP] [-fail-message TEXT]]
//
// When it listens it prints the webhook URL and the scenario's process id
// on stdout and, with -ready-file, writes them atomically as JSON
// {"webhook_url": "...", "process_id": N} (process_id is 0 for -scenario
// none) so that a script can wait for the file. The file is removed on exit.
// Each request is logged to stderr with the webhook code masked. SIGINT or
// SIGTERM shut it down.
//
// -agent chooses what runs the import agent: the default background agent
// runs each import every -agent-period; hits, busy and cron are the agent of
// a real portal (see emulator.AgentModel): a run takes -step-duration and
// the next falls due -agent-period after it ended, started by a request
// right after its answer (hits: only the client's own requests; busy: also
// another visitor's every -traffic-every) or by a cron tick every
// -cron-every. With a model a recorded exception leaves P and the next run
// marks E.
//
// -manifests lists the manifest codes register accepts (by default those
// the portal lets import over REST); -scopes gives the webhook its scopes,
// and without configuration.import the import methods answer
// insufficient_scope; -fail-at makes the scenario's import and every one
// registered fail at a step (see emulator.Failure).
//
// -rate-limit puts the portal's leaky bucket in front of every call (2 per
// second and 50, or 5 and 250). -tls serves HTTPS with a certificate for
// 127.0.0.1, ::1 and localhost from a CA generated at start: the CA
// certificate is written to -ca-file (and left there on exit), its absolute
// path is printed as ca_cert_file= and added to the ready file as
// "ca_cert_file", and the webhook URL is https://.
//
// -fault scripts faults at start, in order, each for COUNT calls (default
// 1) of METHOD, or of any method with METHOD *. KIND is 502 or 504 (nginx
// HTML page), 500 (INTERNAL_SERVER_ERROR), 503-limit
// (QUERY_LIMIT_EXCEEDED), 429-time (OPERATION_TIME_LIMIT, open again 5 s
// after the answer), 429-waf (a firewall's HTML page), redirect (302 back
// to the method's URL, without its query), bom (the real answer behind a
// byte-order mark), empty (200 with no body), hangup (connection closed),
// truncated (JSON cut short) or slow:DURATION (the real answer, late), e.g.
// -fault configuration.import.get=502*2. With @DURATION instead of *COUNT
// the fault answers every call for that long from the first it answers, e.g.
// -fault '*=503-limit@60s' for a portal whose budget another integration
// holds for a minute.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

func main() {
	err := run(os.Args[1:])
	var usage usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &usage):
		os.Exit(2) // the flag package has printed the error and the usage
	default:
		fmt.Fprintln(os.Stderr, "bitrix24-emulator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	portal := emulator.New(opts.portalConfig())
	processID, err := setUp(portal, opts.scenario, opts.failure)
	if err != nil {
		return err
	}

	if opts.readyFile != "" {
		// A stale file from an earlier run would tell a waiting script the wrong port.
		if err := os.Remove(opts.readyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	listener, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if opts.tls {
		certs, err := emulator.NewTLSCerts()
		if err == nil {
			err = writeFileAtomic(opts.caFile, certs.CAPEM)
		}
		if err != nil {
			_ = listener.Close()
			return err
		}
		// No ALPN: HTTP/1.1 only, so that hangup faults can close the connection.
		listener = tls.NewListener(listener, certs.ServerConfig)
		scheme = "https"
	}
	webhookURL := scheme + "://" + listener.Addr().String() + portal.WebhookPath()
	for _, spec := range opts.faults {
		portal.InjectFault(spec.method, spec.fault(webhookURL))
	}

	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	server := &http.Server{Handler: logRequests(portal, logger), ReadHeaderTimeout: 10 * time.Second}
	portal.Start()
	defer portal.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	ready := map[string]any{"webhook_url": webhookURL, "process_id": processID}
	if opts.tls {
		ready["ca_cert_file"] = opts.caFile
	}
	if opts.readyFile != "" {
		if err := writeReadyFile(opts.readyFile, ready); err != nil {
			_ = server.Close()
			return err
		}
		defer os.Remove(opts.readyFile)
	}
	fmt.Printf("webhook_url=%s\nprocess_id=%d\n", webhookURL, processID)
	if opts.tls {
		fmt.Printf("ca_cert_file=%s\n", opts.caFile)
	}
	logger.Printf("listening on %s (scenario %s, agent %s, agent period %v, rate limit %s, %d scripted faults)",
		listener.Addr(), opts.scenario, opts.agentName, opts.agentPeriod, opts.rateLimitName, len(opts.faults))
	if !slices.Contains(opts.scopes, importScope) {
		logger.Printf("the webhook has the scopes %q, not %s: the import methods answer insufficient_scope", opts.scopes, importScope)
	}
	if opts.failure != nil {
		logger.Printf("imports fail at %s with the exception %q", opts.failure.At, opts.failure.Message)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Printf("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		_ = server.Close()
	}
	return nil
}

// setUp creates the scenario's import, failing as failure says when it is
// not nil, and returns its process id (0 for none).
func setUp(portal *emulator.Portal, scenario string, failure *emulator.Failure) (int64, error) {
	script, ok := scenarios[scenario]
	if !ok {
		return 0, fmt.Errorf("unknown -scenario %q (none, demo, failing, finished)", scenario)
	}
	if scenario == "none" {
		return 0, nil
	}
	script.FailAt = failure
	id := portal.CreateProcess(script)
	if scenario == "finished" {
		portal.RunToEnd(id)
	}
	return id, nil
}

// scenarios are the imports of -scenario; -help describes them.
var scenarios = map[string]emulator.Script{
	"none": {},
	"demo": {
		Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY", "REST_APPLICATION"},
		Files:    2,
		Messages: []emulator.ScriptedMessage{
			{AtRun: 7, Type: "notice", Message: "Stage \"New\" already exists and was kept."},
			{AtRun: 9, Type: "notice", Message: "Pipeline \"Partners\" was added with 4 stages."},
		},
		Additional: map[string]any{"CRM_DEAL_CATEGORY": map[string]any{"0": 3}},
		CreatedItems: []map[string]any{
			{"ENTITY": "CRM_DEAL_CATEGORY", "ID": 3, "TITLE": "Partners"},
			{"ENTITY": "CRM_STATUS", "ID": "C3:NEW", "TITLE": "New lead"},
			{"ENTITY": "REST_APPLICATION", "ID": 12, "TITLE": "Partner portal"},
		},
	},
	"failing": {
		Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY"},
		Files:    1,
		Messages: []emulator.ScriptedMessage{
			{AtRun: 4, Type: "error", Message: "Could not add stage \"Won\": the name is taken."},
			{AtRun: 6, Type: "exception", Code: "ERROR_CONTENT_CRM_STATUS_0", Message: "Import stopped: file 0 could not be read."},
		},
	},
	"finished": { // run to its end at start
		Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY"},
		Files:    1,
		Messages: []emulator.ScriptedMessage{
			{AtRun: 6, Type: "notice", Message: "Pipeline \"Sales\" already exists and was kept."},
		},
		Additional:   map[string]any{"CRM_DEAL_CATEGORY": map[string]any{"0": 5}},
		CreatedItems: []map[string]any{{"ENTITY": "CRM_DEAL_CATEGORY", "ID": 5, "TITLE": "Sales"}},
	},
}

// writeReadyFile writes the ready file's JSON whole or not at all.
func writeReadyFile(path string, fields map[string]any) error {
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// writeFileAtomic writes a file whole or not at all, so that a script that
// waits for it never reads half: temp file, then rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

// logRequests logs one line per request: HTTP method, status, and the path
// with the webhook code masked (the query, which may carry an OAuth token, is
// left out).
func logRequests(next http.Handler, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		started := time.Now()
		defer func() {
			status := "-" // the connection was dropped
			if rec.status != 0 {
				status = fmt.Sprint(rec.status)
			}
			logger.Printf("%s %s %s %v", r.Method, status, maskCode(r.URL.Path), time.Since(started).Round(time.Microsecond))
		}()
		next.ServeHTTP(rec, r)
	})
}

// maskCode replaces the webhook code of /rest/<user>/<code>/<method>.
func maskCode(path string) string {
	parts := strings.SplitN(path, "/", 5) // "", "rest", user, code, method
	if len(parts) >= 4 && parts[0] == "" && parts[1] == "rest" {
		parts[3] = "***"
		return strings.Join(parts, "/")
	}
	return path
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
