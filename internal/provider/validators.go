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

// settingValidator is the validator of a setting: the check of the
// setting's type adds an error naming the setting at, since Terraform points
// at the first line of a block, not inside it. Null and unknown values pass:
// an unknown one is checked where it is read.
type settingValidator struct {
	description string
	check       func(at path.Path, value string, diags *diag.Diagnostics)
	checkFloat  func(at path.Path, value float64, diags *diag.Diagnostics)
	checkInt    func(at path.Path, value int64, diags *diag.Diagnostics)
}

func (v settingValidator) Description(context.Context) string         { return v.description }
func (v settingValidator) MarkdownDescription(context.Context) string { return v.description }

func (v settingValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		v.check(req.Path, req.ConfigValue.ValueString(), &resp.Diagnostics)
	}
}

func (v settingValidator) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		v.checkFloat(req.Path, req.ConfigValue.ValueFloat64(), &resp.Diagnostics)
	}
}

func (v settingValidator) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if !req.ConfigValue.IsNull() && !req.ConfigValue.IsUnknown() {
		v.checkInt(req.Path, req.ConfigValue.ValueInt64(), &resp.Diagnostics)
	}
}

// webhookURLValidator never repeats the value: it holds the secret code.
var webhookURLValidator = settingValidator{description: "value must be an incoming webhook URL like " + webhookURLExample,
	check: func(at path.Path, value string, diags *diag.Diagnostics) {
		if _, err := bitrix24.ParseWebhookURL(value); err != nil {
			diags.AddAttributeError(at, "Invalid Bitrix24 webhook URL", invalidWebhookURLDetail("webhook_url", value, err))
		}
	}}

// invalidWebhookURLDetail says what is wrong with the webhook URL raw,
// naming where it came from but not the value.
func invalidWebhookURLDetail(source, raw string, err error) string {
	reason := err.Error()
	var urlErr *bitrix24.WebhookURLError
	if errors.As(err, &urlErr) {
		reason = urlErr.Reason
	}
	// A value without a scheme is a portal's address, not a bad URL.
	if value := strings.TrimSpace(raw); value != "" && !strings.Contains(value, "://") {
		reason = "it must start with https://"
	}
	return fmt.Sprintf("The value of %s is not a usable webhook URL: %s. A webhook URL looks like %s. "+
		"Set webhook_url, or the %s environment variable, to the URL of an incoming webhook of the portal.",
		source, reason, webhookURLExample, envVarOf("webhook_url"))
}

// parseProcessID accepts the ids the portal hands out: digits only, greater
// than zero, within int64.
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

var processIDValidator = settingValidator{description: "value must be a positive whole number, the processId that configuration.import.register returned",
	check: func(at path.Path, value string, diags *diag.Diagnostics) {
		if _, err := parseProcessID(value); err != nil {
			diags.AddAttributeError(at, "Invalid process id", processIDProblem(err))
		}
	}}

func processIDProblem(err error) string {
	return fmt.Sprintf("process_id must be the positive whole number that configuration.import.register returned as processId, such as 42: %s.", err)
}

func durationValidator(shortest time.Duration) settingValidator {
	return settingValidator{description: fmt.Sprintf("value must be a duration such as \"1m\" or \"90s\", at least %s", shortest),
		check: func(at path.Path, value string, diags *diag.Diagnostics) {
			parseDuration(at, value, shortest, diags)
		}}
}

// parseDuration reads the duration setting at, no shorter than shortest:
// the one parser of validation and of a value that was unknown then.
func parseDuration(at path.Path, raw string, shortest time.Duration, diags *diag.Diagnostics) time.Duration {
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		diags.AddAttributeError(at, "Invalid duration",
			fmt.Sprintf("%s must be a duration: a number with a unit, such as \"1m\", \"90s\" or \"1h30m\"; got %q.", at, raw))
	case d < shortest:
		diags.AddAttributeError(at, "Duration too short", fmt.Sprintf("%s must be at least %s; got %q.", at, shortest, raw))
	}
	return d
}

var caCertPEMValidator = settingValidator{description: "value must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----)",
	check: func(at path.Path, value string, diags *diag.Diagnostics) {
		if _, err := bitrix24.ParseCACertPEM([]byte(value)); err != nil {
			diags.AddAttributeError(at, "Invalid CA certificate",
				fmt.Sprintf("%s is not a usable CA certificate: %s. Give the PEM text of the CA that signed the portal's "+
					"certificate, such as file(\"company-ca.pem\").", at, err))
		}
	}}

const rateLimitRule = "must be a number of requests per second greater than 0 and at most 1000, " +
	"such as 2 (standard plans) or 5 (Enterprise)"

// rateLimitAllowed is rateLimitRule, for the attribute and for its
// environment variable alike.
func rateLimitAllowed(f float64) bool { return f > 0 && f <= 1000 }

var rateLimitValidator = settingValidator{description: "value " + rateLimitRule,
	checkFloat: func(at path.Path, f float64, diags *diag.Diagnostics) {
		if !rateLimitAllowed(f) {
			diags.AddAttributeError(at, "Invalid rate limit", fmt.Sprintf("%s %s; got %g.", at, rateLimitRule, f))
		}
	}}

// wholeNumberSetting is the rule of a whole-number provider setting, for
// the attribute and for its environment variable alike.
type wholeNumberSetting struct {
	name     string // "max_retries"
	summary  string // "Invalid retry count"
	min, max int64
	example  string // "such as 5"
}

func (r wholeNumberSetting) rule() string {
	return fmt.Sprintf("must be a whole number from %d to %d, %s", r.min, r.max, r.example)
}

func (r wholeNumberSetting) allows(n int64) bool { return n >= r.min && n <= r.max }

var (
	maxRetriesSetting = wholeNumberSetting{name: "max_retries", summary: "Invalid retry count", min: 0, max: 10, example: "such as 5"}
	rateBurstSetting  = wholeNumberSetting{name: "rate_burst", summary: "Invalid rate burst", min: 1, max: 10000,
		example: "such as 50 (standard plans) or 250 (Enterprise)"}
)

func wholeNumberValidator(setting wholeNumberSetting) settingValidator {
	return settingValidator{description: "value " + setting.rule(),
		checkInt: func(at path.Path, n int64, diags *diag.Diagnostics) {
			if !setting.allows(n) {
				diags.AddAttributeError(at, setting.summary, fmt.Sprintf("%s %s; got %d.", at, setting.rule(), n))
			}
		}}
}
