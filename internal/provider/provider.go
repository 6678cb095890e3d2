// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package provider is the Terraform glue of the Bitrix24 provider: its schema,
// configuration and data sources. Everything that talks to the portal lives in
// internal/bitrix24.
package provider

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

var (
	_ provider.Provider            = (*bitrix24Provider)(nil)
	_ provider.ProviderWithActions = (*bitrix24Provider)(nil)
)

type bitrix24Provider struct {
	version string

	// Test seams: pollIntervalOverride replaces every wait.poll_interval (an
	// emulator's agent steps in milliseconds); configureClient adjusts the
	// client's settings (short backoffs and timeouts, a fake clock).
	pollIntervalOverride time.Duration
	configureClient      func(*bitrix24.Config)
}

type bitrix24ProviderModel struct {
	WebhookURL types.String  `tfsdk:"webhook_url"`
	CACertPEM  types.String  `tfsdk:"ca_cert_pem"`
	MaxRetries types.Int64   `tfsdk:"max_retries"`
	RateLimit  types.Float64 `tfsdk:"rate_limit"`
	RateBurst  types.Int64   `tfsdk:"rate_burst"`
	BatchReads types.Bool    `tfsdk:"batch_reads"`
}

// New returns the provider factory that main and the tests serve.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &bitrix24Provider{version: version}
	}
}

func (p *bitrix24Provider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "bitrix24"
	resp.Version = p.version
}

func (p *bitrix24Provider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the state of a Bitrix24 portal through its REST API. " +
			"Authenticates with an incoming webhook. Every setting can come from an environment variable instead.",
		Attributes: map[string]schema.Attribute{
			"webhook_url": schema.StringAttribute{
				MarkdownDescription: "URL of an inbound webhook of the portal with the `configuration.import` scope, " +
					"`https://<portal>/rest/<user id>/<webhook code>/`. Prefer the `" + envVarOf("webhook_url") + "` environment " +
					"variable, used when this is not set: the code is the whole credential. Plain `http` is accepted " +
					"only for loopback hosts.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{webhookURLValidator},
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM certificates of a CA to trust besides the system's, for an on-premise " +
					"portal with a certificate from an internal CA, such as `file(\"company-ca.pem\")`. Falls back to " +
					"the `" + envVarOf("ca_cert_pem") + "` environment variable. TLS verification is never switched off.",
				Optional:   true,
				Validators: []validator.String{caCertPEMValidator},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a failed or dropped request (a 5xx, a gateway page, a timeout, an "+
					"empty or cut answer) is tried again, with growing pauses and never past the timeout. A portal "+
					"that asks to slow down (`QUERY_LIMIT_EXCEEDED`, HTTP 429) is tried again for as long as the timeout "+
					"allows, without counting here; credential, access and certificate errors are never tried again. "+
					"From %d to %d; defaults to %d, or the `%s` environment variable.",
					maxRetriesSetting.min, maxRetriesSetting.max, bitrix24.DefaultMaxRetries, envVarOf("max_retries")),
				Optional:   true,
				Validators: []validator.Int64{wholeNumberValidator(maxRetriesSetting)},
			},
			"rate_limit": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Requests per second the provider sends to the portal at most. "+
					"Defaults to %g, the standard plans' limit (Enterprise plans: 5), or the `%s` environment variable.",
					bitrix24.DefaultRateLimit, envVarOf("rate_limit")),
				Optional:   true,
				Validators: []validator.Float64{rateLimitValidator},
			},
			"rate_burst": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many requests the provider may send at once after a quiet "+
					"spell. Defaults to %d, the standard plans' burst (Enterprise plans: 250), or the `%s` environment "+
					"variable.", bitrix24.DefaultRateBurst, envVarOf("rate_burst")),
				Optional:   true,
				Validators: []validator.Int64{wholeNumberValidator(rateBurstSetting)},
			},
			"batch_reads": schema.BoolAttribute{
				MarkdownDescription: "Whether reads that overlap share `batch` requests, so that many imports cost " +
					"a few requests instead of one each. Defaults to `true`, or the `" + envVarOf("batch_reads") + "` environment " +
					"variable; set `false` for a proxy in front of the portal that refuses `batch`.",
				Optional: true,
			},
		},
	}
}

func (p *bitrix24Provider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config bitrix24ProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	clientConfig, webhook, diags := resolveSettings(config, os.Getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	clientConfig.UserAgent = userAgent(p.version, req.TerraformVersion)
	clientConfig.Logger = tflogLogger{}
	if p.configureClient != nil {
		p.configureClient(&clientConfig)
	}
	data, err := newProviderData(clientConfig, webhook.Secrets())
	if err != nil {
		resp.Diagnostics.AddError("Unable to create the Bitrix24 client", err.Error())
		return
	}
	data.pollIntervalOverride = p.pollIntervalOverride
	resp.DataSourceData = data
	resp.ResourceData = data
	resp.ActionData = data
}

func (p *bitrix24Provider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newConfigurationImportDataSource,
	}
}

func (p *bitrix24Provider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newConfigurationImportWaitResource,
	}
}

func (p *bitrix24Provider) Actions(_ context.Context) []func() action.Action {
	return []func() action.Action{
		newConfigurationImportWaitAction,
	}
}

// userAgent names the provider and the Terraform that runs it, as HashiCorp's
// providers do.
func userAgent(providerVersion, terraformVersion string) string {
	if terraformVersion == "" {
		terraformVersion = "unknown"
	}
	return fmt.Sprintf("Terraform/%s (+https://www.terraform.io) terraform-provider-bitrix24/%s", terraformVersion, providerVersion)
}

// providerData is what Configure hands to every data source, resource and
// action.
type providerData struct {
	client *bitrix24.Client
	clock  bitrix24.Clock // the client's, that progress and finished_at read
	// secrets are masked in every log line written while serving a request.
	secrets              []string
	pollIntervalOverride time.Duration
}

func newProviderData(cfg bitrix24.Config, secrets []string) (*providerData, error) {
	client, err := bitrix24.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &providerData{client: client, clock: cmp.Or(cfg.Clock, bitrix24.RealClock()), secrets: secrets}, nil
}

// providerDataFrom is the *providerData that Configure handed over; nil
// before the provider is configured, as when Terraform validates.
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	p, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
	}
	return p
}

// start begins every request that reaches the portal: p is nil unless the
// provider was configured. It reads the request's configuration or plan into
// model with get, when there is one.
func (p *providerData) start(ctx context.Context, diags *diag.Diagnostics, get func(context.Context, any) diag.Diagnostics, model any) (context.Context, bool) {
	if p == nil {
		diags.AddError("Provider not configured",
			"The provider was not configured before it was asked to reach the portal. This is a bug in the provider; please report it.")
		return ctx, false
	}
	ctx = p.masked(ctx)
	if get != nil {
		diags.Append(get(ctx, model)...)
	}
	return ctx, !diags.HasError()
}

// masked is ctx set up for logging with the webhook's secrets hidden; p may
// be nil, as for a resource read without a configured provider.
func (p *providerData) masked(ctx context.Context) context.Context {
	if p == nil {
		return requestLogging(ctx, nil)
	}
	return requestLogging(ctx, p.secrets)
}

// resolveSettings is the client's configuration with each setting taken
// from the configuration, else from its environment variable, else its
// default, and the webhook it authenticates with. Validation cannot see the
// environment, so environment values are checked here.
func resolveSettings(config bitrix24ProviderModel, getenv func(string) string) (bitrix24.Config, *bitrix24.Webhook, diag.Diagnostics) {
	var diags diag.Diagnostics
	var s bitrix24.Config

	for name, value := range map[string]attr.Value{
		"webhook_url": config.WebhookURL, "ca_cert_pem": config.CACertPEM, "max_retries": config.MaxRetries,
		"rate_limit": config.RateLimit, "rate_burst": config.RateBurst, "batch_reads": config.BatchReads,
	} {
		if value.IsUnknown() {
			diags.AddAttributeError(path.Root(name), "Provider setting unknown at plan time",
				fmt.Sprintf("The provider cannot be configured because %s depends on a value that is known only after apply. "+
					"Set it to a value known at plan time, or leave it out and set the %s environment variable.", name, envVarOf(name)))
		}
	}
	if diags.HasError() {
		return s, nil, diags
	}

	webhook := resolveWebhook(config, getenv, &diags)
	s.Auth = webhook

	if !config.CACertPEM.IsNull() {
		s.CACertPEM = []byte(config.CACertPEM.ValueString())
	} else if env := getenv(envVarOf("ca_cert_pem")); strings.TrimSpace(env) != "" {
		if _, err := bitrix24.ParseCACertPEM([]byte(env)); err != nil {
			diags.AddAttributeError(path.Root("ca_cert_pem"), "Invalid CA certificate",
				fmt.Sprintf("The %s environment variable (used because ca_cert_pem is not set) is not a usable CA certificate: %s. "+
					"Set it to the PEM text of the CA, such as the content of company-ca.pem.", envVarOf("ca_cert_pem"), err))
		}
		s.CACertPEM = []byte(env)
	}

	s.MaxRetries = maxRetriesSetting.resolve(config.MaxRetries, bitrix24.DefaultMaxRetries, getenv, &diags)
	s.RateBurst = rateBurstSetting.resolve(config.RateBurst, bitrix24.DefaultRateBurst, getenv, &diags)
	s.RateLimit = resolveSetting(config.RateLimit.ValueFloat64Pointer(), bitrix24.DefaultRateLimit,
		"rate_limit", "Invalid rate limit", rateLimitRule, func(env string) (float64, bool) {
			f, err := strconv.ParseFloat(env, 64)
			return f, err == nil && rateLimitAllowed(f)
		}, getenv, &diags)
	batchReads := resolveSetting(config.BatchReads.ValueBoolPointer(), true,
		"batch_reads", "Invalid batch_reads setting", "must be true or false", func(env string) (bool, bool) {
			b, err := strconv.ParseBool(env)
			return b, err == nil
		}, getenv, &diags)
	s.PlainReads = !batchReads

	return s, webhook, diags
}

// envVarOf names the environment variable that stands in for a provider
// attribute left out of the configuration.
func envVarOf(attribute string) string {
	return "BITRIX24_" + strings.ToUpper(attribute)
}

// resolveSetting is a setting's value: the attribute's (configured, nil when
// left out), else its environment variable's as parse reads it, else def. A
// value parse refuses is an error that says the rule.
func resolveSetting[T any](configured *T, def T, attribute, summary, rule string, parse func(string) (T, bool),
	getenv func(string) string, diags *diag.Diagnostics) T {
	if configured != nil {
		return *configured
	}
	env := strings.TrimSpace(getenv(envVarOf(attribute)))
	if env == "" {
		return def
	}
	value, ok := parse(env)
	if !ok {
		diags.AddAttributeError(path.Root(attribute), summary, fmt.Sprintf(
			"The %s environment variable (used because %s is not set) %s; got %q.", envVarOf(attribute), attribute, rule, env))
	}
	return value
}

// resolve is the whole-number setting's value, by resolveSetting.
func (r wholeNumberSetting) resolve(value types.Int64, def int, getenv func(string) string, diags *diag.Diagnostics) int {
	return int(resolveSetting(value.ValueInt64Pointer(), int64(def),
		r.name, r.summary, r.rule(), func(env string) (int64, bool) {
			n, err := strconv.ParseInt(env, 10, 64)
			return n, err == nil && r.allows(n)
		}, getenv, diags))
}

// resolveWebhook reads webhook_url or its environment variable. Errors never
// repeat the value: it holds the webhook's secret code.
func resolveWebhook(config bitrix24ProviderModel, getenv func(string) string, diags *diag.Diagnostics) *bitrix24.Webhook {
	attrPath := path.Root("webhook_url")
	raw, fromEnv := config.WebhookURL.ValueString(), false
	if config.WebhookURL.IsNull() {
		raw, fromEnv = getenv(envVarOf("webhook_url")), true
	}
	if raw == "" {
		diags.AddAttributeError(attrPath, "Missing Bitrix24 webhook URL",
			"The provider needs the URL of an incoming webhook of the portal. Set webhook_url in the provider "+
				"configuration, or set the "+envVarOf("webhook_url")+" environment variable, to a value like "+
				webhookURLExample+".")
		return nil
	}
	webhook, err := bitrix24.ParseWebhookURL(raw)
	if err != nil {
		source := "webhook_url"
		if fromEnv {
			source = "the " + envVarOf("webhook_url") + " environment variable (used because webhook_url is not set)"
		}
		diags.AddAttributeError(attrPath, "Invalid Bitrix24 webhook URL", invalidWebhookURLDetail(source, raw, err))
		return nil
	}
	return webhook
}
