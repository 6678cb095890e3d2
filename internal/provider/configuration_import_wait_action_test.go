// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	actionschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// autoClock is a fake bitrix24.Clock whose timers fire at once, moving the
// time to their end: a wait at one poll a minute runs at full speed while
// every elapsed time it reports is exact. It starts at the real time, so
// that a real deadline lies where it would, on a whole minute, so that a
// schedule that aligns to the portal's clock sees the same phases every run.
type autoClock struct {
	mu  sync.Mutex
	now time.Time
}

func newAutoClock() *autoClock { return &autoClock{now: time.Now().Truncate(time.Minute)} }

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) NewTimer(d time.Duration) bitrix24.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	fired := make(chan time.Time, 1)
	fired <- c.now
	return firedTimer(fired)
}

type firedTimer chan time.Time

func (t firedTimer) C() <-chan time.Time { return t }
func (t firedTimer) Stop() bool          { return false }

// directAction invokes the action without Terraform, on a fake clock, and
// keeps the progress messages it sent.
type directAction struct {
	action   *configurationImportWaitAction
	schema   action.SchemaResponse
	messages []string
}

func newDirectAction(t *testing.T, portal *testPortal, clock bitrix24.Clock) *directAction {
	t.Helper()
	webhook, err := bitrix24.ParseWebhookURL(portal.webhookURL())
	if err != nil {
		t.Fatal(err)
	}
	client, err := bitrix24.NewClient(bitrix24.Config{Auth: webhook, Logger: tflogLogger{}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	d := &directAction{action: &configurationImportWaitAction{
		provider: &providerData{client: client, secrets: webhook.Secrets()},
		clock:    clock,
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

// The action says where the import is at the first poll and at every
// change, says it is still alive after five quiet minutes, and ends with a
// summary; one request per poll. The clock is fake: 26 polls on the wait's
// schedule (a minute apart, and closer while it follows the agent's rhythm)
// take no real time, and every elapsed time is exact.
func TestConfigurationImportWaitAction_progressAndHeartbeat(t *testing.T) {
	t.Parallel()
	clock := newAutoClock()
	// The portal's clock is the wait's, as on a real portal, whose answers
	// say its time: the rhythm reads it.
	portal := newTestPortal(t, emulator.Config{Now: clock.Now})
	id := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS"},
		Messages:     []emulator.ScriptedMessage{{AtRun: 5, Type: "notice", Message: "Pipeline renamed"}},
		CreatedItems: []any{"pipeline", "stage"},
	})
	// S for 7 polls, then one step a poll through load, quiet for 12 polls
	// (more than five minutes), then finish (with a notice), the step after
	// the last, and F.
	runsBeforePoll(portal, id, map[int]int{8: 1, 9: 1, 10: 1, 11: 1, 24: 1, 25: 1, 26: 1})

	d := newDirectAction(t, portal, clock)
	resp := d.invoke(context.Background(), processIDValue(id), nil, true)
	if resp.Diagnostics.HasError() {
		t.Fatalf("invoke failed: %v", resp.Diagnostics)
	}

	want := []string{
		"import %d: registered, not started yet (0s elapsed, 1 poll)",
		"import %d: still registered, not started yet (5m elapsed, 6 polls; no change for 5m)",
		"import %d: running - preparing files CRM_STATUS, step 0 (7m elapsed, 8 polls)",
		"import %d: running - reading the manifest CRM_STATUS, step 0 (7m elapsed, 9 polls)",
		"import %d: running - clearing CRM_STATUS, step 0 (8m elapsed, 10 polls)",
		"import %d: running - loading CRM_STATUS, step 0 (9m elapsed, 11 polls)",
		"import %d: still running - loading CRM_STATUS, step 0 (15m elapsed, 20 polls; no change for 5m)",
		"import %d: running - finishing, step 0, 1 notice (19m elapsed, 24 polls)",
		"import %d: running - all steps done, about to be marked finished, 1 notice (20m elapsed, 25 polls)",
		"import %d finished after 21m and 26 polls: 2 items created, 1 notice",
	}
	for i := range want {
		want[i] = fmt.Sprintf(want[i], id)
	}
	if got := strings.Join(d.messages, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("progress messages:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if got := getRequests(portal); got != 26 {
		t.Errorf("the portal answered %d gets; want 26, one per poll", got)
	}
}

// Without a SendProgress (as a framework older than actions' progress
// would call it) the action still waits and ends well.
func TestConfigurationImportWaitAction_nilSendProgress(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	runsBeforePoll(portal, id, map[int]int{2: 3, 3: 100})

	resp := newDirectAction(t, portal, newAutoClock()).invoke(context.Background(), processIDValue(id), nil, false)
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
			portal := newTestPortal(t, emulator.Config{})
			id := portal.CreateProcess(failingScript())
			runsBeforePoll(portal, id, map[int]int{2: 2, 3: 2})

			d := newDirectAction(t, portal, newAutoClock())
			var wait map[string]tftypes.Value
			if !failOnError {
				wait = map[string]tftypes.Value{"fail_on_error": tftypes.NewValue(tftypes.Bool, false)}
			}
			resp := d.invoke(context.Background(), processIDValue(id), wait, true)

			summary := fmt.Sprintf("import %d failed after 1m and 3 polls: 0 notices, 1 error", id)
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

// A poll that fails in a way worth another try is said once, without the
// webhook's code, and the next good poll says the import is still there.
func TestConfigurationImportWaitAction_failedPollSaidWithoutSecret(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	// Poll 2 fails, with its one retry: the gets the portal sees are poll 1,
	// poll 2 twice, poll 3, poll 4.
	portal.mu.Lock()
	portal.beforePoll = func(get int) {
		switch get {
		case 2:
			portal.InjectFault("configuration.import.get", emulator.Fault{HTTPStatus: 503, Body: "<html>busy</html>", Count: 2})
		case 5:
			portal.RunToEnd(id)
		}
	}
	portal.mu.Unlock()

	d := newDirectAction(t, portal, newAutoClock())
	webhook, _ := bitrix24.ParseWebhookURL(portal.webhookURL())
	cfg := bitrix24.Config{Auth: webhook, Logger: tflogLogger{}, MaxRetries: 1, Clock: d.action.clock}
	fastRetries(&cfg)
	client, err := bitrix24.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.action.provider.client = client
	resp := d.invoke(context.Background(), processIDValue(id), nil, true)
	if resp.Diagnostics.HasError() {
		t.Fatalf("invoke failed: %v", resp.Diagnostics)
	}

	all := strings.Join(d.messages, "\n")
	if strings.Contains(all, testWebhookCode) {
		t.Errorf("a progress message shows the webhook code:\n%s", all)
	}
	want := []string{
		fmt.Sprintf("import %d: registered, not started yet (0s elapsed, 1 poll)", id),
		fmt.Sprintf("import %d: poll 2 failed, trying again at the next poll: ", id),
		fmt.Sprintf("import %d: still registered, not started yet (2m elapsed, 3 polls; no change for 2m)", id),
		fmt.Sprintf("import %d finished after 3m and 4 polls: 0 items created, 0 notices", id),
	}
	if len(d.messages) != len(want) {
		t.Fatalf("progress messages:\n%s\nwant %d", all, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(d.messages[i], w) {
			t.Errorf("message %d is %q; want it to start with %q", i+1, d.messages[i], w)
		}
	}
}

// Ctrl-C makes Terraform cancel the context of the invocation. A wait at
// the default one-minute interval must end within a second of that, and
// say it was cancelled.
func TestConfigurationImportWaitAction_cancelEndsPromptly(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{}) // the agent never runs
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})

	ctx, cancelledAt := cancelAfterFirstPoll(portal)
	d := newDirectAction(t, portal, nil)
	resp := d.invoke(ctx, processIDValue(id), nil, true)
	if took := time.Since(cancelledAt()); took > time.Second {
		t.Errorf("Invoke returned %s after the cancellation; want at once", took)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary() != "Waiting for the configuration import was cancelled" {
		t.Errorf("diagnostics %v; want the one that says the wait was cancelled", resp.Diagnostics)
	}
	if len(d.messages) != 1 {
		t.Errorf("progress messages %q; want the first poll's only", d.messages)
	}
}

// The action's wait block is the data source's, converted: the same
// settings and validators, and the same descriptions but for what false
// does (an action records nothing); timeout has the project's duration
// validator.
func TestActionBlock_sharesWaitSettings(t *testing.T) {
	var resp action.SchemaResponse
	newConfigurationImportWaitAction().Schema(context.Background(), action.SchemaRequest{}, &resp)
	wait, ok := resp.Schema.Blocks["wait"].(actionschema.SingleNestedBlock)
	if !ok {
		t.Fatalf("wait is %T; want a single nested block", resp.Schema.Blocks["wait"])
	}
	want := waitBlock("")
	if len(wait.Attributes) != len(want.Attributes) {
		t.Fatalf("wait has %d settings; want %d", len(wait.Attributes), len(want.Attributes))
	}
	for name, w := range want.Attributes {
		got, ok := wait.Attributes[name]
		if !ok {
			t.Errorf("wait.%s is missing", name)
			continue
		}
		sameText := got.GetMarkdownDescription() == w.GetMarkdownDescription()
		if strings.HasPrefix(name, "fail_on_") {
			sameText = !strings.Contains(got.GetMarkdownDescription(), "record") &&
				strings.Contains(got.GetMarkdownDescription(), "end with a warning")
		}
		if !sameText || !got.IsOptional() {
			t.Errorf("wait.%s differs from the data source's: %#v", name, got)
		}
	}
	if got := wait.Attributes["poll_interval"].(actionschema.StringAttribute).Validators; len(got) != 1 {
		t.Errorf("wait.poll_interval has %d validators; want the duration validator", len(got))
	}
	if got := resp.Schema.Attributes["timeout"].(actionschema.StringAttribute).Validators; len(got) != 1 {
		t.Errorf("timeout has %d validators; want the duration validator", len(got))
	}
}

// failedReport is the resource's labelled report of failingScript's import,
// which the action gives too.
func failedReport(id int64) string {
	return fmt.Sprintf("Configuration import %d failed (status E) at action clean, step 0, section CRM_STATUS. "+
		"The portal's messages:\n  exception [ERROR_ACCESS]: Access denied to REST_APPLICATION\n"+
		"  error [ERROR_CONTENT]: Status CRM_STATUS/SOURCE was skipped", id)
}
