// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// importWaitModel is what every waiter is configured with; their models
// embed it.
type importWaitModel struct {
	ProcessID types.String `tfsdk:"process_id"`
	Wait      types.Object `tfsdk:"wait"`
}

// importWait is what the waits of the data source's Read, the resource's
// Create and the action's Invoke differ by; waitForImport runs each.
type importWait struct {
	importWaitModel
	// readOnceWithoutWait makes a left-out wait block mean one read that never
	// fails on the status (the data source); otherwise it means the defaults.
	readOnceWithoutWait bool
	timeout             timeoutSetting
	// stream, when set, is the action's progress stream. It gets the progress
	// lines and the warnings about the settings too, instead of diagnostics,
	// which Terraform shows only after the wait, in its "Action failed" line.
	stream      func(string)
	instead     insteadOfFailing
	afterCancel string // what to do next after a cancelled wait
}

// waitForImport reads w's settings, warns about them, waits for the import
// within the timeout (or reads it once) and reports how the wait and the
// import ended. It returns nil when it added an error.
func (p *providerData) waitForImport(ctx context.Context, w importWait, diags *diag.Diagnostics) *bitrix24.ImportStatus {
	processID, err := parseProcessID(w.ProcessID.ValueString())
	if err != nil { // validated already, unless it was unknown then
		diags.AddAttributeError(path.Root("process_id"), "Invalid process id", processIDProblem(err))
		return nil
	}
	timeout := w.timeout.duration(diags)
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
		// To the log only: see protocolServer.
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

// readImport reads an import once, within the setting at timeoutAt.
func (p *providerData) readImport(ctx context.Context, processID int64, timeoutAt path.Path, diags *diag.Diagnostics) *bitrix24.ImportStatus {
	status, err := p.client.ConfigurationImport.Get(ctx, processID)
	if err != nil {
		addClientError(diags, processID, err, timeoutAt.String())
		return nil
	}
	return status
}

// record fills m in with the import's status and when the provider saw it
// end, on the client's clock.
func (p *providerData) record(m *configurationImportWaitModel, status *bitrix24.ImportStatus) {
	m.FinishedAt = types.StringValue(p.clock.Now().UTC().Format(time.RFC3339))
	m.setStatus(status)
}
