// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

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
// registry, with the test poll interval.
func testProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"bitrix24": providerserver.NewProtocol6WithError(&bitrix24Provider{
			version:              "test",
			pollIntervalOverride: testPollInterval,
		}),
	}
}

// offlineProviderConfig names a portal that is never called: for steps that
// fail validation first.
const offlineProviderConfig = `
provider "bitrix24" {
  webhook_url = "https://portal.example.com/rest/1/abc123/"
}
`

// testPortal is an emulated portal on loopback.
type testPortal struct {
	*emulator.Portal
	server *httptest.Server

	mu          sync.Mutex
	onFirstPoll func() // called once, at the first configuration.import.get
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

func (p *testPortal) serveWithHooks(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(strings.ToLower(r.URL.Path), "/configuration.import.get") {
		p.mu.Lock()
		hook := p.onFirstPoll
		p.onFirstPoll = nil
		p.mu.Unlock()
		if hook != nil {
			hook()
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

func TestProvider_webhookURLValidation(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		url  string
		want string
	}{
		"plain http off loopback": {"http://portal.example.com/rest/1/abc123/", `Invalid Bitrix24 webhook URL.*https`},
		"no code":                 {"https://portal.example.com/rest/1/", `Invalid Bitrix24 webhook URL.*rest/1/<webhook code>/`},
		"not a rest path":         {"https://portal.example.com/crm/deal/", `Invalid Bitrix24 webhook URL.*BITRIX24_WEBHOOK_URL`},
		"relative":                {"portal.example.com/rest/1/abc123/", `Invalid Bitrix24 webhook URL`},
		"user id not a number":    {"https://portal.example.com/rest/admin/abc123/", `Invalid Bitrix24 webhook URL`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			unitTest(t, resource.TestStep{
				Config: fmt.Sprintf(`
provider "bitrix24" {
  webhook_url = %q
}

data "bitrix24_configuration_import" "test" {
  process_id = 1
}
`, tc.url),
				ExpectError: expectError(tc.want),
			})
		})
	}
}

// The secret code never appears in a validation error: the test's code is
// long and distinctive, and an error that echoed it would be caught here.
func TestProvider_webhookURLErrorHidesCode(t *testing.T) {
	t.Parallel()
	check := &redactedErrorCheck{want: expectError(`Invalid Bitrix24 webhook URL.*http is allowed only for a loopback host`), secret: testWebhookCode}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		ErrorCheck:               check.check,
		Steps: []resource.TestStep{{
			// A sensitive variable, so that Terraform's own source snippet
			// does not show the value either.
			Config: `
variable "webhook_url" {
  type      = string
  sensitive = true
  default   = "http://portal.example.com/rest/1/s3cr3tc0de4tests/"
}

provider "bitrix24" {
  webhook_url = var.webhook_url
}

data "bitrix24_configuration_import" "test" {
  process_id = 1
}
`,
		}},
	})
	check.requireSeen(t)
}

func TestProvider_missingWebhookURL(t *testing.T) {
	t.Setenv(webhookURLEnvVar, "")
	unitTest(t, resource.TestStep{
		Config: `
data "bitrix24_configuration_import" "test" {
  process_id = 1
}
`,
		ExpectError: expectError(`Missing Bitrix24 webhook URL.*BITRIX24_WEBHOOK_URL`),
	})
}

func TestProvider_webhookURLFromEnvironment(t *testing.T) {
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	t.Setenv(webhookURLEnvVar, portal.webhookURL())
	unitTest(t, resource.TestStep{
		Config: fmt.Sprintf(`
data "bitrix24_configuration_import" "test" {
  process_id = %d
}
`, id),
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("S"))},
	})
}

func TestProvider_malformedWebhookURLInEnvironment(t *testing.T) {
	t.Setenv(webhookURLEnvVar, "https://portal.example.com/rest/1/")
	unitTest(t, resource.TestStep{
		Config: `
data "bitrix24_configuration_import" "test" {
  process_id = 1
}
`,
		ExpectError: expectError(`Invalid Bitrix24 webhook URL.*BITRIX24_WEBHOOK_URL\s+environment\s+variable`),
	})
}

// An explicit webhook_url wins over the environment, even a malformed one.
func TestProvider_explicitWebhookURLWinsOverEnvironment(t *testing.T) {
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	t.Setenv(webhookURLEnvVar, "not a url")
	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + fmt.Sprintf(`
data "bitrix24_configuration_import" "test" {
  process_id = %d
}
`, id),
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("S"))},
	})
}

func TestProvider_unknownWebhookURL(t *testing.T) {
	t.Parallel()
	unitTest(t, resource.TestStep{
		Config: `
resource "terraform_data" "url" {
  input = "https://portal.example.com/rest/1/abc123/"
}

provider "bitrix24" {
  webhook_url = terraform_data.url.output
}

data "bitrix24_configuration_import" "test" {
  process_id = 1
}
`,
		ExpectError: expectError(`Unknown Bitrix24 webhook URL.*BITRIX24_WEBHOOK_URL`),
	})
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
