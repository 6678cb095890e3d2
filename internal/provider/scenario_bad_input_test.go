// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// badInput is one configuration the provider must refuse with an error
// whose own text names the attribute at fault (Terraform points at the first
// line of a block, never inside an object such as wait or timeouts).
type badInput struct {
	name     string
	provider string            // extra provider attributes; the webhook is always there
	noHook   bool              // leave webhook_url out (it comes from env, or is missing)
	data     string            // data source attributes other than process_id; "" -> process_id = 1
	env      map[string]string // environment values; tests with env cannot run in parallel
	want     string            // expectError pattern; must mention the attribute
}

const secretPEMBlock = "-----BEGIN PRIVATE KEY-----\\nc2VjcmV0IGtleQ==\\n-----END PRIVATE KEY-----\\n"

var badInputs = []badInput{
	// Provider attributes.
	{name: "webhook_url on http off loopback", provider: "webhook_url = var.bad_url", want: `webhook_url is not a usable webhook URL: http is allowed only for a loopback host`},
	{name: "webhook_url without code", provider: `webhook_url = "https://portal.example.com/rest/1/"`, want: `webhook_url is not a usable webhook URL: the path has no webhook code`},
	{name: "webhook_url not a rest path", provider: `webhook_url = "https://portal.example.com/crm/deal/"`, want: `webhook_url is not a usable webhook URL: the path must start with /rest/`},
	{name: "webhook_url without https://", provider: `webhook_url = "portal.example.com/rest/1/literalc0de4tests/"`, want: `webhook_url is not a usable webhook URL: it must start with https://`},
	{name: "webhook_url with a port but no https://", provider: `webhook_url = "portal.example.com:443/rest/1/literalc0de4tests/"`, want: `webhook_url is not a usable webhook URL: it must start with https://`},
	{name: "webhook_url user id not a number", provider: `webhook_url = "https://portal.example.com/rest/admin/literalc0de4tests/"`, want: `webhook_url .* user id after /rest/ must be a number`},
	{name: "webhook_url code too short", provider: `webhook_url = "https://portal.example.com/rest/1/abc123/"`, want: `webhook_url .* shorter than the 16 characters the portal issues`},
	{name: "webhook_url is a method URL", provider: `webhook_url = "https://portal.example.com/rest/1/literalc0de4tests/profile.json"`, want: `webhook_url is not a usable webhook URL: .*not a method URL`},
	{name: "webhook_url with a query", provider: "webhook_url = var.url_with_query", want: `webhook_url is not a usable webhook URL: the URL must not have a query string`},
	{name: "webhook_url unknown at plan time", provider: "webhook_url = terraform_data.later.output", want: `webhook_url depends on a value that is known only after apply.*BITRIX24_WEBHOOK_URL`},
	{name: "ca_cert_pem not PEM", provider: `ca_cert_pem = "my-ca.crt"`, want: `ca_cert_pem is not a usable CA certificate: no PEM certificate found`},
	{name: "ca_cert_pem holds a private key", provider: `ca_cert_pem = "` + secretPEMBlock + `"`, want: `ca_cert_pem is not a usable CA certificate: the PEM holds a "PRIVATE KEY" block`},
	{name: "ca_cert_pem unknown at plan time", provider: "ca_cert_pem = terraform_data.later.output", want: `ca_cert_pem depends on a value that is known only after apply.*BITRIX24_CA_CERT_PEM`},
	{name: "max_retries negative", provider: "max_retries = -1", want: `Invalid retry count.*max_retries must be a whole number from 0 to 10, such as 5; got -1`},
	{name: "max_retries too many", provider: "max_retries = 11", want: `Invalid retry count.*max_retries must be a whole number from 0 to 10, such as 5; got 11`},
	{name: "max_retries far too many", provider: "max_retries = 20", want: `Invalid retry count.*max_retries must be a whole number from 0 to 10, such as 5; got 20`},
	{name: "max_retries not a number", provider: `max_retries = "often"`, want: `Inappropriate value for attribute "max_retries"`},
	{name: "max_retries unknown at plan time", provider: "max_retries = length(terraform_data.later.output)", want: `max_retries depends on a value that is known only after apply.*BITRIX24_MAX_RETRIES`},
	{name: "rate_limit zero", provider: "rate_limit = 0", want: `rate_limit must be a number of requests per second greater than 0`},
	{name: "rate_limit negative", provider: "rate_limit = -2", want: `rate_limit must be a number of requests per second greater than 0.*got -2`},
	{name: "rate_burst zero", provider: "rate_burst = 0", want: `Invalid rate burst.*rate_burst must be a whole number from 1 to 10000, such as 50 \(standard plans\) or 250 \(Enterprise\); got 0`},

	// Environment values, for attributes left out.
	{name: "BITRIX24_WEBHOOK_URL missing", noHook: true, env: map[string]string{envVarOf("webhook_url"): ""}, want: `Missing Bitrix24 webhook URL.*Set webhook_url .* BITRIX24_WEBHOOK_URL`},
	{name: "BITRIX24_WEBHOOK_URL malformed", noHook: true, env: map[string]string{envVarOf("webhook_url"): "https://portal.example.com/rest/1/"}, want: `BITRIX24_WEBHOOK_URL environment variable \(used because webhook_url is not set\) is not a usable webhook URL`},
	{name: "BITRIX24_WEBHOOK_URL without https://", noHook: true, env: map[string]string{envVarOf("webhook_url"): "portal.example.com/rest/1/" + testWebhookCode + "/"}, want: `BITRIX24_WEBHOOK_URL environment variable .* is not a usable webhook URL: it must start with https://`},
	{name: "BITRIX24_WEBHOOK_URL with the code in a query", noHook: true, env: map[string]string{envVarOf("webhook_url"): "https://portal.example.com/rest/1/" + testWebhookCode + "/?auth=" + testWebhookCode}, want: `BITRIX24_WEBHOOK_URL environment variable .* must not have a query string`},
	{name: "BITRIX24_MAX_RETRIES not a number", env: map[string]string{envVarOf("max_retries"): "lots"}, want: `BITRIX24_MAX_RETRIES environment variable \(used because max_retries is not set\) must be a whole number from 0 to 10.*"lots"`},
	{name: "BITRIX24_MAX_RETRIES too many", env: map[string]string{envVarOf("max_retries"): "99"}, want: `BITRIX24_MAX_RETRIES .* max_retries .*"99"`},
	{name: "BITRIX24_RATE_LIMIT zero", env: map[string]string{envVarOf("rate_limit"): "0"}, want: `BITRIX24_RATE_LIMIT environment variable \(used because rate_limit is not set\) must be a number of requests per second`},
	{name: "BITRIX24_RATE_LIMIT not a number", env: map[string]string{envVarOf("rate_limit"): "fast"}, want: `BITRIX24_RATE_LIMIT .* rate_limit .*"fast"`},
	{name: "BITRIX24_RATE_BURST negative", env: map[string]string{envVarOf("rate_burst"): "-1"}, want: `BITRIX24_RATE_BURST environment variable \(used because rate_burst is not set\) must be a whole number from 1`},
	{name: "BITRIX24_CA_CERT_PEM not PEM", env: map[string]string{envVarOf("ca_cert_pem"): "/etc/ssl/company-ca.pem"}, want: `BITRIX24_CA_CERT_PEM environment variable \(used because ca_cert_pem is not set\) is not a usable CA certificate`},

	// Data source attributes.
	{name: "process_id empty", data: `process_id = ""`, want: `process_id must be the positive whole number .*: it is empty`},
	{name: "process_id not a number", data: `process_id = "abc"`, want: `process_id must be .* digits only`},
	{name: "process_id fraction", data: `process_id = 1.5`, want: `process_id must be .* digits only`},
	{name: "process_id zero", data: `process_id = 0`, want: `process_id must be .*: 0 is not greater than zero`},
	{name: "process_id negative", data: `process_id = -5`, want: `process_id must be the positive whole number .*: -5 is negative`},
	{name: "process_id too large", data: `process_id = "99999999999999999999"`, want: `process_id must be .* too large`},
	{name: "process_id bad once known", data: `process_id = terraform_data.later.output`, want: `process_id must be .* digits only`},
	{name: "wait.poll_interval zero", data: `wait { poll_interval = "0s" }`, want: `wait.poll_interval must be at least 1s; got "0s"`},
	{name: "wait.poll_interval negative", data: `wait { poll_interval = "-1m" }`, want: `wait.poll_interval must be at least 1s; got "-1m"`},
	{name: "wait.poll_interval below a second", data: `wait { poll_interval = "500ms" }`, want: `wait.poll_interval must be at least 1s; got "500ms"`},
	{name: "wait.poll_interval not a duration", data: `wait { poll_interval = "every minute" }`, want: `wait.poll_interval must be a duration: a number with a unit, such as "1m".*got "every minute"`},
	{name: "wait.poll_interval bad once known", data: `wait { poll_interval = terraform_data.later.output }`, want: `wait.poll_interval must be a duration: a number with a unit.*got "not-a-process-id"`},
	{name: "wait.fail_on_error not a bool", data: `wait { fail_on_error = "sometimes" }`, want: `Inappropriate value for attribute "fail_on_error": a bool is required`},
	{name: "timeouts.read not a duration", data: `timeouts { read = "soon" }`, want: `timeouts.read must be a duration: a number with a unit.*got "soon"`},
	{name: "timeouts.read zero", data: `timeouts { read = "0s" }`, want: `timeouts.read must be at least 1s; got "0s"`},
	{name: "timeouts.read negative", data: `timeouts { read = "-5m" }`, want: `timeouts.read must be at least 1s; got "-5m"`},
}

// badInputConfig writes a configuration for one bad input. The webhook code
// is the test's secret, always behind a sensitive variable, so that any
// appearance of it in the output is the provider's doing, not Terraform
// quoting the configuration.
func badInputConfig(t *testing.T, in badInput) string {
	var b strings.Builder
	b.WriteString(testConfig(t, "bad_input_preamble.tf.tmpl", testWebhookCode))
	if !in.noHook && !strings.Contains(in.provider, "webhook_url") {
		b.WriteString("  webhook_url = var.webhook_url\n")
	}
	if in.provider != "" {
		b.WriteString("  " + in.provider + "\n")
	}
	b.WriteString("}\n\ndata \"bitrix24_configuration_import\" \"test\" {\n")
	if !strings.Contains(in.data, "process_id") {
		b.WriteString("  process_id = 1\n")
	}
	if in.data != "" {
		b.WriteString("  " + in.data + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func runBadInput(t *testing.T, in badInput) {
	t.Helper()
	check := &redactedErrorCheck{want: expectError(in.want), secret: testWebhookCode}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		ErrorCheck:               check.check,
		Steps:                    []resource.TestStep{{Config: badInputConfig(t, in)}},
	})
	check.requireSeen(t)
}

func TestAccProvider_badInputsNameTheirAttribute(t *testing.T) {
	t.Parallel()
	for _, in := range badInputs {
		if in.env != nil {
			continue
		}
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			runBadInput(t, in)
		})
	}
}

// Environment values need t.Setenv, which rules out t.Parallel.
func TestAccProvider_badEnvironmentValuesNameTheirAttribute(t *testing.T) {
	for _, in := range badInputs {
		if in.env == nil {
			continue
		}
		t.Run(in.name, func(t *testing.T) {
			for k, v := range in.env {
				t.Setenv(k, v)
			}
			runBadInput(t, in)
		})
	}
}
