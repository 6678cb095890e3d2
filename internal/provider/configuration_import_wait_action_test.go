// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/fakeclock"
)

// newJumpingClock is a fake clock whose timers fire at once, moving the
// time to their end: a wait at one poll a minute runs at full speed while
// every elapsed time it reports is exact. It starts at the real time, so
// that a real deadline lies where it would, on a whole minute, so that a
// schedule that aligns to the portal's clock sees the same phases every run.
func newJumpingClock() *fakeclock.Clock {
	return fakeclock.NewJumping(time.Now().Truncate(time.Minute))
}

// directAction invokes the action without Terraform, on a fake clock, and
// keeps the progress messages it sent.
type directAction struct {
	action   *configurationImportWaitAction
	schema   action.SchemaResponse
	messages []string
}

func newDirectAction(t *testing.T, portal *testPortal, clock bitrix24.Clock) *directAction {
	t.Helper()
	d := &directAction{action: &configurationImportWaitAction{
		provider: testProviderData(t, portal, func(cfg *bitrix24.Config) { cfg.Clock = clock }),
	}}
	d.action.Schema(context.Background(), action.SchemaRequest{}, &d.schema)
	return d
}

// invoke runs Invoke with these attributes (null otherwise); wait, when not
// nil, holds the wait block's. capture false leaves SendProgress nil.
func (d *directAction) invoke(ctx context.Context, attributes, wait map[string]tftypes.Value, capture bool) action.InvokeResponse {
	objectType := d.schema.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if wait != nil {
		attributes["wait"] = objectValue(objectType.AttributeTypes["wait"].(tftypes.Object), wait)
	}
	var resp action.InvokeResponse
	if capture {
		resp.SendProgress = func(e action.InvokeProgressEvent) { d.messages = append(d.messages, e.Message) }
	}
	config := tfsdk.Config{Schema: d.schema.Schema, Raw: objectValue(objectType, attributes)}
	d.action.Invoke(ctx, action.InvokeRequest{Config: config}, &resp)
	return resp
}

// runsBeforePoll moves the import as the test says: before poll n, the
// agent runs runs[n] times.
func runsBeforePoll(portal *testPortal, id int64, runs map[int]int) {
	portal.mu.Lock()
	defer portal.mu.Unlock()
	portal.beforePoll = func(poll int) {
		if n := runs[poll]; n > 0 {
			portal.Advance(id, n)
		}
	}
}

// Without a SendProgress (as a framework older than actions' progress
// would call it) the action still waits and ends well.
func TestConfigurationImportWaitAction_nilSendProgress(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	runsBeforePoll(portal, id, map[int]int{2: 3, 3: 100})

	resp := newDirectAction(t, portal, newJumpingClock()).invoke(context.Background(), processIDValue(id), nil, false)
	if resp.Diagnostics.HasError() {
		t.Fatalf("invoke failed: %v", resp.Diagnostics)
	}
	if got := getRequests(portal); got != 3 {
		t.Errorf("the portal answered %d gets; want 3", got)
	}
}

// A failed import fails the action with the resource's labelled portal
// messages, after the summary; fail_on_error = false makes it a warning.
func TestConfigurationImportWaitAction_failedImport(t *testing.T) {
	t.Parallel()
	for _, failOnError := range []bool{true, false} {
		t.Run(fmt.Sprintf("fail_on_error=%t", failOnError), func(t *testing.T) {
			t.Parallel()
			portal, id := portalWithImport(t, failingScript())
			runsBeforePoll(portal, id, map[int]int{2: 2, 3: 2})

			d := newDirectAction(t, portal, newJumpingClock())
			var wait map[string]tftypes.Value
			if !failOnError {
				wait = map[string]tftypes.Value{"fail_on_error": tftypes.NewValue(tftypes.Bool, false)}
			}
			resp := d.invoke(context.Background(), processIDValue(id), wait, true)

			summary := fmt.Sprintf("import %d failed after 1m5s and 3 polls: 0 notices, 1 error", id)
			if last := d.messages[len(d.messages)-1]; last != summary {
				t.Errorf("last message %q; want %q", last, summary)
			}
			wantDetail := failedReport(id)
			if len(resp.Diagnostics) != 1 {
				t.Fatalf("diagnostics %v; want one", resp.Diagnostics)
			}
			got := resp.Diagnostics[0]
			if got.Summary() != "Configuration import failed" || !strings.HasPrefix(got.Detail(), wantDetail) {
				t.Errorf("diagnostic %q: %q; want %q: %q...", got.Summary(), got.Detail(), "Configuration import failed", wantDetail)
			}
			if resp.Diagnostics.HasError() != failOnError {
				t.Errorf("an error: %t; want %t", resp.Diagnostics.HasError(), failOnError)
			}
			if !failOnError && !strings.HasSuffix(got.Detail(), "The action ends with this warning instead of failing the run because the wait block sets fail_on_error = false.") {
				t.Errorf("the warning %q does not say the action ends without an error", got.Detail())
			}
		})
	}
}

// A warning about the wait's settings is the first progress line, before
// the first poll, and not a diagnostic: Terraform shows those only after the
// wait, and prints an action's with its "Action failed" line too.
func TestConfigurationImportWaitAction_warnsBeforeWaiting(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})

	d := newDirectAction(t, portal, newJumpingClock())
	resp := d.invoke(context.Background(), processIDValue(id),
		map[string]tftypes.Value{"poll_interval": tftypes.NewValue(tftypes.String, "2s")}, true)
	if len(resp.Diagnostics) != 0 {
		t.Errorf("diagnostics %v; want none: the warning is a progress line", resp.Diagnostics)
	}
	want := fmt.Sprintf("import %d: warning: Polling more often than the portal changes. wait.poll_interval is 2s, "+
		"shorter than 1m0s: the portal's agent advances an import at most once a minute", id)
	if len(d.messages) != 2 || !strings.HasPrefix(d.messages[0], want) {
		t.Errorf("progress messages %q; want a first one starting %q, then the summary", d.messages, want)
	}
}

// Ctrl-C makes Terraform cancel the context of the invocation. A wait at
// the default one-minute interval must end within a second of that, and say
// it was cancelled, where the import was and that it goes on.
func TestConfigurationImportWaitAction_cancelEndsPromptly(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs
	advanceTo(t, portal, id, "load")

	ctx, cancelledAt := cancelAfterFirstPoll(portal)
	d := newDirectAction(t, portal, nil)
	resp := d.invoke(ctx, processIDValue(id), nil, true)
	if took := time.Since(cancelledAt()); took > time.Second {
		t.Errorf("Invoke returned %s after the cancellation; want at once", took)
	}
	want := cancelledWaitDetail(id, afterCancelledAction)
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary() != "Waiting for the configuration import was cancelled" ||
		!want.MatchString(resp.Diagnostics[0].Detail()) {
		t.Errorf("diagnostics %v; want the one that says the wait was cancelled, matching %s", resp.Diagnostics, want)
	}
	// No progress line after the cancellation: once Terraform has stopped, it
	// would make Terraform drop the error (see protocolServer).
	if len(d.messages) != 1 {
		t.Errorf("progress messages %q; want the first poll's only", d.messages)
	}
}

// failedReport is the resource's labelled report of failingScript's import,
// which the action gives too.
func failedReport(id int64) string {
	return fmt.Sprintf("Configuration import %d failed (status E) at action clean, step 0, section CRM_STATUS. "+
		"The portal's messages:\n  exception [ERROR_ACCESS]: Access denied to REST_APPLICATION\n"+
		"  error [ERROR_CONTENT]: Status CRM_STATUS/SOURCE was skipped", id)
}
