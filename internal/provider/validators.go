// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

const webhookURLExample = "https://your-portal.bitrix24.com/rest/1/<webhook code>/"

// stringValidator is the validator of a string setting: description says
// what a good value is, and check adds an error for a bad one, naming the
// setting at (Terraform points at the first line of a block, not inside it).
// Null and unknown values pass: an unknown one is checked where it is read.
type stringValidator struct {
	description string
	check       func(at path.Path, value string, diags *diag.Diagnostics)
}

var _ validator.String = stringValidator{}

func (v stringValidator) Description(context.Context) string         { return v.description }
func (v stringValidator) MarkdownDescription(context.Context) string { return v.description }

func (v stringValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		v.check(req.Path, req.ConfigValue.ValueString(), &resp.Diagnostics)
	}
}

// webhookURLValidator checks an explicit webhook_url at validate time. The
// error never repeats the value: it holds the webhook's secret code.
var webhookURLValidator = stringValidator{"value must be an incoming webhook URL like " + webhookURLExample,
	func(at path.Path, value string, diags *diag.Diagnostics) {
		if _, err := bitrix24.ParseWebhookURL(value); err != nil {
			diags.AddAttributeError(at, "Invalid Bitrix24 webhook URL", invalidWebhookURLDetail("webhook_url", value, err))
		}
	}}

// invalidWebhookURLDetail says what is wrong with the webhook URL raw and
// what a good one looks like, naming where the value came from but not the
// value.
func invalidWebhookURLDetail(source, raw string, err error) string {
	reason := err.Error()
	var urlErr *bitrix24.WebhookURLError
	if errors.As(err, &urlErr) {
		reason = urlErr.Reason
	}
	// The client judges a URL as a URL ("not an absolute URL", "not a valid
	// URL"); a value without a scheme is a portal's address typed without it.
	if value := strings.TrimSpace(raw); value != "" && !strings.Contains(value, "://") {
		reason = "it must start with https://"
	}
	return fmt.Sprintf("The value of %s is not a usable webhook URL: %s. A webhook URL looks like %s. "+
		"Set webhook_url, or the %s environment variable, to the URL of an incoming webhook of the portal.",
		source, reason, webhookURLExample, envWebhookURL)
}

// parseProcessID accepts the decimal ids the portal hands out: digits only,
// greater than zero, within int64. Its errors say what the value is, in the
// terms of the rule "a positive whole number".
func parseProcessID(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("it is empty")
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a whole number: a process id is made of digits only", s)
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	switch {
	case digits != s && strings.Trim(digits, "0") != "":
		return 0, fmt.Errorf("%s is negative", s)
	case err != nil:
		return 0, fmt.Errorf("%s is too large for a process id", s)
	case id == 0:
		return 0, fmt.Errorf("%s is not greater than zero", s)
	}
	return id, nil
}

var processIDValidator = stringValidator{"value must be a positive whole number, the processId that configuration.import.register returned",
	func(at path.Path, value string, diags *diag.Diagnostics) {
		if _, err := parseProcessID(value); err != nil {
			diags.AddAttributeError(at, "Invalid process id", processIDProblem(err))
		}
	}}

// processIDProblem says what a good process_id is and why the value is not.
func processIDProblem(err error) string {
	return fmt.Sprintf("process_id must be the positive whole number that configuration.import.register returned as processId, such as 42: %s.", err)
}

// durationValidator checks a duration setting with parseDuration. Advice
// about values that are valid but costly is not given here, at every
// validation, but by the wait that uses them (waitSettings.warn).
func durationValidator(shortest time.Duration) stringValidator {
	return stringValidator{fmt.Sprintf("value must be a duration such as \"1m\" or \"90s\", at least %s", shortest),
		func(at path.Path, value string, diags *diag.Diagnostics) {
			_, d := parseDuration(at, value, shortest)
			diags.Append(d...)
		}}
}

// parseDuration reads the duration setting at (wait.poll_interval,
// timeouts.read, ...), no shorter than shortest: the one parser, and the one
// message, of validation and of a value that was unknown then. The message
// names the setting itself: Terraform points at the first line of a block,
// not inside it.
func parseDuration(at path.Path, raw string, shortest time.Duration) (time.Duration, diag.Diagnostics) {
	var diags diag.Diagnostics
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		diags.AddAttributeError(at, "Invalid duration",
			fmt.Sprintf("%s must be a duration: a number with a unit, such as \"1m\", \"90s\" or \"1h30m\"; got %q.", at, raw))
	case d < shortest:
		diags.AddAttributeError(at, "Duration too short", fmt.Sprintf("%s must be at least %s; got %q.", at, shortest, raw))
	}
	return d, diags
}

// caCertPEMValidator checks that ca_cert_pem holds certificates, without
// quoting it back.
var caCertPEMValidator = stringValidator{"value must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----)",
	func(at path.Path, value string, diags *diag.Diagnostics) {
		if _, err := bitrix24.ParseCACertPEM([]byte(value)); err != nil {
			diags.AddAttributeError(at, "Invalid CA certificate",
				fmt.Sprintf("%s is not a usable CA certificate: %s. Give the PEM text of the CA that signed the portal's "+
					"certificate, such as file(\"company-ca.pem\").", at, err))
		}
	}}

// rateLimitRule says what a good rate_limit is.
const rateLimitRule = "must be a number of requests per second greater than 0 and at most 1000, " +
	"such as 2 (standard plans) or 5 (Enterprise)"

type rateLimitValidator struct{}

var _ validator.Float64 = rateLimitValidator{}

func (rateLimitValidator) Description(context.Context) string {
	return "value " + rateLimitRule
}

func (v rateLimitValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (rateLimitValidator) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if f := req.ConfigValue.ValueFloat64(); !(f > 0 && f <= maxRateLimit) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid rate limit",
			fmt.Sprintf("%s %s; got %g.", req.Path, rateLimitRule, f))
	}
}

// wholeNumberSetting is the rule of a whole-number provider setting, stated
// in the same words for the attribute and for its environment variable.
type wholeNumberSetting struct {
	name     string // "max_retries"
	summary  string // "Invalid retry count"
	min, max int64
	example  string // "such as 5"
}

func (r wholeNumberSetting) rule() string {
	return fmt.Sprintf("must be a whole number from %d to %d, %s", r.min, r.max, r.example)
}

var (
	maxRetriesSetting = wholeNumberSetting{name: "max_retries", summary: "Invalid retry count", min: minMaxRetries, max: maxMaxRetries, example: "such as 5"}
	rateBurstSetting  = wholeNumberSetting{name: "rate_burst", summary: "Invalid rate burst", min: 1, max: maxRateBurst,
		example: "such as 50 (standard plans) or 250 (Enterprise)"}
)

// wholeNumberValidator gives an out-of-range attribute the project's own
// message, the one its environment variable gets.
type wholeNumberValidator struct{ setting wholeNumberSetting }

var _ validator.Int64 = wholeNumberValidator{}

func (v wholeNumberValidator) Description(context.Context) string {
	return "value " + v.setting.rule()
}

func (v wholeNumberValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v wholeNumberValidator) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if n := req.ConfigValue.ValueInt64(); n < v.setting.min || n > v.setting.max {
		resp.Diagnostics.AddAttributeError(req.Path, v.setting.summary,
			fmt.Sprintf("%s %s; got %d.", req.Path, v.setting.rule(), n))
	}
}
