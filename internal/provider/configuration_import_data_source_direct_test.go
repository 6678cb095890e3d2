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

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// directRead calls the data source's Read without Terraform, for what the
// CLI cannot show a test: a cancelled context, and warnings (there is no
// ExpectWarning). wait holds the wait attributes; nil leaves wait out.
type directRead struct {
	processID string
	wait      map[string]tftypes.Value
	logger    bitrix24.Logger // the client's; nil for none
	provider  *providerData   // nil: a fresh client of the portal
}

func (r directRead) run(ctx context.Context, t *testing.T, portal *testPortal) (*configurationImportModel, diag.Diagnostics) {
	t.Helper()
	data := r.provider
	if data == nil {
		data = testProviderData(t, portal, func(cfg *bitrix24.Config) { cfg.Logger = r.logger })
	}
	ds := &configurationImportDataSource{provider: data}

	var schemaResp datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &schemaResp)
	objectType := schemaResp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	values := map[string]tftypes.Value{"process_id": tftypes.NewValue(tftypes.String, r.processID)}
	if r.wait != nil {
		values["wait"] = objectValue(objectType.AttributeTypes["wait"].(tftypes.Object), r.wait)
	}

	resp := datasource.ReadResponse{State: tfsdk.State{Schema: schemaResp.Schema, Raw: tftypes.NewValue(objectType, nil)}}
	ds.Read(ctx, datasource.ReadRequest{Config: tfsdk.Config{Schema: schemaResp.Schema, Raw: objectValue(objectType, values)}}, &resp)
	if resp.Diagnostics.HasError() {
		return nil, resp.Diagnostics
	}
	var state configurationImportModel
	resp.Diagnostics.Append(resp.State.Get(ctx, &state)...)
	return &state, resp.Diagnostics
}

// testProviderData is what Configure hands out for the test portal, its
// client logging to tflog; adjust, when not nil, changes the client's
// settings.
func testProviderData(t *testing.T, portal *testPortal, adjust func(*bitrix24.Config)) *providerData {
	t.Helper()
	webhook, err := bitrix24.ParseWebhookURL(portal.webhookURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := bitrix24.Config{Auth: webhook, Logger: tflogLogger{}}
	if adjust != nil {
		adjust(&cfg)
	}
	data, err := newProviderData(cfg, webhook.Secrets())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// objectValue is an object of type typ with the given attributes, and null
// for every other one.
func objectValue(typ tftypes.Object, set map[string]tftypes.Value) tftypes.Value {
	values := map[string]tftypes.Value{}
	for name, attrType := range typ.AttributeTypes {
		values[name] = tftypes.NewValue(attrType, nil)
	}
	for name, v := range set {
		values[name] = v
	}
	return tftypes.NewValue(typ, values)
}

// cancelAfterFirstPoll cancels the returned context once the portal has
// answered its first request and the wait sleeps until the next poll; the
// function returned waits for the cancellation and tells when it was.
func cancelAfterFirstPoll(portal *testPortal) (context.Context, func() time.Time) {
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan time.Time, 1)
	go func() {
		for len(portal.Requests()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		cancelled <- time.Now()
		cancel()
	}()
	return ctx, sync.OnceValue(func() time.Time { return <-cancelled })
}

// Ctrl-C makes Terraform cancel the context of a read in flight. A wait at
// the default one-minute interval must end within a second of that, and say
// it was cancelled rather than timed out.
func TestConfigurationImportDataSource_cancelEndsWaitPromptly(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs
	advanceTo(t, portal, id, "load")

	ctx, cancelledAt := cancelAfterFirstPoll(portal)
	_, diags := directRead{processID: fmt.Sprint(id), wait: map[string]tftypes.Value{}}.run(ctx, t, portal)
	returned := time.Now()

	if took := returned.Sub(cancelledAt()); took > time.Second {
		t.Errorf("the read returned %s after the cancellation; want under a second", took)
	}
	if !diags.HasError() {
		t.Fatal("a cancelled wait returned no error")
	}
	d := diags.Errors()[0]
	if want := cancelledWaitDetail(id, afterCancelledRead); d.Summary() != "Waiting for the configuration import was cancelled" ||
		!want.MatchString(d.Detail()) {
		t.Errorf("diagnostic %s: %s\nwant the detail to match %s", d.Summary(), d.Detail(), want)
	}
	t.Logf("read returned %s after the cancellation: %s", returned.Sub(cancelledAt()), d.Detail())
}

// Ctrl-C during the single read of a data source without a wait block
// says that the read was cancelled, as a cancelled wait does, not that the
// read failed.
func TestConfigurationImportDataSource_cancelledReadSaysSo(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, diags := directRead{processID: fmt.Sprint(id)}.run(ctx, t, portal)

	if len(diags.Errors()) != 1 {
		t.Fatalf("diagnostics %v, want one error", diags)
	}
	if d := diags.Errors()[0]; d.Summary() != "Reading the configuration import was cancelled" || !strings.Contains(d.Detail(), "Run again") {
		t.Errorf("diagnostic %s: %s; want a cancelled read", d.Summary(), d.Detail())
	}
}

// With fail_on_error = false and fail_on_unknown = false the state is
// recorded with a warning that carries the portal's messages.
func TestConfigurationImportDataSource_waitWarnsInsteadOfFailing(t *testing.T) {
	t.Parallel()
	portal, failed := portalWithEndedImport(t, failingScript())

	tests := map[string]struct {
		processID   string
		wait        map[string]tftypes.Value
		wantStatus  string
		wantWarning string
	}{
		"failed": {
			processID:   fmt.Sprint(failed),
			wait:        map[string]tftypes.Value{"fail_on_error": tftypes.NewValue(tftypes.Bool, false)},
			wantStatus:  "E",
			wantWarning: "exception [ERROR_ACCESS]: Access denied to REST_APPLICATION",
		},
		"unknown": {
			processID:   "31337",
			wait:        map[string]tftypes.Value{"fail_on_unknown": tftypes.NewValue(tftypes.Bool, false)},
			wantStatus:  "U",
			wantWarning: "purged the import's data",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			state, diags := directRead{processID: tc.processID, wait: tc.wait}.run(context.Background(), t, portal)
			if diags.HasError() {
				t.Fatalf("unexpected error: %v", diags)
			}
			if got := state.Status.ValueString(); got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
			warnings := diags.Warnings()
			if len(warnings) != 1 || !strings.Contains(warnings[0].Detail(), tc.wantWarning) {
				t.Errorf("want one warning containing %q, got %v", tc.wantWarning, warnings)
			}
		})
	}
}
