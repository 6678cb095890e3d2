// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ action.Action              = (*configurationImportWaitAction)(nil)
	_ action.ActionWithConfigure = (*configurationImportWaitAction)(nil)
)

// configurationImportWaitAction waits for a configuration import as the
// resource's create does, and streams its progress, which only actions can.
type configurationImportWaitAction struct {
	provider *providerData
}

func newConfigurationImportWaitAction() action.Action {
	return &configurationImportWaitAction{}
}

type configurationImportWaitActionModel struct {
	importWaitModel
	Timeout types.String `tfsdk:"timeout"`
}

func (a *configurationImportWaitAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_configuration_import_wait"
}

func (a *configurationImportWaitAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	wait := actionBlock(waitBlock("How the action waits for the import; every setting has a default, so the " +
		"block can be left out. The action polls the portal until the status is `F` (finished), `E` " +
		"(failed) or `U` (unknown), within `timeout`; the first poll is immediate."))
	// An action records nothing: say what false does here instead.
	wait.Attributes["fail_on_error"] = schema.BoolAttribute{Optional: true, MarkdownDescription: "When the " +
		"import fails (status `E`), fail with the portal's exception and error messages. Set to `false` to end " +
		"with a warning instead. Defaults to `true`."}
	wait.Attributes["fail_on_unknown"] = schema.BoolAttribute{Optional: true, MarkdownDescription: "When the " +
		"portal does not know the process (status `U`: a wrong id, or data the portal purged 2 to 3 days after " +
		"the import ended), fail. Set to `false` to end with a warning instead. Defaults to `true`."}

	resp.Schema = schema.Schema{
		MarkdownDescription: "Waits for one configuration import of a Bitrix24 portal to end, and reports its " +
			"progress while it waits: status, step and section at every change, a line every few minutes while " +
			"nothing changes, and a summary at the end. Fails when the import fails (`E`) or is unknown to the " +
			"portal (`U`), with the portal's messages. Keeps nothing in state. Needs Terraform 1.14 or later.",
		Attributes: map[string]schema.Attribute{
			"process_id": schema.StringAttribute{
				MarkdownDescription: processIDDescription,
				Required:            true,
				Validators:          []validator.String{processIDValidator},
			},
			"timeout": schema.StringAttribute{
				MarkdownDescription: "How long the action may wait for the import, a duration such as `30m` or " +
					"`2h`; defaults to `60m`, retries included. An import takes about 5 + 2 × sections + files minutes.",
				Optional:   true,
				Validators: timeoutValidators,
			},
		},
		Blocks: map[string]schema.Block{"wait": wait},
	}
}

func (a *configurationImportWaitAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.provider = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (a *configurationImportWaitAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var config configurationImportWaitActionModel
	ctx, ok := a.provider.start(ctx, &resp.Diagnostics, req.Config.Get, &config)
	if !ok {
		return
	}
	a.provider.waitForImport(ctx, importWait{
		importWaitModel: config.importWaitModel,
		timeout:         timeoutSetting{value: config.Timeout, at: path.Root("timeout")},
		stream: func(msg string) {
			if resp.SendProgress != nil {
				resp.SendProgress(action.InvokeProgressEvent{Message: msg})
			}
		},
		instead:     endsWithAWarning,
		afterCancel: afterCancelledAction,
	}, &resp.Diagnostics)
}
