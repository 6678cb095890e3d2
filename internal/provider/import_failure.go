// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// An import that ended in E or U ends a create, a read, an invoke or a
// terraform import. Each diagnostic gives the portal's messages, labelled, and then
// what the user can do next, naming the setting or the command.

const (
	nextStepFailed = "What next: fix what the exception names (the import's data, or the portal's state), " +
		"register the import again with configuration.import.register and set process_id to the processId it " +
		"returns. To record the failure and go on instead, set fail_on_error = false in the wait block."
	nextStepUnknown = "What next: check process_id against the processId that configuration.import.register " +
		"returned. If the import ended more than 2 days ago, the portal has forgotten it: register it again and set " +
		"the new process_id, or, to record it as unknown and go on, set fail_on_unknown = false in the wait block."
)

// insteadOfFailing says, in a warning about an E or U that the wait
// settings let pass, what happens instead of failing the run.
type insteadOfFailing struct{ failed, unknown string }

var (
	// recordsIt is the data source's and the resource's: they keep the status.
	recordsIt = insteadOfFailing{
		failed: "The failure is recorded instead of failing the run because the wait block sets " +
			"fail_on_error = false: dependents can branch on status or finished.",
		unknown: "The import is recorded as unknown instead of failing the run because the wait block sets " +
			"fail_on_unknown = false: dependents can branch on status or finished.",
	}
	// endsWithAWarning is the action's: it keeps nothing.
	endsWithAWarning = insteadOfFailing{
		failed:  "The action ends with this warning instead of failing the run because the wait block sets fail_on_error = false.",
		unknown: "The action ends with this warning instead of failing the run because the wait block sets fail_on_unknown = false.",
	}
)

// failureReport is the portal's side of an E or U: what happened and its
// labelled messages.
func failureReport(status *bitrix24.ImportStatus) string {
	var failed *bitrix24.ImportFailedError
	if errors.As(bitrix24.ImportFailure(status), &failed) {
		return failed.Report()
	}
	return ""
}

// reportImportFailure reports a failed (E) or unknown (U) import with the
// portal's messages: as an error with the next step when the settings fail
// on it, else as a warning that says what happens instead. It reports
// whether it added an error.
func (s waitSettings) reportImportFailure(diags *diag.Diagnostics, status *bitrix24.ImportStatus, instead insteadOfFailing) bool {
	var summary, next, recorded string
	var fatal bool
	switch status.Status {
	case bitrix24.StatusFailed:
		summary, next, recorded, fatal = "Configuration import failed", nextStepFailed, instead.failed, s.failOnError
	case bitrix24.StatusUnknown:
		summary, next, recorded, fatal = "Configuration import unknown to the portal", nextStepUnknown, instead.unknown, s.failOnUnknown
	default:
		return false
	}
	if fatal {
		diags.AddError(summary, failureReport(status)+"\n\n"+next)
		return true
	}
	diags.AddWarning(summary, failureReport(status)+"\n\n"+recorded)
	return false
}
