// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// terraform import records a finished import from a single read, with the
// attributes create would have recorded.
func TestAccConfigurationImportWaitResource_import(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS"},
		Additional:   map[string]any{"APP_ID": 7},
		CreatedItems: []any{map[string]any{"ENTITY": "CRM_STATUS", "ID": "12"}},
	})
	portal.RunToEnd(id)
	config := portal.providerConfig() + waitResourceConfig("crm", id, "")
	var mark int

	unitTest(t, resource.TestStep{
		Config: config,
	}, resource.TestStep{
		PreConfig:         func() { mark = getRequests(portal) },
		Config:            config,
		ResourceName:      waitResourceType + ".crm",
		ImportState:       true,
		ImportStateVerify: true,
		// When the provider saw the import end differs between create and
		// import by the time between them.
		ImportStateVerifyIgnore: []string{"finished_at"},
		ImportStateCheck: func(states []*terraform.InstanceState) error {
			if got := getRequests(portal) - mark; got != 1 {
				return fmt.Errorf("terraform import made %d configuration.import.get requests; want 1", got)
			}
			if len(states) != 1 || states[0].Attributes["process_id"] != fmt.Sprint(id) || states[0].Attributes["finished_at"] == "" {
				return fmt.Errorf("unexpected imported state: %+v", states)
			}
			return nil
		},
	})
}

// A failed import is recorded as the portal reports it: terraform import
// has no wait settings to fail on it.
func TestAccConfigurationImportWaitResource_importFailedImport(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, failingScript())

	unitTest(t, resource.TestStep{
		Config:        portal.providerConfig() + waitResourceConfig("crm", id, "  wait { fail_on_error = false }\n"),
		ResourceName:  waitResourceType + ".crm",
		ImportState:   true,
		ImportStateId: fmt.Sprint(id),
		ImportStateCheck: func(states []*terraform.InstanceState) error {
			if len(states) != 1 || states[0].Attributes["status"] != "E" || states[0].Attributes["exceptions.0.code"] != "ERROR_ACCESS" {
				return fmt.Errorf("want the import recorded with status E and its exception, got %+v", states)
			}
			return nil
		},
	})
}

// terraform import refuses what a record must not hold: an import that is
// still running (Read never polls), one the portal forgot, and an id that
// is not a process id.
func TestAccConfigurationImportWaitResource_importRefused(t *testing.T) {
	t.Parallel()
	portal, started := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	running := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	advanceTo(t, portal, running, "load")

	tests := map[string]struct {
		importID string
		want     string
	}{
		"started":   {fmt.Sprint(started), fmt.Sprintf(`Configuration import has not ended.*import %d is S \(started\).*create waits for the import`, started)},
		"running":   {fmt.Sprint(running), `Configuration import has not ended.*is P \(processing\), action load, step \d+, section CRM_STATUS`},
		"unknown":   {"424242", `Configuration import unknown to the portal.*import 424242 \(status U\).*2 to 3 days after the import ended.*What next: check the id.*fail_on_unknown = false in the wait block`},
		"not an id": {"crm-import", `Invalid import id.*"crm-import" is not a whole number`},
		"zero":      {"0", `Invalid import id.*greater than zero`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			unitTest(t, resource.TestStep{
				Config:        portal.providerConfig() + waitResourceConfig("crm", 1, ""),
				ResourceName:  waitResourceType + ".crm",
				ImportState:   true,
				ImportStateId: tc.importID,
				ExpectError:   expectError(tc.want),
			})
		})
	}
}
