// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// validateDataSource runs the data source's ValidateConfig on wait and
// timeouts values (nil leaves a block out).
func validateDataSource(t *testing.T, pollInterval, readTimeout *string) datasource.ValidateConfigResponse {
	t.Helper()
	ctx := context.Background()
	ds := &configurationImportDataSource{}
	var schemaResp datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &schemaResp)
	objectType := schemaResp.Schema.Type().TerraformType(ctx).(tftypes.Object)

	values := map[string]tftypes.Value{}
	for name, typ := range objectType.AttributeTypes {
		values[name] = tftypes.NewValue(typ, nil)
	}
	values["process_id"] = tftypes.NewValue(tftypes.String, "42")
	nested := func(name, attr string, value *string) {
		typ := objectType.AttributeTypes[name].(tftypes.Object)
		fields := map[string]tftypes.Value{}
		for n, ft := range typ.AttributeTypes {
			fields[n] = tftypes.NewValue(ft, nil)
		}
		fields[attr] = tftypes.NewValue(tftypes.String, *value)
		values[name] = tftypes.NewValue(typ, fields)
	}
	if pollInterval != nil {
		nested("wait", "poll_interval", pollInterval)
	}
	if readTimeout != nil {
		nested("timeouts", "read", readTimeout)
	}

	var resp datasource.ValidateConfigResponse
	ds.ValidateConfig(ctx, datasource.ValidateConfigRequest{
		Config: tfsdk.Config{Schema: schemaResp.Schema, Raw: tftypes.NewValue(objectType, values)},
	}, &resp)
	return resp
}

func TestValidateConfig_pollIntervalLongerThanReadTimeout(t *testing.T) {
	tests := []struct {
		name           string
		interval, read *string
		warn           bool
	}{
		{"longer than the read timeout", ptr("10m"), ptr("5m"), true},
		{"longer than the default read timeout", ptr("2h"), nil, true},
		{"equal to the read timeout", ptr("5m"), ptr("5m"), false},
		{"shorter", ptr("1m"), ptr("30m"), false},
		{"no wait", nil, ptr("1s"), false},
		{"unparsable: the attribute's validator reports it", ptr("soon"), ptr("1m"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := validateDataSource(t, tt.interval, tt.read)
			if resp.Diagnostics.HasError() {
				t.Fatalf("errors: %v", resp.Diagnostics)
			}
			warnings := resp.Diagnostics.Warnings()
			if got := len(warnings) == 1; got != tt.warn {
				t.Fatalf("warnings %v; want one: %v", warnings, tt.warn)
			}
			if tt.warn && !strings.Contains(warnings[0].Detail(), "wait.poll_interval") || tt.warn && !strings.Contains(warnings[0].Detail(), "timeouts.read") {
				t.Errorf("the warning does not name both attributes: %s", warnings[0].Detail())
			}
		})
	}
}
