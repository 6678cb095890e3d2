// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// ImportState records an import that has already ended, from a single
// configuration.import.get: `terraform import ADDRESS PROCESS_ID`. It refuses
// an import that is still running, because Read never polls: a record must
// hold an import that cannot change any more.
func (r *configurationImportWaitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx, ok := r.provider.start(ctx, &resp.Diagnostics)
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
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType})},
	}
	resp.Diagnostics.Append(r.provider.record(ctx, &imported, status)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &imported)...)
}
