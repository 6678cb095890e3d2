// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// TestMain lets the end-to-end test run this test binary as the command.
func TestMain(m *testing.M) {
	if os.Getenv("BITRIX24_EMULATOR_RUN_MAIN") == "1" {
		os.Args = append([]string{"bitrix24-emulator"}, strings.Fields(os.Getenv("BITRIX24_EMULATOR_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestMaskCode(t *testing.T) {
	tests := map[string]string{
		"/rest/1/secret/configuration.import.get.json": "/rest/1/***/configuration.import.get.json",
		"/rest/1/secret/":   "/rest/1/***/",
		"/rest/1/secret":    "/rest/1/***",
		"/rest/server.time": "/rest/server.time",
		"/favicon.ico":      "/favicon.ico",
	}
	for in, want := range tests {
		if got := maskCode(in); got != want {
			t.Errorf("maskCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		scenario   string
		wantStatus string // after running to the end
	}{
		{"demo", "F"},
		{"failing", "E"},
		{"finished", "F"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			p := emulator.New(emulator.Config{AgentPeriod: -1})
			id, err := setUp(p, tt.scenario)
			if err != nil || id == 0 {
				t.Fatalf("setUp: %d, %v", id, err)
			}
			p.RunToEnd(id)
			if info, _ := p.Process(id); info.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", info.Status, tt.wantStatus)
			}
		})
	}
	if id, err := setUp(emulator.New(emulator.Config{}), "none"); id != 0 || err != nil {
		t.Errorf("none: %d, %v", id, err)
	}
	if _, err := setUp(emulator.New(emulator.Config{}), "bogus"); err == nil {
		t.Errorf("bogus scenario accepted")
	}
}

func TestCommandEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"BITRIX24_EMULATOR_RUN_MAIN=1",
		"BITRIX24_EMULATOR_ARGS=-scenario finished -code topsecret -agent-period 5ms -ready-file "+ready,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }() // harmless once it has exited

	var info struct {
		WebhookURL string `json:"webhook_url"`
		ProcessID  int64  `json:"process_id"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(ready)
		if err == nil {
			if err := json.Unmarshal(data, &info); err != nil {
				t.Fatalf("ready file is not whole JSON: %q", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file; stderr:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.HasPrefix(info.WebhookURL, "http://127.0.0.1:") || !strings.HasSuffix(info.WebhookURL, "/rest/1/topsecret/") || info.ProcessID == 0 {
		t.Fatalf("ready file: %+v", info)
	}

	resp, err := http.Get(info.WebhookURL + "configuration.import.get.json?processId=" + strconv.FormatInt(info.ProcessID, 10))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct {
		Result struct {
			Status         string
			Additional     map[string]any
			CreateItemList []map[string]any
		}
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Result.Status != "F" ||
		len(got.Result.Additional) == 0 || len(got.Result.CreateItemList) == 0 {
		t.Errorf("get: %s", body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Errorf("ready file left behind: %v", err)
	}
	wantOut := "webhook_url=" + info.WebhookURL + "\nprocess_id=" + strconv.FormatInt(info.ProcessID, 10) + "\n"
	if stdout.String() != wantOut {
		t.Errorf("stdout %q, want %q", stdout.String(), wantOut)
	}
	logs := stderr.String()
	if strings.Contains(logs, "topsecret") || !strings.Contains(logs, "GET 200 /rest/1/***/configuration.import.get.json") {
		t.Errorf("stderr:\n%s", logs)
	}
}
