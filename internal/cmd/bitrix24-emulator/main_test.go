// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
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

func TestMaskCode_paths(t *testing.T) {
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

func TestSetUp_scenarios(t *testing.T) {
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
			id, err := setUp(p, tt.scenario, nil)
			if err != nil || id == 0 {
				t.Fatalf("setUp: %d, %v", id, err)
			}
			p.RunToEnd(id)
			if info, _ := p.Process(id); info.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", info.Status, tt.wantStatus)
			}
		})
	}
	if id, err := setUp(emulator.New(emulator.Config{}), "none", nil); id != 0 || err != nil {
		t.Errorf("none: %d, %v", id, err)
	}
	if _, err := setUp(emulator.New(emulator.Config{}), "bogus", nil); err == nil {
		t.Errorf("bogus scenario accepted")
	}
	t.Run("-fail-at fails the scenario's import at that step", func(t *testing.T) {
		for _, scenario := range []string{"demo", "finished"} {
			p := emulator.New(emulator.Config{AgentPeriod: -1})
			id, _ := setUp(p, scenario, &emulator.Failure{At: emulator.StepRef{Action: "clean", Section: "CRM_DEAL_CATEGORY", Step: -1}, Message: "x"})
			p.RunToEnd(id)
			if info, _ := p.Process(id); info.Status != "E" || info.Action != "clean" || info.Section != "CRM_DEAL_CATEGORY" {
				t.Errorf("%s: %+v, want E at clean CRM_DEAL_CATEGORY", scenario, info)
			}
		}
	})
}

// readyInfo is the ready file's JSON.
type readyInfo struct {
	WebhookURL string `json:"webhook_url"`
	ProcessID  int64  `json:"process_id"`
	CACertFile string `json:"ca_cert_file"`
}

// command is the emulator running as a process of its own.
type command struct {
	t              *testing.T
	cmd            *exec.Cmd
	exited         chan error
	ready          string
	stdout, stderr bytes.Buffer
}

// startCommand runs the command with args and a ready file, and waits for
// that file.
func startCommand(t *testing.T, args string) (*command, readyInfo) {
	t.Helper()
	c := &command{t: t, exited: make(chan error, 1), ready: filepath.Join(t.TempDir(), "ready.json")}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(),
		"BITRIX24_EMULATOR_RUN_MAIN=1",
		"BITRIX24_EMULATOR_ARGS="+args+" -ready-file "+c.ready,
	)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() { _ = c.cmd.Process.Kill() }) // harmless once it has exited

	var info readyInfo
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(c.ready)
		if err == nil {
			if err := json.Unmarshal(data, &info); err != nil {
				t.Fatalf("ready file is not whole JSON: %q", data)
			}
			return c, info
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file; stderr:\n%s", c.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop sends SIGTERM, expects a clean exit and the ready file gone, and
// returns what the command printed.
func (c *command) stop() (stdout, stderr string) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	select {
	case err := <-c.exited:
		if err != nil {
			c.t.Errorf("exit: %v; stderr:\n%s", err, c.stderr.String())
		}
	case <-time.After(10 * time.Second):
		c.t.Fatal("did not stop on SIGTERM")
	}
	if _, err := os.Stat(c.ready); !os.IsNotExist(err) {
		c.t.Errorf("ready file left behind: %v", err)
	}
	return c.stdout.String(), c.stderr.String()
}

// getBody fetches url and returns the status and body.
func getBody(t *testing.T, client *http.Client, url string) (int, []byte) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestRun_endToEnd(t *testing.T) {
	c, info := startCommand(t, "-scenario finished -code topsecret -agent-period 5ms")
	if !strings.HasPrefix(info.WebhookURL, "http://127.0.0.1:") || !strings.HasSuffix(info.WebhookURL, "/rest/1/topsecret/") ||
		info.ProcessID == 0 || info.CACertFile != "" {
		t.Fatalf("ready file: %+v", info)
	}

	_, body := getBody(t, http.DefaultClient, info.WebhookURL+"configuration.import.get.json?processId="+strconv.FormatInt(info.ProcessID, 10))
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

	stdout, logs := c.stop()
	wantOut := "webhook_url=" + info.WebhookURL + "\nprocess_id=" + strconv.FormatInt(info.ProcessID, 10) + "\n"
	if stdout != wantOut {
		t.Errorf("stdout %q, want %q", stdout, wantOut)
	}
	if strings.Contains(logs, "topsecret") || !strings.Contains(logs, "GET 200 /rest/1/***/configuration.import.get.json") {
		t.Errorf("stderr:\n%s", logs)
	}
}

func TestRun_endToEndTLS(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	c, info := startCommand(t, "-tls -ca-file "+caFile+" -rate-limit standard"+
		" -fault server.time=502 -fault configuration.import.get=bom")
	if !strings.HasPrefix(info.WebhookURL, "https://127.0.0.1:") || info.CACertFile != caFile {
		t.Fatalf("ready file: %+v", info)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}

	// A client that does not know the CA never reaches the portal, so the
	// faults are still there afterwards.
	plain := &http.Client{Transport: &http.Transport{}}
	var unknownAuthority x509.UnknownAuthorityError
	if _, err := plain.Get(info.WebhookURL + "server.time"); !errors.As(err, &unknownAuthority) {
		t.Errorf("a client without the CA: %v, want x509.UnknownAuthorityError", err)
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no certificate in %s: %q", caFile, caPEM)
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if status, _ := getBody(t, trusting, info.WebhookURL+"server.time"); status != http.StatusBadGateway {
		t.Errorf("scripted fault: HTTP %d", status)
	}
	if status, _ := getBody(t, trusting, info.WebhookURL+"server.time"); status != http.StatusOK {
		t.Errorf("after the fault: HTTP %d", status)
	}
	if _, body := getBody(t, trusting, info.WebhookURL+"configuration.import.get?processId=1"); !bytes.HasPrefix(body, []byte("\uFEFF{")) {
		t.Errorf("bom: %q", body)
	}

	stdout, logs := c.stop()
	if !strings.HasPrefix(stdout, "webhook_url="+info.WebhookURL+"\n") || !strings.HasSuffix(stdout, "ca_cert_file="+caFile+"\n") {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(logs, "rate limit standard, 2 scripted faults") {
		t.Errorf("stderr:\n%s", logs)
	}
	if _, err := os.Stat(caFile); err != nil {
		t.Errorf("the CA file is gone: %v", err)
	}
}

// register calls configuration.import.register with a JSON body and
// returns the status and body.
func register(t *testing.T, webhookURL, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(webhookURL+"configuration.import.register.json", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

// An import registered with the registry pages' call fails at the step
// -fail-at names, as a failed import does on the portal, and the command
// says at start which step fails.
func TestRun_failAt(t *testing.T) {
	c, info := startCommand(t, "-agent-period 5ms -fail-at load:LANDING:0")
	status, body := register(t, info.WebhookURL, docsRegisterBody(t))
	var registered struct{ Result struct{ ProcessID int64 } }
	if err := json.Unmarshal(body, &registered); status != http.StatusOK || err != nil || registered.Result.ProcessID == 0 {
		t.Fatalf("register: HTTP %d %s", status, body)
	}
	url := info.WebhookURL + "configuration.import.get.json?processId=" + strconv.FormatInt(registered.Result.ProcessID, 10)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = getBody(t, http.DefaultClient, url)
		if bytes.Contains(body, []byte(`"status":"E"`)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := `{"status":"E","exception":[{"code":"","message":"The import stopped at load:LANDING:0: bitrix24-emulator -fail-at made this step fail.","type":"exception"}],` +
		`"progress":{"action":"load","step":0,"section":"LANDING"}}`
	var got struct{ Result json.RawMessage }
	if err := json.Unmarshal(body, &got); err != nil || string(got.Result) != want {
		t.Errorf("get: %s\nwant result %s", body, want)
	}
	if _, logs := c.stop(); !strings.Contains(logs, `imports fail at load:LANDING:0 with the exception "The import stopped at load:LANDING:0`) {
		t.Errorf("stderr:\n%s", logs)
	}
}

// A webhook without the configuration.import scope gets the portal's
// insufficient_scope for the import methods.
func TestRun_scopes(t *testing.T) {
	c, info := startCommand(t, "-scopes crm,user -scenario finished")
	status, body := getBody(t, http.DefaultClient, info.WebhookURL+"configuration.import.get.json?processId="+strconv.FormatInt(info.ProcessID, 10))
	want := `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the webhook token"}`
	if status != http.StatusUnauthorized || string(body) != want {
		t.Errorf("get: HTTP %d %s, want 401 %s", status, body, want)
	}
	if status, body := register(t, info.WebhookURL, docsRegisterBody(t)); status != http.StatusUnauthorized {
		t.Errorf("register: HTTP %d %s, want 401", status, body)
	}
	if _, logs := c.stop(); !strings.Contains(logs, `the webhook has the scopes ["crm" "user"], not configuration.import`) {
		t.Errorf("stderr:\n%s", logs)
	}
}
