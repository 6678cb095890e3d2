// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// directResource calls the resource's methods without Terraform, for what
// the CLI cannot show a test: a cancelled create, warnings, and the log.
type directResource struct {
	resource   *configurationImportWaitResource
	resp       resource.SchemaResponse
	objectType tftypes.Object
}

func newDirectResource(t *testing.T, portal *testPortal, secrets ...string) *directResource {
	t.Helper()
	data := testProviderData(t, portal, nil)
	data.secrets = append(data.secrets, secrets...)
	r := &configurationImportWaitResource{provider: data}
	d := &directResource{resource: r}
	r.Schema(context.Background(), resource.SchemaRequest{}, &d.resp)
	d.objectType = d.resp.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
	return d
}

func (d *directResource) nullState() tfsdk.State {
	return tfsdk.State{Schema: d.resp.Schema, Raw: tftypes.NewValue(d.objectType, nil)}
}

// create runs Create for a plan with these attributes (null otherwise; the
// computed ones stay null where Terraform would plan them unknown, which
// Create overwrites all the same).
func (d *directResource) create(ctx context.Context, attributes map[string]tftypes.Value) resource.CreateResponse {
	resp := resource.CreateResponse{State: d.nullState()}
	plan := tfsdk.Plan{Schema: d.resp.Schema, Raw: objectValue(d.objectType, attributes)}
	d.resource.Create(ctx, resource.CreateRequest{Plan: plan}, &resp)
	return resp
}

func (d *directResource) importState(ctx context.Context, id string) resource.ImportStateResponse {
	resp := resource.ImportStateResponse{State: d.nullState()}
	d.resource.ImportState(ctx, resource.ImportStateRequest{ID: id}, &resp)
	return resp
}

func processIDValue(id int64) map[string]tftypes.Value {
	return map[string]tftypes.Value{"process_id": tftypes.NewValue(tftypes.String, fmt.Sprint(id))}
}

// Ctrl-C makes Terraform cancel the context of a create in flight. A wait
// at the default one-minute interval must end within a second of that, say
// it was cancelled, and record nothing.
func TestConfigurationImportWaitResource_cancelEndsCreatePromptly(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs
	advanceTo(t, portal, id, "load")
	d := newDirectResource(t, portal)
	d.resource.provider.pollIntervalOverride = 0 // poll at the default minute

	ctx, cancelledAt := cancelAfterFirstPoll(portal)
	resp := d.create(ctx, processIDValue(id))
	returned := time.Now()

	took := returned.Sub(cancelledAt())
	t.Logf("create returned %s after the cancellation", took)
	if took > time.Second {
		t.Errorf("create returned %s after the cancellation; want under a second", took)
	}
	if !resp.Diagnostics.HasError() {
		t.Fatal("a cancelled create returned no error")
	}
	if diag, want := resp.Diagnostics.Errors()[0], cancelledWaitDetail(id, afterCancelledCreate); diag.Summary() !=
		"Waiting for the configuration import was cancelled" || !want.MatchString(diag.Detail()) {
		t.Errorf("diagnostic %s: %s\nwant the detail to match %s", diag.Summary(), diag.Detail(), want)
	}
	if !resp.State.Raw.IsNull() {
		t.Errorf("a cancelled create recorded state: %s", resp.State.Raw)
	}
}

// What the CLI shows but a test cannot see: the warning of a failed import
// that the settings, or terraform import, record instead of failing on.
func TestConfigurationImportWaitResource_recordedFailureWarns(t *testing.T) {
	t.Parallel()
	portal, failed := portalWithEndedImport(t, failingScript())
	d := newDirectResource(t, portal)

	created := d.create(context.Background(), map[string]tftypes.Value{
		"process_id": tftypes.NewValue(tftypes.String, fmt.Sprint(failed)),
		"wait": objectValue(d.objectType.AttributeTypes["wait"].(tftypes.Object), map[string]tftypes.Value{
			"fail_on_error": tftypes.NewValue(tftypes.Bool, false),
		}),
	})
	imported := d.importState(context.Background(), fmt.Sprint(failed))

	for name, tc := range map[string]struct {
		diags       diag.Diagnostics
		wantSummary string
	}{
		"create": {created.Diagnostics, "Configuration import failed"},
		"import": {imported.Diagnostics, "Imported a failed configuration import"},
	} {
		warnings := tc.diags.Warnings()
		if tc.diags.HasError() || len(warnings) != 1 || warnings[0].Summary() != tc.wantSummary ||
			!strings.Contains(warnings[0].Detail(), "exception [ERROR_ACCESS]: Access denied to REST_APPLICATION") {
			t.Errorf("%s: want one warning %q with the portal's exception, got %v", name, tc.wantSummary, tc.diags)
		}
	}
	var state configurationImportWaitModel
	imported.Diagnostics.Append(imported.State.Get(context.Background(), &state)...)
	if state.Status.ValueString() != "E" || imported.Diagnostics.HasError() {
		t.Errorf("import recorded status %q, diagnostics %v; want E", state.Status.ValueString(), imported.Diagnostics)
	}
}

// Every method masks the webhook's secrets in what it logs. The test
// declares the portal's host and the process id secret, since they appear
// in the lines these methods write.
func TestConfigurationImportWaitResource_masksSecretsInEveryMethod(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	const host = "127.0.0.1"
	d := newDirectResource(t, portal, host, fmt.Sprint(id))

	logged := func(call func(ctx context.Context)) string {
		var out bytes.Buffer
		call(tflogtest.RootLogger(context.Background(), &out))
		return out.String()
	}
	var state tfsdk.State
	logs := map[string]string{}
	logs["create"] = logged(func(ctx context.Context) { state = d.create(ctx, processIDValue(id)).State })
	logs["read"] = logged(func(ctx context.Context) {
		d.resource.Read(ctx, resource.ReadRequest{State: state}, &resource.ReadResponse{State: state})
	})
	logs["update"] = logged(func(ctx context.Context) {
		d.resource.Update(ctx, resource.UpdateRequest{Plan: tfsdk.Plan(state), State: state}, &resource.UpdateResponse{State: state})
	})
	logs["delete"] = logged(func(ctx context.Context) {
		d.resource.Delete(ctx, resource.DeleteRequest{State: state}, &resource.DeleteResponse{State: state})
	})

	for method, out := range logs {
		switch {
		case out == "":
			t.Errorf("%s logged nothing", method)
		case strings.Contains(out, host) || strings.Contains(out, fmt.Sprintf(`"process_id":"%d"`, id)):
			t.Errorf("%s logged a secret:\n%s", method, out)
		case !strings.Contains(out, "***"):
			t.Errorf("%s masked nothing:\n%s", method, out)
		}
	}
}
