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
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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

// bitrix24Provider is the provider; Configure hands a *providerData to every
// data source, resource and action.
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
					"`https://<portal>/rest/<user id>/<webhook code>/`. Prefer the `" + envWebhookURL + "` environment " +
					"variable, used when this is not set: the code is the whole credential. Plain `http` is accepted " +
					"only for loopback hosts.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{webhookURLValidator},
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM certificates of a CA to trust besides the system's, for an on-premise " +
					"portal with a certificate from an internal CA, such as `file(\"company-ca.pem\")`. Falls back to " +
					"the `" + envCACertPEM + "` environment variable. TLS verification is never switched off.",
				Optional:   true,
				Validators: []validator.String{caCertPEMValidator},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a failed or dropped request (a 5xx, a gateway page, a timeout, an "+
					"empty or cut answer) is tried again, with growing pauses and never past the timeout. A portal "+
					"that asks to slow down (`QUERY_LIMIT_EXCEEDED`, HTTP 429) is tried again for as long as the timeout "+
					"allows, without counting here; credential, access and certificate errors are never tried again. "+
					"From %d to %d; defaults to %d, or the `%s` environment variable.",
					minMaxRetries, maxMaxRetries, bitrix24.DefaultMaxRetries, envMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{wholeNumberValidator(maxRetriesSetting)},
			},
			"rate_limit": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Requests per second the provider sends to the portal at most. "+
					"Defaults to %g, the standard plans' limit (Enterprise plans: 5), or the `%s` environment variable.",
					bitrix24.DefaultRateLimit, envRateLimit),
				Optional:   true,
				Validators: []validator.Float64{rateLimitValidator},
			},
			"rate_burst": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many requests the provider may send at once after a quiet "+
					"spell. Defaults to %d, the standard plans' burst (Enterprise plans: 250), or the `%s` environment "+
					"variable.", bitrix24.DefaultRateBurst, envRateBurst),
				Optional:   true,
				Validators: []validator.Int64{wholeNumberValidator(rateBurstSetting)},
			},
			"batch_reads": schema.BoolAttribute{
				MarkdownDescription: "Whether reads that overlap share `batch` requests, so that many imports cost " +
					"a few requests instead of one each. Defaults to `true`, or the `" + envBatchReads + "` environment " +
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

	settings, diags := resolveSettings(config, os.Getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	clientConfig := bitrix24.Config{
		Auth:       settings.webhook,
		CACertPEM:  settings.caCertPEM,
		UserAgent:  userAgent(p.version, req.TerraformVersion),
		Logger:     tflogLogger{},
		MaxRetries: settings.maxRetries,
		RateLimit:  settings.rateLimit,
		RateBurst:  settings.rateBurst,
		PlainReads: !settings.batchReads,
	}
	if p.configureClient != nil {
		p.configureClient(&clientConfig)
	}
	data, err := newProviderData(clientConfig, settings.webhook.Secrets())
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

// newProviderData makes the client of cfg.
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
// provider was configured.
func (p *providerData) start(ctx context.Context, diags *diag.Diagnostics) (context.Context, bool) {
	if p == nil {
		diags.AddError("Provider not configured",
			"The provider was not configured before it was asked to reach the portal. This is a bug in the provider; please report it.")
		return ctx, false
	}
	return p.masked(ctx), true
}

// masked is ctx set up for logging with the webhook's secrets hidden; p may
// be nil, as for a resource read without a configured provider.
func (p *providerData) masked(ctx context.Context) context.Context {
	if p == nil {
		return requestLogging(ctx, nil)
	}
	return requestLogging(ctx, p.secrets)
}
