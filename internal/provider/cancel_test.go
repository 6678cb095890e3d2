// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// Ctrl-C makes Terraform cancel the context of a read in flight. A wait at
// the default one-minute interval must end within a second of that, and say
// it was cancelled rather than timed out. The CLI cannot be interrupted from
// a test, so this calls the data source's Read directly.
func TestConfigurationImportDataSource_cancelEndsWaitPromptly(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{}) // the agent never runs
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	webhook, err := bitrix24.ParseWebhookURL(portal.webhookURL())
	if err != nil {
		t.Fatal(err)
	}
	client, err := bitrix24.NewClient(bitrix24.Config{Auth: webhook})
	if err != nil {
		t.Fatal(err)
	}
	ds := &configurationImportDataSource{provider: &providerData{client: client}}

	ctx := context.Background()
	var schemaResp datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &schemaResp)
	objectType := schemaResp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	values := map[string]tftypes.Value{}
	for name, typ := range objectType.AttributeTypes {
		values[name] = tftypes.NewValue(typ, nil)
	}
	values["process_id"] = tftypes.NewValue(tftypes.String, "1000")
	waitType := objectType.AttributeTypes["wait"].(tftypes.Object)
	values["wait"] = tftypes.NewValue(waitType, map[string]tftypes.Value{
		"poll_interval":   tftypes.NewValue(tftypes.String, nil), // the default: 1m
		"fail_on_error":   tftypes.NewValue(tftypes.Bool, nil),
		"fail_on_unknown": tftypes.NewValue(tftypes.Bool, nil),
	})
	config := tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(objectType, values)}
	if id != 1000 {
		t.Fatalf("the emulator numbered the process %d; the config above names 1000", id)
	}

	readCtx, cancel := context.WithCancel(ctx)
	var cancelledAt time.Time
	go func() {
		// Cancel once the first poll has been answered and the wait sleeps.
		for len(portal.Requests()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		cancelledAt = time.Now()
		cancel()
	}()
	resp := datasource.ReadResponse{State: tfsdk.State{Schema: schemaResp.Schema, Raw: tftypes.NewValue(objectType, nil)}}
	ds.Read(readCtx, datasource.ReadRequest{Config: config}, &resp)
	returned := time.Now()

	if took := returned.Sub(cancelledAt); took > time.Second {
		t.Errorf("the read returned %s after the cancellation; want under a second", took)
	}
	if !resp.Diagnostics.HasError() {
		t.Fatal("a cancelled wait returned no error")
	}
	d := resp.Diagnostics.Errors()[0]
	if d.Summary() != "Waiting for the configuration import was cancelled" || !strings.Contains(d.Detail(), "was cancelled after") {
		t.Errorf("unexpected diagnostic: %s: %s", d.Summary(), d.Detail())
	}
	t.Logf("read returned %s after the cancellation: %s", returned.Sub(cancelledAt), d.Detail())
}
