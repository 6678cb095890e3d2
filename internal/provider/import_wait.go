// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"

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
	progress            func(string) // the action's progress messages; nil: none
	instead             insteadOfFailing
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
	settings, waiting, d := p.waitSettings(ctx, w.Wait)
	diags.Append(d...)
	if diags.HasError() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !waiting && w.readOnceWithoutWait {
		return p.readImport(ctx, processID, w.timeout.at, diags)
	}

	settings.warn(timeout, w.timeout.at, diags)
	progress := newImportProgress(processID, p.clock, w.progress)
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
	if err != nil {
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
