// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

var (
	_ resource.Resource                = (*configurationImportWaitResource)(nil)
	_ resource.ResourceWithConfigure   = (*configurationImportWaitResource)(nil)
	_ resource.ResourceWithImportState = (*configurationImportWaitResource)(nil)
)

// configurationImportWaitResource waits for a configuration import at
// create and records how it ended, beyond the 2 to 3 days the portal
// remembers it.
type configurationImportWaitResource struct {
	provider *providerData
}

func newConfigurationImportWaitResource() resource.Resource {
	return &configurationImportWaitResource{}
}

type configurationImportWaitModel struct {
	importWaitModel
	Timeouts   types.Object `tfsdk:"timeouts"`
	FinishedAt types.String `tfsdk:"finished_at"`
	importStatusModel
}

func (r *configurationImportWaitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_configuration_import_wait"
}

func (r *configurationImportWaitResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attributes := map[string]schema.Attribute{}
	for name, a := range importStatusAttributes() {
		attributes[name] = recordedAttribute(a)
	}
	if id, ok := attributes["id"].(schema.StringAttribute); ok { // it is; TestAccConfigurationImportWaitResource_idKnownAtPlan
		id.PlanModifiers = []planmodifier.String{idIsProcessID{}}
		attributes["id"] = id
	}
	attributes["process_id"] = schema.StringAttribute{
		MarkdownDescription: processIDDescription + " Changing it replaces the resource: the new import is waited for and recorded.",
		Required:            true,
		Validators:          []validator.String{processIDValidator},
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
	blocks := map[string]schema.Block{}
	blocks["wait"] = resourceBlock(waitBlock("How create waits for the import. Every setting has a default, " +
		"so the block can be left out."))
	blocks["timeouts"] = resourceBlock(timeoutsBlock("create", "How long create may wait for the import, a duration such "+
		"as `30m` or `2h`; defaults to `60m`, retries included. An import takes about 5 + 2 × sections + files minutes."))
	attributes["finished_at"] = schema.StringAttribute{
		MarkdownDescription: "When the provider saw the import end, as an RFC 3339 time in UTC; for `terraform import`, " +
			"when it read the import.",
		Computed:      true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}

	resp.Schema = schema.Schema{
		MarkdownDescription: "Waits for one configuration import of a Bitrix24 portal to end, and records how it " +
			"ended: the same attributes as the `bitrix24_configuration_import` data source, kept in state. " +
			"Resources that depend on it are created only after the import has finished, and, unlike a data " +
			"source, the record outlives the portal's memory of the import, 2 to 3 days after it ended: reading it makes no " +
			"request, so plans and `terraform destroy` keep working after the portal has forgotten it.",
		Attributes: attributes,
		Blocks:     blocks,
	}
}

func (r *configurationImportWaitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.provider = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// Create waits for the import and records it; a failed create records
// nothing, so the next apply waits again.
func (r *configurationImportWaitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan configurationImportWaitModel
	ctx, ok := r.provider.start(ctx, &resp.Diagnostics, req.Plan.Get, &plan)
	if !ok {
		return
	}
	status := r.provider.waitForImport(ctx, importWait{
		importWaitModel: plan.importWaitModel,
		timeout:         timeoutIn(plan.Timeouts, "create"),
		instead:         recordsIt,
		afterCancel:     afterCancelledCreate,
	}, &resp.Diagnostics)
	if status != nil {
		r.provider.record(&plan, status)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// Read makes no request: the record holds an import that has ended, which
// never changes, and the portal would only answer U once it has purged it.
func (r *configurationImportWaitResource) Read(ctx context.Context, req resource.ReadRequest, _ *resource.ReadResponse) {
	ctx = r.provider.masked(ctx)
	logRecord(ctx, req.State, "Kept the recorded configuration import without asking the portal: it has ended and cannot change")
}

// Update can only be about wait or timeouts (a new process_id replaces the
// resource): they are stored, the record stays.
func (r *configurationImportWaitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = r.provider.masked(ctx)
	var plan, state configurationImportWaitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Wait, state.Timeouts = plan.Wait, plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	logRecord(ctx, req.State, "Stored the new wait settings; the recorded configuration import is not read again")
}

// Delete forgets the record; the portal has no method to undo an import.
func (r *configurationImportWaitResource) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	ctx = r.provider.masked(ctx)
	logRecord(ctx, req.State, "Forgot the recorded configuration import; what it imported stays on the portal")
}

// idIsProcessID plans id from process_id, so that a plan shows it instead
// of "known after apply".
type idIsProcessID struct{}

func (idIsProcessID) Description(context.Context) string {
	return "The id is the process id, known at plan once process_id is."
}

func (m idIsProcessID) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (idIsProcessID) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	var processID types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("process_id"), &processID)...)
	if processID.IsNull() || processID.IsUnknown() {
		return
	}
	if id, err := parseProcessID(processID.ValueString()); err == nil { // else validation says why
		resp.PlanValue = types.StringValue(strconv.FormatInt(id, 10))
	}
}

func logRecord(ctx context.Context, state tfsdk.State, msg string) {
	var id types.String
	state.GetAttribute(ctx, path.Root("id"), &id)
	tflog.Debug(ctx, msg, map[string]any{"process_id": id.ValueString()})
}

// ImportState records an import that has already ended, from a single
// configuration.import.get; it refuses a running one, since Read never polls.
func (r *configurationImportWaitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx, ok := r.provider.start(ctx, &resp.Diagnostics, nil, nil)
	if !ok {
		return
	}
	processID, err := parseProcessID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("The import id must be the process id, the positive whole number that configuration.import.register "+
				"returned as processId, such as 42: %s.", err))
		return
	}
	status := r.provider.readImport(ctx, processID, path.Root("timeouts").AtName("create"), &resp.Diagnostics)
	if status == nil {
		return
	}

	switch status.Status {
	case bitrix24.StatusFinished:
	case bitrix24.StatusFailed:
		resp.Diagnostics.AddWarning("Imported a failed configuration import", failureReport(status)+
			"\n\nIt is recorded with status E, as the portal reports it: terraform import does not apply the wait "+
			"settings. Dependents that need a finished import can check finished. To wait for a new import instead, "+
			"register it again with configuration.import.register and set process_id to the new processId.")
	case bitrix24.StatusUnknown:
		resp.Diagnostics.AddError("Configuration import unknown to the portal", failureReport(status)+
			"\n\nThere is nothing left to import. What next: check the id against the processId that "+
			"configuration.import.register returned. For an import that ended longer ago, leave out terraform import "+
			"and let terraform apply create the resource with fail_on_unknown = false in the wait block, which records "+
			"it as unknown; or register the import again and set the new process_id.")
		return
	default:
		resp.Diagnostics.AddError("Configuration import has not ended",
			fmt.Sprintf("Configuration import %d is %s: it has not finished or failed yet. The resource records only an "+
				"import that has ended, because it never reads it again. Import it once it has ended, or leave out "+
				"terraform import and let terraform apply create the resource: create waits for the import.",
				processID, status.Describe()))
		return
	}

	imported := configurationImportWaitModel{
		importWaitModel: importWaitModel{
			ProcessID: types.StringValue(strconv.FormatInt(processID, 10)),
			Wait:      types.ObjectNull(waitAttrTypes),
		},
		Timeouts: types.ObjectNull(map[string]attr.Type{"create": types.StringType}),
	}
	r.provider.record(&imported, status)
	resp.Diagnostics.Append(resp.State.Set(ctx, &imported)...)
}
