// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// TestMain refuses to run without a Terraform CLI: terraform-plugin-testing
// would otherwise try to download one, which fails without network in a way
// that is hard to read.
func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if _, err := exec.LookPath("terraform"); err != nil {
			fmt.Fprintln(os.Stderr, "These tests run the real Terraform CLI (>= 1.5), and none was found: "+
				"put terraform on PATH or set TF_ACC_TERRAFORM_PATH to its path.")
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// testPollInterval stands in for wait.poll_interval in tests, so that a wait
// against an emulator with a millisecond agent takes milliseconds.
const testPollInterval = 20 * time.Millisecond

// testProviderFactories serves the provider in-process: no download, no
// registry, with the test poll interval and fast retries. The rate limit is
// off: polls every 20 ms would meet it within a second.
func testProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return testProviderFactoriesWith(func(p *bitrix24Provider) {
		p.pollIntervalOverride = testPollInterval
		p.configureClient = func(cfg *bitrix24.Config) {
			fastRetries(cfg)
			cfg.RateLimit = 0
		}
	})
}

// testProviderFactoriesWith serves a provider that setUp adjusts.
func testProviderFactoriesWith(setUp func(*bitrix24Provider)) map[string]func() (tfprotov6.ProviderServer, error) {
	p := &bitrix24Provider{version: "test"}
	setUp(p)
	return map[string]func() (tfprotov6.ProviderServer, error){
		"bitrix24": func() (tfprotov6.ProviderServer, error) {
			provider := *p // a fresh provider per Terraform run, as the CLI starts one
			return newProtocolServer(&provider), nil
		},
	}
}

// fastRetries keeps the retry policy but shortens its backoff to
// milliseconds.
func fastRetries(cfg *bitrix24.Config) {
	cfg.RetryWaitMin = 5 * time.Millisecond
	cfg.RetryWaitMax = 50 * time.Millisecond
}

// offlineProviderConfig names a portal that is never called: for steps that
// fail validation first.
const offlineProviderConfig = `
provider "bitrix24" {
  webhook_url = "https://portal.example.com/rest/1/offlinec0de4tests/"
}
`

// testPortal is an emulated portal on loopback.
type testPortal struct {
	*emulator.Portal
	server *httptest.Server

	mu          sync.Mutex
	onFirstPoll func()         // called once, at the first configuration.import.get
	beforePoll  func(poll int) // called before every configuration.import.get, counting from 1
	polls       int
}

const testWebhookCode = "s3cr3tc0de4tests"

// newTestPortal starts an emulator whose agent moves only when the test says
// so, unless cfg sets an AgentPeriod.
func newTestPortal(t *testing.T, cfg emulator.Config) *testPortal {
	t.Helper()
	if cfg.AgentPeriod == 0 {
		cfg.AgentPeriod = -1
	}
	if cfg.WebhookCode == "" {
		cfg.WebhookCode = testWebhookCode
	}
	portal := &testPortal{Portal: emulator.New(cfg)}
	portal.Start()
	portal.server = httptest.NewServer(http.HandlerFunc(portal.serveWithHooks))
	t.Cleanup(func() {
		portal.server.Close()
		portal.Close()
	})
	return portal
}

// portalWithImport is newTestPortal with the agent still, and an import of
// script created on it.
func portalWithImport(t *testing.T, script emulator.Script) (*testPortal, int64) {
	t.Helper()
	portal := newTestPortal(t, emulator.Config{})
	return portal, portal.CreateProcess(script)
}

// portalWithEndedImport is portalWithImport with the import run to its end.
func portalWithEndedImport(t *testing.T, script emulator.Script) (*testPortal, int64) {
	t.Helper()
	portal, id := portalWithImport(t, script)
	portal.RunToEnd(id)
	return portal, id
}

// portalWithRunningImport is portalWithImport with the agent running the
// import every period from the first poll on.
func portalWithRunningImport(t *testing.T, script emulator.Script, period time.Duration) (*testPortal, int64) {
	t.Helper()
	portal, id := portalWithImport(t, script)
	portal.runAgentFromFirstPoll(t, id, period)
	return portal, id
}

// countedConfig is one `block "many"` per process id of ids (HCL literals),
// by count over local.ids: plugin-testing's state checks do not support
// for_each. block is `data "bitrix24_configuration_import"` or `resource
// "bitrix24_configuration_import_wait"`.
func countedConfig(block string, ids []string) string {
	return fmt.Sprintf(`
locals {
  ids = [%s]
}

%s "many" {
  count      = length(local.ids)
  process_id = local.ids[count.index]
}
`, strings.Join(ids, ", "), block)
}

// newTLSTestPortal is newTestPortal over HTTPS, with a certificate from a CA
// of the emulator's own that no system trusts; it returns that CA's PEM.
func newTLSTestPortal(t *testing.T, cfg emulator.Config) (*testPortal, []byte) {
	t.Helper()
	certs, err := emulator.NewTLSCerts()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WebhookCode == "" {
		cfg.WebhookCode = testWebhookCode
	}
	cfg.AgentPeriod = -1
	cfg.RequireHTTPS = true
	portal := &testPortal{Portal: emulator.New(cfg)}
	portal.server = httptest.NewUnstartedServer(http.HandlerFunc(portal.serveWithHooks))
	portal.server.TLS = certs.ServerConfig
	portal.server.StartTLS()
	t.Cleanup(func() {
		portal.server.Close()
		portal.Close()
	})
	return portal, certs.CAPEM
}

func (p *testPortal) serveWithHooks(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(strings.ToLower(r.URL.Path), "/configuration.import.get") {
		p.mu.Lock()
		hook, before := p.onFirstPoll, p.beforePoll
		p.onFirstPoll = nil
		p.polls++
		poll := p.polls
		p.mu.Unlock()
		if hook != nil {
			hook()
		}
		if before != nil {
			before(poll)
		}
	}
	p.ServeHTTP(w, r)
}

// runAgentFromFirstPoll advances one process every period, starting when the
// provider first polls it. Terraform's init and plan take a varying time, so
// an agent started with the test could finish the import before the data
// source is read at all; this way the read must wait through every step.
func (p *testPortal) runAgentFromFirstPoll(t *testing.T, id int64, period time.Duration) {
	t.Helper()
	done := make(chan struct{})
	var agent sync.WaitGroup
	t.Cleanup(func() {
		close(done)
		agent.Wait()
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onFirstPoll = func() {
		agent.Go(func() {
			ticker := time.NewTicker(period)
			defer ticker.Stop()
			for {
				select {
				case <-done:
					return
				case <-ticker.C:
					p.Advance(id, 1)
					if info, _ := p.Process(id); info.Status != "S" && info.Status != "P" {
						return
					}
				}
			}
		})
	}
}

func (p *testPortal) webhookURL() string {
	return p.server.URL + p.WebhookPath()
}

// providerConfig is the provider block pointing at the portal.
func (p *testPortal) providerConfig() string {
	return fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n}\n", p.webhookURL())
}

// testConfig reads testdata/name, a configuration with fmt verbs, and fills
// them with args.
func testConfig(t *testing.T, name string, args ...any) string {
	t.Helper()
	format, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(string(format), args...)
}

// expectError matches an error pattern across the line breaks Terraform puts
// into long diagnostics: a space in the pattern matches any white space.
func expectError(pattern string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(pattern, " ", `\s+`))
}

// redactedErrorCheck stands in for ExpectError where an error must also not
// show a secret: ExpectError cannot say "does not contain", and ErrorCheck is
// not called when ExpectError is set.
type redactedErrorCheck struct {
	want   *regexp.Regexp
	secret string
	seen   bool
}

func (c *redactedErrorCheck) check(err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), c.secret):
		return fmt.Errorf("the error shows the webhook code: %w", err)
	case !c.want.MatchString(err.Error()):
		return fmt.Errorf("expected an error matching %s, got: %w", c.want, err)
	}
	c.seen = true
	return nil
}

func (c *redactedErrorCheck) requireSeen(t *testing.T) {
	t.Helper()
	if !c.seen {
		t.Fatalf("expected an error matching %s, got none", c.want)
	}
}

// unitTest runs steps with the real Terraform CLI against the in-process
// provider; TF_ACC is not needed.
func unitTest(t *testing.T, steps ...resource.TestStep) {
	t.Helper()
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps:                    steps,
	})
}

// warningRecorder serves the provider and keeps every warning it sends
// Terraform, through whichever call: terraform-plugin-testing has no
// ExpectWarning, and a warning is only seen by the CLI's user otherwise.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string // "Call: summary: detail"
}

// factories serves the test provider (as testProviderFactories does) through
// the recorder.
func (w *warningRecorder) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	inner := testProviderFactories()["bitrix24"]
	return map[string]func() (tfprotov6.ProviderServer, error){
		"bitrix24": func() (tfprotov6.ProviderServer, error) {
			server, err := inner()
			return &recordingServer{ProviderServer: server, recorder: w}, err
		},
	}
}

func (w *warningRecorder) record(call string, diags []*tfprotov6.Diagnostic) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityWarning {
			w.warnings = append(w.warnings, call+": "+d.Summary+": "+d.Detail)
		}
	}
}

// Warnings returns what was recorded so far.
func (w *warningRecorder) Warnings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.warnings...)
}

// recordingServer passes every call on, recording the warnings of those
// that can carry one of this provider's.
type recordingServer struct {
	tfprotov6.ProviderServer
	recorder *warningRecorder
}

func (s *recordingServer) ValidateProviderConfig(ctx context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	resp, err := s.ProviderServer.ValidateProviderConfig(ctx, req)
	if resp != nil {
		s.recorder.record("ValidateProviderConfig", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	resp, err := s.ProviderServer.ConfigureProvider(ctx, req)
	if resp != nil {
		s.recorder.record("ConfigureProvider", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	resp, err := s.ProviderServer.ValidateDataResourceConfig(ctx, req)
	if resp != nil {
		s.recorder.record("ValidateDataResourceConfig", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	resp, err := s.ProviderServer.ReadDataSource(ctx, req)
	if resp != nil {
		s.recorder.record("ReadDataSource", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	resp, err := s.ProviderServer.ValidateResourceConfig(ctx, req)
	if resp != nil {
		s.recorder.record("ValidateResourceConfig", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, err := s.ProviderServer.PlanResourceChange(ctx, req)
	if resp != nil {
		s.recorder.record("PlanResourceChange", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := s.ProviderServer.ApplyResourceChange(ctx, req)
	if resp != nil {
		s.recorder.record("ApplyResourceChange", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := s.ProviderServer.ReadResource(ctx, req)
	if resp != nil {
		s.recorder.record("ReadResource", resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	resp, err := s.ProviderServer.ImportResourceState(ctx, req)
	if resp != nil {
		s.recorder.record("ImportResourceState", resp.Diagnostics)
	}
	return resp, err
}
