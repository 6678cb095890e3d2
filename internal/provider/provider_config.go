// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// The environment variables that stand in for provider attributes left out
// of the configuration.
const (
	envWebhookURL = "BITRIX24_WEBHOOK_URL"
	envCACertPEM  = "BITRIX24_CA_CERT_PEM"
	envMaxRetries = "BITRIX24_MAX_RETRIES"
	envRateLimit  = "BITRIX24_RATE_LIMIT"
	envRateBurst  = "BITRIX24_RATE_BURST"
	envBatchReads = "BITRIX24_BATCH_READS"
)

const (
	minMaxRetries = 0
	maxMaxRetries = 10
	maxRateLimit  = 1000.0
	maxRateBurst  = 10000
)

// providerSettings are the provider's settings with the environment and the
// defaults applied.
type providerSettings struct {
	webhook    *bitrix24.Webhook
	caCertPEM  []byte
	maxRetries int
	rateLimit  float64
	rateBurst  int
	batchReads bool
}

// resolveSettings takes each setting from the configuration, else from its
// environment variable, else its default. Validation cannot see the
// environment, so environment values are checked here.
func resolveSettings(config bitrix24ProviderModel, getenv func(string) string) (providerSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := providerSettings{
		maxRetries: bitrix24.DefaultMaxRetries,
		rateLimit:  bitrix24.DefaultRateLimit,
		rateBurst:  bitrix24.DefaultRateBurst,
		batchReads: true,
	}

	for name, value := range map[string]attr.Value{
		"webhook_url": config.WebhookURL, "ca_cert_pem": config.CACertPEM, "max_retries": config.MaxRetries,
		"rate_limit": config.RateLimit, "rate_burst": config.RateBurst, "batch_reads": config.BatchReads,
	} {
		if value.IsUnknown() {
			diags.AddAttributeError(path.Root(name), "Provider setting unknown at plan time",
				fmt.Sprintf("The provider cannot be configured because %s depends on a value that is known only after apply. "+
					"Set it to a value known at plan time, or leave it out and set the %s environment variable.", name, envVarOf[name]))
		}
	}
	if diags.HasError() {
		return s, diags
	}

	s.webhook = resolveWebhook(config, getenv, &diags)

	if !config.CACertPEM.IsNull() {
		s.caCertPEM = []byte(config.CACertPEM.ValueString())
	} else if env := getenv(envCACertPEM); strings.TrimSpace(env) != "" {
		if _, err := bitrix24.ParseCACertPEM([]byte(env)); err != nil {
			diags.AddAttributeError(path.Root("ca_cert_pem"), "Invalid CA certificate",
				fmt.Sprintf("The %s environment variable (used because ca_cert_pem is not set) is not a usable CA certificate: %s. "+
					"Set it to the PEM text of the CA, such as the content of company-ca.pem.", envCACertPEM, err))
		}
		s.caCertPEM = []byte(env)
	}

	s.maxRetries = maxRetriesSetting.resolve(config.MaxRetries, getenv, s.maxRetries, &diags)
	s.rateBurst = rateBurstSetting.resolve(config.RateBurst, getenv, s.rateBurst, &diags)

	if !config.RateLimit.IsNull() {
		s.rateLimit = config.RateLimit.ValueFloat64()
	} else if env := strings.TrimSpace(getenv(envRateLimit)); env != "" {
		f, err := strconv.ParseFloat(env, 64)
		if err != nil || !(f > 0 && f <= maxRateLimit) {
			diags.AddAttributeError(path.Root("rate_limit"), "Invalid rate limit",
				fmt.Sprintf("The %s environment variable (used because rate_limit is not set) %s; got %q.", envRateLimit, rateLimitRule, env))
		}
		s.rateLimit = f
	}

	if !config.BatchReads.IsNull() {
		s.batchReads = config.BatchReads.ValueBool()
	} else if env := strings.TrimSpace(getenv(envBatchReads)); env != "" {
		b, err := strconv.ParseBool(env)
		if err != nil {
			diags.AddAttributeError(path.Root("batch_reads"), "Invalid batch_reads setting",
				fmt.Sprintf("The %s environment variable (used because batch_reads is not set) must be true or false; got %q.",
					envBatchReads, env))
		}
		s.batchReads = b
	}

	return s, diags
}

// envVarOf names the environment variable of each provider attribute.
var envVarOf = map[string]string{
	"webhook_url": envWebhookURL,
	"ca_cert_pem": envCACertPEM,
	"max_retries": envMaxRetries,
	"rate_limit":  envRateLimit,
	"rate_burst":  envRateBurst,
	"batch_reads": envBatchReads,
}

// resolve is the setting's value: the attribute's, else its environment
// variable's, else def.
func (r wholeNumberSetting) resolve(value types.Int64, getenv func(string) string, def int, diags *diag.Diagnostics) int {
	if !value.IsNull() {
		return int(value.ValueInt64())
	}
	env := strings.TrimSpace(getenv(envVarOf[r.name]))
	if env == "" {
		return def
	}
	n, err := strconv.Atoi(env)
	if err != nil || int64(n) < r.min || int64(n) > r.max {
		diags.AddAttributeError(path.Root(r.name), r.summary, fmt.Sprintf("The %s environment variable (used because %s is not set) %s; got %q.",
			envVarOf[r.name], r.name, r.rule(), env))
	}
	return n
}

// resolveWebhook reads webhook_url or its environment variable. Errors never
// repeat the value: it holds the webhook's secret code.
func resolveWebhook(config bitrix24ProviderModel, getenv func(string) string, diags *diag.Diagnostics) *bitrix24.Webhook {
	attrPath := path.Root("webhook_url")
	raw, fromEnv := config.WebhookURL.ValueString(), false
	if config.WebhookURL.IsNull() {
		raw, fromEnv = getenv(envWebhookURL), true
	}
	if raw == "" {
		diags.AddAttributeError(attrPath, "Missing Bitrix24 webhook URL",
			"The provider needs the URL of an incoming webhook of the portal. Set webhook_url in the provider "+
				"configuration, or set the "+envWebhookURL+" environment variable, to a value like "+
				webhookURLExample+".")
		return nil
	}
	webhook, err := bitrix24.ParseWebhookURL(raw)
	if err != nil {
		source := "webhook_url"
		if fromEnv {
			source = "the " + envWebhookURL + " environment variable (used because webhook_url is not set)"
		}
		diags.AddAttributeError(attrPath, "Invalid Bitrix24 webhook URL", invalidWebhookURLDetail(source, raw, err))
		return nil
	}
	return webhook
}
