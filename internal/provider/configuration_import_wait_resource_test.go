// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

const waitResourceType = "bitrix24_configuration_import_wait"

func waitResourceConfig(name string, id int64, extra string) string {
	return fmt.Sprintf(`
resource %q %q {
  process_id = %d
%s}
`, waitResourceType, name, id, extra)
}

func expectRecorded(name, attribute string, check knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(waitResourceType+"."+name, tfjsonpath.New(attribute), check)
}

// rfc3339UTC matches finished_at.
var rfc3339UTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// getRequestsSince is a plan check that counts the configuration.import.get
// requests the portal answered since *mark, which a PreConfig sets.
type getRequestsSince struct {
	portal *testPortal
	mark   *int
	want   int
}

func (c getRequestsSince) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if got := importReads(c.portal) - *c.mark; got != c.want {
		resp.Error = fmt.Errorf("the portal read %d imports in this step, plain or in a batch; want %d", got, c.want)
	}
}

// importReads counts the imports the portal was asked for, in plain
// configuration.import.get requests and in batch commands alike.
func importReads(portal *testPortal) int {
	n := 0
	for _, r := range portal.Requests() {
		n += len(r.ProcessIDs())
	}
	return n
}

// createdAfresh checks that a step creates the record rather than replace
// one: a failed create left nothing in state, not even a tainted record.
var createdAfresh = resource.ConfigPlanChecks{
	PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(waitResourceType+".crm", plancheck.ResourceActionCreate),
	},
}

// Create waits while the import is registered and running, and records it
// once finished; resources that reference it or depend on it come after.
func TestAccConfigurationImportWaitResource_createWaitsUntilFinished(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS", "REST_APPLICATION"},
		Files:        2,
		Additional:   map[string]any{"APP_ID": 7},
		CreatedItems: []any{map[string]any{"ENTITY": "CRM_STATUS", "ID": "12"}},
	})
	portal.runAgentFromFirstPoll(t, id, testAgentPeriod)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", id, "") + `
resource "terraform_data" "uses_created_items" {
  input = bitrix24_configuration_import_wait.crm.created_items
}

resource "terraform_data" "ordered_after_import" {
  input      = "created after the import"
  depends_on = [bitrix24_configuration_import_wait.crm]
}
`,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(waitResourceType+".crm", plancheck.ResourceActionCreate),
				plancheck.ExpectUnknownValue("terraform_data.uses_created_items", tfjsonpath.New("input")),
			},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			expectRecorded("crm", "id", knownvalue.StringExact(fmt.Sprint(id))),
			expectRecorded("crm", "process_id", knownvalue.StringExact(fmt.Sprint(id))),
			expectRecorded("crm", "status", knownvalue.StringExact("F")),
			expectRecorded("crm", "state", knownvalue.StringExact("finished")),
			expectRecorded("crm", "finished", knownvalue.Bool(true)),
			expectRecorded("crm", "progress", knownvalue.Null()),
			expectRecorded("crm", "notices", emptyList),
			expectRecorded("crm", "exceptions", emptyList),
			expectRecorded("crm", "additional", knownvalue.StringExact(`{"APP_ID":7}`)),
			expectRecorded("crm", "created_items", knownvalue.StringExact(`[{"ENTITY":"CRM_STATUS","ID":"12"}]`)),
			expectRecorded("crm", "finished_at", knownvalue.StringRegexp(rfc3339UTC)),
			expectRecorded("crm", "wait", knownvalue.Null()),
			statecheck.ExpectKnownValue("terraform_data.uses_created_items", tfjsonpath.New("output"),
				knownvalue.StringExact(`[{"ENTITY":"CRM_STATUS","ID":"12"}]`)),
		},
		Check: func(*terraform.State) error { return checkWaitedThrough(portal) },
	})
}

// failingFromFirstPoll registers the failing import on a portal whose agent
// starts at the first poll, so that E arrives while create waits.
func failingFromFirstPoll(t *testing.T) (*testPortal, int64) {
	t.Helper()
	portal, id := portalWithRunningImport(t, failingScript(), testAgentPeriod)
	return portal, id
}

// A failure that arrives while create waits fails the apply with the
// portal's messages and leaves nothing in state: the next apply creates the
// resource afresh instead of replacing a tainted one.
func TestAccConfigurationImportWaitResource_failedImportFailsCreate(t *testing.T) {
	t.Parallel()
	portal, id := failingFromFirstPoll(t)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", id, ""),
		ExpectError: expectError(fmt.Sprintf(`Configuration import failed.*import %d failed \(status E\) at action.*`+
			`exception \[ERROR_ACCESS\]: Access denied to REST_APPLICATION.*error \[ERROR_CONTENT\]: Status CRM_STATUS/SOURCE was skipped.*`+
			`What next:.*register the import again with configuration.import.register and set process_id.*`+
			`set fail_on_error = false in the wait block`, id)),
	}, resource.TestStep{
		PreConfig: func() {
			// The import was registered when the wait began: E came during it.
			if statuses := strings.Join(answeredStatuses(portal), ""); !regexp.MustCompile(`^S+P+E$`).MatchString(statuses) {
				t.Errorf("the portal answered %q; want S, then P, then E", statuses)
			}
		},
		Config:            portal.providerConfig() + waitResourceConfig("crm", id, "  wait { fail_on_error = false }\n"),
		ConfigPlanChecks:  createdAfresh,
		ConfigStateChecks: []statecheck.StateCheck{expectRecorded("crm", "status", knownvalue.StringExact("E"))},
	})
}

// An id the portal does not know fails create, saying why it may be
// unknown; fail_on_unknown = false records it.
func TestAccConfigurationImportWaitResource_unknownImportFailsCreate(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", 424242, ""),
		ExpectError: expectError(`Configuration import unknown to the portal.*import 424242 \(status U\).*purged.*` +
			`What next: check process_id against the processId.*set fail_on_unknown = false in the wait block`),
	}, resource.TestStep{
		Config:           portal.providerConfig() + waitResourceConfig("crm", 424242, "  wait { fail_on_unknown = false }\n"),
		ConfigPlanChecks: createdAfresh,
		ConfigStateChecks: []statecheck.StateCheck{
			expectRecorded("crm", "status", knownvalue.StringExact("U")),
			expectRecorded("crm", "state", knownvalue.StringExact("unknown")),
			expectRecorded("crm", "finished", knownvalue.Bool(false)),
		},
	})
}

// With fail_on_error = false a failed import is recorded, as E, and the
// configuration can branch on it.
func TestAccConfigurationImportWaitResource_failOnErrorFalseRecordsFailure(t *testing.T) {
	t.Parallel()
	portal, id := failingFromFirstPoll(t)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", id, "  wait { fail_on_error = false }\n") + `
resource "terraform_data" "branch" {
  input = bitrix24_configuration_import_wait.crm.finished ? "go on" : "roll back: ${bitrix24_configuration_import_wait.crm.exceptions[0].message}"
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			expectRecorded("crm", "status", knownvalue.StringExact("E")),
			expectRecorded("crm", "state", knownvalue.StringExact("failed")),
			expectRecorded("crm", "exceptions", knownvalue.ListExact([]knownvalue.Check{
				message("ERROR_ACCESS", "Access denied to REST_APPLICATION", "exception"),
			})),
			expectRecorded("crm", "progress", knownvalue.NotNull()),
			statecheck.ExpectKnownValue("terraform_data.branch", tfjsonpath.New("output"),
				knownvalue.StringExact("roll back: Access denied to REST_APPLICATION")),
		},
	})
}

// purgedImportCase is a configuration with a recorded import and a
// dependent, and purge, which moves the emulator's clock past the import's
// retention (the portal then answers U) and sets mark to the count of get
// requests so far.
func purgedImportCase(t *testing.T) (portal *testPortal, config string, purge func(), mark *int) {
	t.Helper()
	clock := emulator.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	portal = newTestPortal(t, emulator.Config{Now: clock.Now})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.RunToEnd(id)
	config = portal.providerConfig() + waitResourceConfig("crm", id, "") + `
resource "terraform_data" "after_import" {
  input = bitrix24_configuration_import_wait.crm.status
}
`
	mark = new(int)
	purge = func() {
		clock.Add(72*time.Hour + time.Minute)
		if _, known := portal.Process(id); known {
			t.Fatalf("the emulator still knows import %d after its retention", id)
		}
		*mark = importReads(portal)
	}
	return portal, config, purge, mark
}

// After the portal purged the import, a plan asks it nothing, shows no
// change and no error: the dependent's input stays "F".
func TestAccConfigurationImportWaitResource_planAfterPurge(t *testing.T) {
	t.Parallel()
	portal, config, purge, mark := purgedImportCase(t)
	unitTest(t, resource.TestStep{
		Config:            config,
		ConfigStateChecks: []statecheck.StateCheck{expectRecorded("crm", "status", knownvalue.StringExact("F"))},
	}, resource.TestStep{
		PreConfig: purge,
		Config:    config,
		PlanOnly:  true,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			// The plan that refreshes, which is when Terraform calls Read.
			PostApplyPostRefresh: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
				plancheck.ExpectKnownValue("terraform_data.after_import", tfjsonpath.New("input"), knownvalue.StringExact("F")),
				getRequestsSince{portal: portal, mark: mark, want: 0},
			},
		},
	})
}

// terraform destroy after the portal purged the import succeeds, and asks
// the portal nothing.
func TestAccConfigurationImportWaitResource_destroyAfterPurge(t *testing.T) {
	t.Parallel()
	portal, config, purge, mark := purgedImportCase(t)
	unitTest(t, resource.TestStep{
		Config: config,
	}, resource.TestStep{
		PreConfig: purge,
		Config:    config,
		Destroy:   true,
		// Called after the destroy, with the state from before it.
		Check: func(before *terraform.State) error {
			if n := len(before.RootModule().Resources); n != 2 {
				return fmt.Errorf("%d resources in state before destroy; want the record and its dependent", n)
			}
			got := importReads(portal) - *mark
			t.Logf("destroy after the purge succeeded with %d import reads", got)
			if got != 0 {
				return fmt.Errorf("destroy made %d configuration.import.get requests; want 0", got)
			}
			return nil
		},
	})
}

// What a plan over many recorded imports costs: nothing.
func TestAccConfigurationImportWaitResource_planOverHundredRecordedImports(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	ids := make([]string, 100)
	for i := range ids {
		id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
		portal.RunToEnd(id)
		ids[i] = fmt.Sprint(id)
	}
	config := portal.providerConfig() + countedConfig(`resource "bitrix24_configuration_import_wait"`, ids)
	var mark int

	unitTest(t, resource.TestStep{
		Config: config,
		Check: func(*terraform.State) error {
			if got := importReads(portal); got != len(ids) {
				return fmt.Errorf("creating %d records of finished imports read %d imports; want one each", len(ids), got)
			}
			return nil
		},
	}, resource.TestStep{
		PreConfig: func() { mark = importReads(portal) },
		Config:    config,
		PlanOnly:  true,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			// The plan that refreshes, which is when Terraform calls Read.
			PostApplyPostRefresh: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
				getRequestsSince{portal: portal, mark: &mark, want: 0},
			},
		},
	})
	t.Logf("a plan over %d recorded imports read %d imports", len(ids), importReads(portal)-mark)
}

// A new process_id replaces the record with the new import's.
func TestAccConfigurationImportWaitResource_replacedOnNewProcessID(t *testing.T) {
	t.Parallel()
	portal, first := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	second := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, Additional: map[string]any{"second": true}})
	portal.RunToEnd(first)
	portal.RunToEnd(second)
	var mark int

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", first, ""),
	}, resource.TestStep{
		PreConfig: func() { mark = importReads(portal) },
		Config:    portal.providerConfig() + waitResourceConfig("crm", second, ""),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(waitResourceType+".crm", plancheck.ResourceActionReplace),
				plancheck.ExpectUnknownValue(waitResourceType+".crm", tfjsonpath.New("status")),
			},
			PostApplyPostRefresh: []plancheck.PlanCheck{getRequestsSince{portal: portal, mark: &mark, want: 1}},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			expectRecorded("crm", "id", knownvalue.StringExact(fmt.Sprint(second))),
			expectRecorded("crm", "additional", knownvalue.StringExact(`{"second":true}`)),
		},
	})
}

// The id is the process id, so a plan shows it, at create and at a
// replacement, in the form the record keeps (no leading zero).
func TestAccConfigurationImportWaitResource_idKnownAtPlan(t *testing.T) {
	t.Parallel()
	portal, first := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	second := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.RunToEnd(first)
	portal.RunToEnd(second)
	step := func(processID string, id int64, action plancheck.ResourceActionType) resource.TestStep {
		return resource.TestStep{
			Config: portal.providerConfig() + fmt.Sprintf("resource %q \"crm\" {\n  process_id = %q\n}\n", waitResourceType, processID),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(waitResourceType+".crm", action),
				plancheck.ExpectKnownValue(waitResourceType+".crm", tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprint(id))),
			}},
			ConfigStateChecks: []statecheck.StateCheck{expectRecorded("crm", "id", knownvalue.StringExact(fmt.Sprint(id)))},
		}
	}
	unitTest(t, step(fmt.Sprintf("0%d", first), first, plancheck.ResourceActionCreate),
		step(fmt.Sprint(second), second, plancheck.ResourceActionReplace))
}

// Changing only the wait settings or the timeout updates the record in
// place, without a request: the recorded import is not read again.
func TestAccConfigurationImportWaitResource_updateStoresSettingsOnly(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	var mark int

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", id, ""),
	}, resource.TestStep{
		PreConfig: func() { mark = importReads(portal) },
		Config: portal.providerConfig() + waitResourceConfig("crm", id,
			"  wait {\n    poll_interval   = \"2m\"\n    fail_on_unknown = false\n  }\n  timeouts { create = \"90m\" }\n"),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(waitResourceType+".crm", plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(waitResourceType+".crm", tfjsonpath.New("status"), knownvalue.StringExact("F")),
				// What create recorded stays known: the time it saw the end too.
				plancheck.ExpectKnownValue(waitResourceType+".crm", tfjsonpath.New("finished_at"), knownvalue.NotNull()),
			},
			PostApplyPostRefresh: []plancheck.PlanCheck{getRequestsSince{portal: portal, mark: &mark, want: 0}},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			expectRecorded("crm", "wait", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"poll_interval":   knownvalue.StringExact("2m"),
				"fail_on_error":   knownvalue.Null(),
				"fail_on_unknown": knownvalue.Bool(false),
			})),
			expectRecorded("crm", "status", knownvalue.StringExact("F")),
		},
	})
}

// A wait that outlasts timeouts.create fails, naming that setting.
func TestAccConfigurationImportWaitResource_timeout(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs: the import stays S

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + waitResourceConfig("crm", id, "  timeouts { create = \"1s\" }\n"),
		ExpectError: expectError(fmt.Sprintf(
			`Timed out waiting for the configuration import.*gave up waiting for configuration import %d.*last status S \(started\).*Raise timeouts\.create`, id)),
	})
}

func TestAccConfigurationImportWaitResource_invalidArguments(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		processID string
		settings  string
		want      string
	}{
		"process id not a number": {`"forty-two"`, ``, `Invalid process id.*"forty-two" is not a whole number`},
		"process id zero":         {`0`, ``, `Invalid process id.*greater than zero`},
		"sub-second interval":     {`42`, `wait { poll_interval = "500ms" }`, `wait.poll_interval must be at least 1s; got "500ms"`},
		"unparsable interval":     {`42`, `wait { poll_interval = "every minute" }`, `wait.poll_interval must be a duration.*"every minute"`},
		"unparsable timeout":      {`42`, `timeouts { create = "soon" }`, `timeouts.create must be a duration.*"soon"`},
		"zero timeout":            {`42`, `timeouts { create = "0s" }`, `timeouts.create must be at least 1s; got "0s"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			unitTest(t, resource.TestStep{
				Config: offlineProviderConfig + fmt.Sprintf(`
resource "bitrix24_configuration_import_wait" "crm" {
  process_id = %s
  %s
}
`, tc.processID, tc.settings),
				ExpectError: expectError(tc.want),
			})
		})
	}
}

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
