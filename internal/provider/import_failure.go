// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// An import that ended in E or U ends a create, a read or a terraform
// import. Each diagnostic gives the portal's messages, labelled, and then
// what the user can do next, naming the setting or the command.

const (
	nextStepFailed = "What next: fix what the exception names (the import's data, or the portal's state), " +
		"register the import again with configuration.import.register and set process_id to the processId it " +
		"returns. To record the failure and go on instead, set fail_on_error = false in the wait block."
	nextStepUnknown = "What next: check process_id against the processId that configuration.import.register " +
		"returned. If the import ended more than 2 days ago, the portal has forgotten it: register it again and set " +
		"the new process_id, or, to record it as unknown and go on, set fail_on_unknown = false in the wait block."
	recordedFailed = "The failure is recorded instead of failing the run because the wait block sets " +
		"fail_on_error = false: dependents can branch on status or finished."
	recordedUnknown = "The import is recorded as unknown instead of failing the run because the wait block sets " +
		"fail_on_unknown = false: dependents can branch on status or finished."
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

// addImportFailure reports a failed (E) or unknown (U) import with the
// portal's messages: as an error with the next step when the settings fail
// on it, else as a warning naming the setting that recorded it. It reports
// whether it added an error.
func (s waitSettings) addImportFailure(diags *diag.Diagnostics, status *bitrix24.ImportStatus) bool {
	return s.reportImportFailure(diags, status, recordedFailed, recordedUnknown)
}

// reportImportFailure is addImportFailure whose warnings end with what
// happens instead of the error: the action records nothing, so it says so
// in its own words.
func (s waitSettings) reportImportFailure(diags *diag.Diagnostics, status *bitrix24.ImportStatus, insteadFailed, insteadUnknown string) bool {
	var summary, next, recorded string
	var fatal bool
	switch status.Status {
	case bitrix24.StatusFailed:
		summary, next, recorded, fatal = "Configuration import failed", nextStepFailed, insteadFailed, s.failOnError
	case bitrix24.StatusUnknown:
		summary, next, recorded, fatal = "Configuration import unknown to the portal", nextStepUnknown, insteadUnknown, s.failOnUnknown
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
