// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package provider is the Terraform glue of the Bitrix24 provider: its schema,
// configuration and data sources. Everything that talks to the portal lives in
// internal/bitrix24.
package provider

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// webhookURLEnvVar supplies webhook_url when the configuration leaves it out,
// so that the secret need not be written into any .tf file.
const webhookURLEnvVar = "BITRIX24_WEBHOOK_URL"

var _ provider.Provider = (*bitrix24Provider)(nil)

// bitrix24Provider is the provider itself; Configure hands a *providerData to
// every data source and resource.
type bitrix24Provider struct {
	version string

	// pollIntervalOverride replaces every configured wait.poll_interval when
	// set. Only tests set it, so that acceptance tests against an emulator
	// with a millisecond agent need not wait whole seconds between polls.
	pollIntervalOverride time.Duration
}

type bitrix24ProviderModel struct {
	WebhookURL types.String `tfsdk:"webhook_url"`
}

// providerData is what data sources and resources receive from Configure.
type providerData struct {
	client *bitrix24.Client
	// secrets are masked in every log line written while serving a request.
	secrets              []string
	pollIntervalOverride time.Duration
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
			"Authenticates with an incoming webhook.",
		Attributes: map[string]schema.Attribute{
			"webhook_url": schema.StringAttribute{
				MarkdownDescription: "URL of an incoming webhook of the portal, " +
					"`https://<portal>/rest/<user id>/<webhook code>/`, as Bitrix24 shows it when the webhook is created. " +
					"The webhook needs the `configuration.import` scope. The code in the URL is the whole credential: " +
					"keep it out of version control and prefer the `" + webhookURLEnvVar + "` environment variable, " +
					"which is used when this attribute is not set. Plain `http` is accepted only for loopback hosts.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{webhookURLValidator{}},
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

	attr := path.Root("webhook_url")
	if config.WebhookURL.IsUnknown() {
		resp.Diagnostics.AddAttributeError(attr, "Unknown Bitrix24 webhook URL",
			"The provider cannot be configured because webhook_url depends on a value that is known only after apply. "+
				"Set it to a value known at plan time, or leave it out and set the "+webhookURLEnvVar+" environment variable.")
		return
	}

	raw, fromEnv := config.WebhookURL.ValueString(), false
	if config.WebhookURL.IsNull() {
		raw, fromEnv = os.Getenv(webhookURLEnvVar), true
	}
	if raw == "" {
		resp.Diagnostics.AddAttributeError(attr, "Missing Bitrix24 webhook URL",
			"The provider needs the URL of an incoming webhook of the portal. Set webhook_url in the provider "+
				"configuration, or set the "+webhookURLEnvVar+" environment variable, to a value like "+
				webhookURLExample+".")
		return
	}

	webhook, err := bitrix24.ParseWebhookURL(raw)
	if err != nil {
		source := "webhook_url"
		if fromEnv {
			source = "the " + webhookURLEnvVar + " environment variable (used because webhook_url is not set)"
		}
		resp.Diagnostics.AddAttributeError(attr, "Invalid Bitrix24 webhook URL", invalidWebhookURLDetail(source, err))
		return
	}

	client, err := bitrix24.NewClient(bitrix24.Config{
		Auth:      webhook,
		UserAgent: userAgent(p.version, req.TerraformVersion),
		Logger:    tflogLogger{},
	})
	if err != nil {
		resp.Diagnostics.AddError("Unable to create the Bitrix24 client", err.Error())
		return
	}

	data := &providerData{
		client:               client,
		secrets:              webhook.Secrets(),
		pollIntervalOverride: p.pollIntervalOverride,
	}
	resp.DataSourceData = data
	resp.ResourceData = data
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

// userAgent names the provider and the Terraform that runs it, as HashiCorp's
// providers do, so that portal operators can tell where calls come from.
func userAgent(providerVersion, terraformVersion string) string {
	if terraformVersion == "" {
		terraformVersion = "unknown"
	}
	return fmt.Sprintf("Terraform/%s (+https://www.terraform.io) terraform-provider-bitrix24/%s", terraformVersion, providerVersion)
}
