// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

func TestWaitSettingsWarn_intervals(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration // as configured; 0 left out
		timeout  time.Duration
		want     string // the warning's summary; "" for none
	}{
		{"left out", 0, time.Hour, ""},
		{"the portal's pace", time.Minute, time.Hour, ""},
		{"shorter than the portal's pace", 2 * time.Second, time.Hour, "Polling more often than the portal changes"},
		{"longer than the timeout", 10 * time.Minute, 5 * time.Minute, "Poll interval longer than the timeout"},
		{"equal to the timeout", 5 * time.Minute, 5 * time.Minute, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			waitSettings{pollInterval: time.Millisecond, configuredInterval: tt.interval}.warn(tt.timeout, path.Root("timeouts").AtName("read"), &diags)
			if diags.HasError() || len(diags) > 1 {
				t.Fatalf("want at most one warning: %v", diags)
			}
			var got string
			if len(diags) == 1 {
				got = diags[0].Summary()
				if !strings.Contains(diags[0].Detail(), "wait.poll_interval") {
					t.Errorf("the warning does not name wait.poll_interval: %s", diags[0].Detail())
				}
			}
			if got != tt.want {
				t.Errorf("warning %q, want %q", got, tt.want)
			}
		})
	}
}

// countWarnings counts the recorded warnings that contain text.
func countWarnings(warnings []string, text string) int {
	n := 0
	for _, w := range warnings {
		if strings.Contains(w, text) {
			n++
		}
	}
	return n
}

// A resource with a short poll interval warns once, when create waits, and
// never on the plans after it: it will not poll again.
func TestAccConfigurationImportWaitResource_shortPollIntervalWarnsOnlyAtCreate(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	config := portal.providerConfig() + waitResourceConfig("crm", id, "  wait {\n    poll_interval = \"2s\"\n  }\n")
	recorder := &warningRecorder{}
	var afterCreate []string

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: recorder.factories(),
		Steps: []resource.TestStep{
			{Config: config, Check: func(*terraform.State) error { afterCreate = recorder.Warnings(); return nil }},
			{Config: config, PlanOnly: true},
		},
	})

	if n := countWarnings(afterCreate, "ApplyResourceChange: Polling more often than the portal changes"); n != 1 {
		t.Errorf("create gave %d poll interval warnings; want 1: %q", n, afterCreate)
	}
	if later := recorder.Warnings()[len(afterCreate):]; len(later) > 0 {
		t.Errorf("the plans after create warned: %q", later)
	}
	if n := len(afterCreate); n != 1 {
		t.Errorf("%d warnings up to create; want only create's: %q", n, afterCreate)
	}
}

// A data source warns when it waits, and not when it only reads once.
func TestAccConfigurationImportWait_shortPollIntervalWarnsWhenWaiting(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	recorder := &warningRecorder{}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: recorder.factories(),
		Steps: []resource.TestStep{{
			Config: portal.providerConfig() + dataSourceConfig("waits", id, "  wait {\n    poll_interval = \"2s\"\n  }\n") +
				dataSourceConfig("reads_once", id, ""),
		}},
	})

	warnings := recorder.Warnings()
	if n := countWarnings(warnings, "ReadDataSource: Polling more often than the portal changes"); n == 0 || n != len(warnings) {
		t.Errorf("want only the waiting read's poll interval warnings: %q", warnings)
	}
}

// A wait left without a timeout gets the documented 60 minutes, whether the
// timeouts block is left out or its attribute is.
func TestTimeoutSetting_defaultIsAnHour(t *testing.T) {
	attrTypes := map[string]attr.Type{"read": types.StringType}
	for name, block := range map[string]types.Object{
		"no block":     types.ObjectNull(attrTypes),
		"no attribute": types.ObjectValueMust(attrTypes, map[string]attr.Value{"read": types.StringNull()}),
	} {
		var diags diag.Diagnostics
		got := timeoutIn(block, "read").duration(&diags)
		if diags.HasError() || got != 60*time.Minute {
			t.Errorf("%s: %v, %v; want 1h0m0s", name, got, diags)
		}
	}
}
