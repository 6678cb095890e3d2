// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// The one wait for an import: the data source's Read, the resource's Create
// and the action's Invoke each describe theirs in an importWait and run it
// with waitForImport, which is where every wait starts and ends.

// importWaitModel is what every waiter is configured with; their models
// embed it.
type importWaitModel struct {
	ProcessID types.String `tfsdk:"process_id"`
	Wait      types.Object `tfsdk:"wait"`
}

// importWait is what the waits differ by.
type importWait struct {
	importWaitModel
	// readOnceWithoutWait makes a left-out wait block mean one read that never
	// fails on the status (the data source); otherwise it means the defaults.
	readOnceWithoutWait bool
	timeout             timeoutSetting
	// stream, when set, is the action's progress stream. The wait's
	// progress lines go to it as well as to the log, and so do the warnings
	// about its settings, instead of diagnostics: those come only after the
	// wait, and ride along in Terraform's "Action failed" line.
	stream  func(string)
	instead insteadOfFailing
	// afterCancel says what to do after a cancelled wait: what the waiter
	// does when run again.
	afterCancel string
}

// waitForImport reads w's settings, warns about them, waits for the import
// within the timeout (or reads it once) and reports how the wait and the
// import ended. It returns nil when it added an error; ctx is start's.
func (p *providerData) waitForImport(ctx context.Context, w importWait, diags *diag.Diagnostics) *bitrix24.ImportStatus {
	processID, err := parseProcessID(w.ProcessID.ValueString())
	if err != nil { // validated already, unless it was unknown then
		diags.AddAttributeError(path.Root("process_id"), "Invalid process id", processIDProblem(err))
		return nil
	}
	timeout, d := w.timeout.duration()
	diags.Append(d...)
	settings, waiting, d := readWaitSettings(ctx, w.Wait, p.pollIntervalOverride)
	diags.Append(d...)
	if diags.HasError() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !waiting && w.readOnceWithoutWait {
		return p.readImport(ctx, processID, w.timeout.at, diags)
	}

	progress := newImportProgress(processID, p.clock, func(msg string) {
		logProgress(ctx, msg)
		if w.stream != nil {
			w.stream(msg)
		}
	})
	var warnings diag.Diagnostics
	settings.warn(timeout, w.timeout.at, &warnings)
	for _, d := range warnings {
		progress.warn(d.Summary(), d.Detail())
	}
	if w.stream == nil {
		diags.Append(warnings...)
	}
	status, err := p.client.ConfigurationImport.Wait(ctx, processID, bitrix24.WaitOptions{
		PollInterval: settings.pollInterval,
		OnPoll: func(e bitrix24.PollEvent) {
			logPoll(ctx, e)
			progress.poll(e)
		},
		OnPollError: func(e bitrix24.PollErrorEvent) {
			logPollError(ctx, e)
			progress.pollFailed(e)
		},
	})
	var waitErr *bitrix24.WaitError
	switch {
	case errors.As(err, &waitErr) && waitErr.Cancelled:
		// To the log only: once Terraform has stopped, an action's progress
		// event makes it drop the action's error (see protocolServer).
		logProgress(ctx, cancelledLine(waitErr))
		addCancelledWait(diags, waitErr, w.afterCancel)
		return nil
	case err != nil:
		addClientError(diags, processID, err, w.timeout.at.String())
		return nil
	}
	progress.sendSummary(status)
	if settings.reportImportFailure(diags, status, w.instead) {
		return nil
	}
	return status
}

// readImport reads an import once: the data source without a wait block,
// and terraform import. timeoutAt is the setting that bounds it.
func (p *providerData) readImport(ctx context.Context, processID int64, timeoutAt path.Path, diags *diag.Diagnostics) *bitrix24.ImportStatus {
	status, err := p.client.ConfigurationImport.Get(ctx, processID)
	if err != nil {
		addClientError(diags, processID, err, timeoutAt.String())
		return nil
	}
	return status
}

// What each waiter does when run again after a cancelled wait.
const (
	afterCancelledRead = "run plan or apply again: the data source reads the import again and waits from where " +
		"it is then."
	afterCancelledCreate = "apply again: a cancelled create records nothing, so the next apply waits for the same " +
		"import again, from where it is then."
	afterCancelledAction = "run the action again to wait from where the import is then: terraform apply " +
		"-invoke=action.bitrix24_configuration_import_wait.<name>. Applying again does not run an action_trigger's " +
		"action again: the resource that triggers it was created before the wait."
)

// addCancelledWait reports a wait that Ctrl-C or SIGTERM cancelled: where
// the import was, that it goes on in the portal, and then what to do.
func addCancelledWait(diags *diag.Diagnostics, e *bitrix24.WaitError, next string) {
	var b strings.Builder
	fmt.Fprintf(&b, "The wait for configuration import %d was cancelled after %s and %s. ",
		e.ProcessID, elapsedText(e.Waited), plural(e.Polls, "poll"))
	if e.Last != nil {
		fmt.Fprintf(&b, "Its last known state: %s; as the portal reported it: %s. ", e.Last.InWords(), e.Last.Describe())
	} else {
		b.WriteString("No poll had succeeded, so its state is not known. ")
	}
	if e.LastErr != nil {
		fmt.Fprintf(&b, "The last poll failed: %s. ", e.LastErr)
	}
	b.WriteString("The import goes on in the portal: cancelling the wait neither stops nor undoes it.\n\nWhat next: ")
	b.WriteString(next)
	diags.AddError("Waiting for the configuration import was cancelled", b.String())
}

// record fills m in with the import's status and when the provider saw it
// end, on the client's clock.
func (p *providerData) record(ctx context.Context, m *configurationImportWaitModel, status *bitrix24.ImportStatus) diag.Diagnostics {
	m.FinishedAt = types.StringValue(p.clock.Now().UTC().Format(time.RFC3339))
	return m.setStatus(ctx, status)
}
