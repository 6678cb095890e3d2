// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Command bitrix24-emulator serves an emulated Bitrix24 portal for demos.
//
//	bitrix24-emulator [-listen 127.0.0.1:0] [-agent-period 60s] [-user 1] [-code CODE]
//	                  [-scenario none|demo|failing|finished] [-ready-file PATH] [-cloud]
//
// When it listens it prints the webhook URL and the scenario's process id
// on stdout and, with -ready-file, writes them atomically as JSON
// {"webhook_url": "...", "process_id": N} (process_id is 0 for -scenario
// none) so that a script can wait for the file. The file is removed on exit.
// Each request is logged to stderr with the webhook code masked. SIGINT or
// SIGTERM shut it down.
package main

import (
	"context"
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
	"strings"
	"syscall"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bitrix24-emulator:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	agentPeriod := flag.Duration("agent-period", 60*time.Second, "how often the import agent runs one step of each process (negative: never)")
	user := flag.String("user", "1", "webhook user id")
	code := flag.String("code", emulator.DefaultWebhookCode, "webhook secret code")
	scenario := flag.String("scenario", "none", "imports to create at start: none, demo, failing or finished")
	readyFile := flag.String("ready-file", "", "write {\"webhook_url\", \"process_id\"} here once listening")
	cloud := flag.Bool("cloud", false, "answer like a cloud portal (time.operating fields)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", flag.Args())
	}
	if *agentPeriod == 0 {
		return errors.New("-agent-period must not be 0")
	}
	if *code == "" || strings.Contains(*code, "/") || *user == "" || strings.Contains(*user, "/") {
		return errors.New("-user and -code must be non-empty and contain no '/'")
	}

	portal := emulator.New(emulator.Config{UserID: *user, WebhookCode: *code, AgentPeriod: *agentPeriod, Cloud: *cloud})
	processID, err := setUp(portal, *scenario)
	if err != nil {
		return err
	}

	if *readyFile != "" {
		// A stale file from an earlier run would tell a waiting script the wrong port.
		if err := os.Remove(*readyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	webhookURL := "http://" + listener.Addr().String() + portal.WebhookPath()

	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	server := &http.Server{Handler: logRequests(portal, logger), ReadHeaderTimeout: 10 * time.Second}
	portal.Start()
	defer portal.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	if *readyFile != "" {
		if err := writeReadyFile(*readyFile, webhookURL, processID); err != nil {
			_ = server.Close()
			return err
		}
		defer os.Remove(*readyFile)
	}
	fmt.Printf("webhook_url=%s\nprocess_id=%d\n", webhookURL, processID)
	logger.Printf("listening on %s (scenario %s, agent period %v)", listener.Addr(), *scenario, *agentPeriod)

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

// setUp creates the scenario's import and returns its process id (0 for none).
func setUp(portal *emulator.Portal, scenario string) (int64, error) {
	switch scenario {
	case "none":
		return 0, nil
	case "demo":
		return portal.CreateProcess(emulator.Script{
			Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY", "REST_APPLICATION"},
			Files:    2,
			Messages: []emulator.ScriptedMessage{
				{AtRun: 7, Type: "notice", Message: "Stage \"New\" already exists and was kept."},
			},
		}), nil
	case "failing":
		return portal.CreateProcess(emulator.Script{
			Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY"},
			Files:    1,
			Messages: []emulator.ScriptedMessage{
				{AtRun: 4, Type: "error", Message: "Could not add stage \"Won\": the name is taken."},
				{AtRun: 6, Type: "exception", Code: "ERROR_CONTENT_CRM_STATUS_0", Message: "Import stopped: file 0 could not be read."},
			},
		}), nil
	case "finished":
		id := portal.CreateProcess(emulator.Script{
			Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY"},
			Files:    1,
			Messages: []emulator.ScriptedMessage{
				{AtRun: 6, Type: "notice", Message: "Pipeline \"Sales\" already exists and was kept."},
			},
			Additional:   map[string]any{"CRM_DEAL_CATEGORY": map[string]any{"0": 5}},
			CreatedItems: []map[string]any{{"ENTITY": "CRM_DEAL_CATEGORY", "ID": 5, "TITLE": "Sales"}},
		})
		portal.RunToEnd(id)
		return id, nil
	default:
		return 0, fmt.Errorf("unknown -scenario %q (none, demo, failing, finished)", scenario)
	}
}

// writeReadyFile writes the file whole or not at all: temp file, then rename.
func writeReadyFile(path, webhookURL string, processID int64) error {
	data, err := json.Marshal(map[string]any{"webhook_url": webhookURL, "process_id": processID})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
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
