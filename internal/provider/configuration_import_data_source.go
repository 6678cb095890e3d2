// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ datasource.DataSource              = (*configurationImportDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*configurationImportDataSource)(nil)
)

type configurationImportDataSource struct {
	provider *providerData
}

func newConfigurationImportDataSource() datasource.DataSource {
	return &configurationImportDataSource{}
}

type configurationImportModel struct {
	importWaitModel
	Timeouts types.Object `tfsdk:"timeouts"`
	importStatusModel
}

func (d *configurationImportDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_configuration_import"
}

func (d *configurationImportDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attributes := importStatusAttributes()
	attributes["process_id"] = schema.StringAttribute{
		MarkdownDescription: processIDDescription,
		Required:            true,
		Validators:          []validator.String{processIDValidator},
	}
	blocks := map[string]schema.Block{}
	blocks["wait"] = waitBlock("Wait until the import has finished. Without it the data source reads the status " +
		"once and never fails because of it. With it, the read polls the portal until the status is `F` " +
		"(finished), `E` (failed) or `U` (unknown), within `timeouts.read`. The first poll is immediate, so " +
		"a finished import costs a single request, also during the refresh that precedes `terraform destroy`.")
	blocks["timeouts"] = timeoutsBlock("read", "How long the read may take, a duration such as `30m` or `2h`; "+
		"defaults to `60m`. With `wait`, this bounds the whole wait, retries included: an import takes about "+
		"5 + 2 × sections + files minutes.")

	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the status of one configuration import of a Bitrix24 portal, the background " +
			"process that `configuration.import.register` starts, through `configuration.import.get`. " +
			"With `wait`, the read polls until the import has finished, so that anything depending on this " +
			"data source waits for the import, and fails when the import fails.",
		Attributes: attributes,
		Blocks:     blocks,
	}
}

func (d *configurationImportDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.provider = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *configurationImportDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config configurationImportModel
	ctx, ok := d.provider.start(ctx, &resp.Diagnostics, req.Config.Get, &config)
	if !ok {
		return
	}
	status := d.provider.waitForImport(ctx, importWait{
		importWaitModel:     config.importWaitModel,
		readOnceWithoutWait: true,
		timeout:             timeoutIn(config.Timeouts, "read"),
		instead:             recordsIt,
		afterCancel:         afterCancelledRead,
	}, &resp.Diagnostics)
	if status != nil {
		config.setStatus(status)
		resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
	}
}
