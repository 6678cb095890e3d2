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

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// testAgentPeriod runs the emulator's agent fast enough that an import of a
// few sections finishes within a fraction of a second.
const testAgentPeriod = 10 * time.Millisecond

// firstFinishedAnswer is when the portal first answered F for a process: the
// read that waited returns right after it.
func firstFinishedAnswer(t *testing.T, portal *testPortal, id int64) time.Time {
	t.Helper()
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" && r.ResultStatus == "F" && fmt.Sprint(r.Params["processId"]) == fmt.Sprint(id) {
			return r.At
		}
	}
	t.Fatalf("the portal never answered F for process %d", id)
	return time.Time{}
}

func getRequests(portal *testPortal) int {
	return len(answeredStatuses(portal))
}

// answeredStatuses lists the status of every configuration.import.get answer.
func answeredStatuses(portal *testPortal) []string {
	var statuses []string
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" {
			statuses = append(statuses, r.ResultStatus)
		}
	}
	return statuses
}

// checkWaitedThrough fails unless the reads saw the import registered, then
// running, then finished: the read waited rather than found it done. A poll
// may see a status twice when a busy machine delays the agent's tick.
func checkWaitedThrough(portal *testPortal) error {
	return checkAnswered(portal, "F")
}

// checkAnswered fails unless the portal answered S, then P, then the final
// letter: the wait saw the import end rather than found it ended.
func checkAnswered(portal *testPortal, final string) error {
	statuses := strings.Join(answeredStatuses(portal), "")
	if !regexp.MustCompile(`^S+P+` + final).MatchString(statuses) {
		return fmt.Errorf("the portal answered %q; want S, then P, then %s", statuses, final)
	}
	return nil
}

// A resource that depends on a waiting data source is created only after the
// import finished, when the process id is known only at apply and the data
// source is therefore read during apply.
func TestAccConfigurationImportWait_gatesDependentResourceAtApply(t *testing.T) {
	t.Parallel()
	portal, id := portalWithRunningImport(t, emulator.Script{Sections: []string{"CRM_STATUS", "CRM_DEAL_CATEGORY", "REST_APPLICATION"}, Files: 3}, testAgentPeriod)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + testConfig(t, "gate_at_apply.tf.tmpl", id),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{
				// Read at apply: nothing is known yet at plan time.
				plancheck.ExpectUnknownValue("terraform_data.after_import", tfjsonpath.New("input")),
			},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			expect("test", "status", knownvalue.StringExact("F")),
			expect("test", "finished", knownvalue.Bool(true)),
			statecheck.ExpectKnownValue("terraform_data.after_import", tfjsonpath.New("output"), knownvalue.StringExact("F")),
		},
		Check: func(*terraform.State) error {
			info, _ := portal.Process(id)
			if info.Status != "F" || info.FinishedAt.IsZero() {
				return fmt.Errorf("the emulator has not finished the import: %+v", info)
			}
			if err := checkWaitedThrough(portal); err != nil {
				return err
			}
			seen := firstFinishedAnswer(t, portal, id)
			polls := getRequests(portal)
			t.Logf("import marked F at %s after %d runs; the wait read F %s later; %d get requests in all",
				info.FinishedAt.Format(time.StampMilli), info.Runs, seen.Sub(info.FinishedAt), polls)
			return nil
		},
	})
}

// With the id known at plan time, `terraform plan` itself waits: the plan
// already knows the dependent's input is F.
func TestAccConfigurationImportWait_planWaits(t *testing.T) {
	t.Parallel()
	portal, id := portalWithRunningImport(t, emulator.Script{Sections: []string{"CRM_STATUS", "REST_APPLICATION"}, Files: 2}, testAgentPeriod)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait { poll_interval = \"1m\" }\n") + `
resource "terraform_data" "after_import" {
  input = data.bitrix24_configuration_import.test.status
}
`,
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			// The only plan of a plan-only step.
			PostApplyPreRefresh: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue("terraform_data.after_import", tfjsonpath.New("input"), knownvalue.StringExact("F")),
			},
		},
	})
	info, _ := portal.Process(id)
	if info.Status != "F" {
		t.Fatalf("plan returned before the import finished: %+v", info)
	}
	if err := checkWaitedThrough(portal); err != nil {
		t.Fatal(err)
	}
}

// failingScript records an error, then an exception that stops the import.
func failingScript() emulator.Script {
	return emulator.Script{
		Sections: []string{"CRM_STATUS", "REST_APPLICATION"},
		Messages: []emulator.ScriptedMessage{
			{AtRun: 2, Type: "error", Code: "ERROR_CONTENT", Message: "Status CRM_STATUS/SOURCE was skipped"},
			{AtRun: 4, Type: "exception", Code: "ERROR_ACCESS", Message: "Access denied to REST_APPLICATION"},
		},
	}
}

// A failed import fails the plan with the portal's own messages, its last
// progress and the process id, when the failure arrives during the wait.
func TestAccConfigurationImportWait_failedImportFailsPlan(t *testing.T) {
	t.Parallel()
	portal, id := portalWithRunningImport(t, failingScript(), testAgentPeriod)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait {}\n"),
		ExpectError: expectError(fmt.Sprintf(`Configuration import failed.*import %d failed \(status E\) at action \w+, step \d+.*`+
			`exception \[ERROR_ACCESS\]: Access denied to REST_APPLICATION.*error \[ERROR_CONTENT\]: Status CRM_STATUS/SOURCE was skipped.*`+
			`What next:.*set process_id to the processId it returns.*set fail_on_error = false in the wait block`, id)),
	})
	if err := checkAnswered(portal, "E"); err != nil {
		t.Error(err)
	}
}

// With fail_on_error = false a failed import is recorded, and the
// configuration can branch on its status.
func TestAccConfigurationImportWait_failOnErrorFalseRecordsFailure(t *testing.T) {
	t.Parallel()
	portal, id := portalWithRunningImport(t, failingScript(), testAgentPeriod)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait { fail_on_error = false }\n") + `
resource "terraform_data" "branch" {
  input = data.bitrix24_configuration_import.test.status == "F" ? "go on" : "roll back: ${data.bitrix24_configuration_import.test.exceptions[0].message}"
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			expect("test", "status", knownvalue.StringExact("E")),
			expect("test", "state", knownvalue.StringExact("failed")),
			expect("test", "exceptions", knownvalue.ListExact([]knownvalue.Check{
				message("ERROR_ACCESS", "Access denied to REST_APPLICATION", "exception"),
			})),
			statecheck.ExpectKnownValue("terraform_data.branch", tfjsonpath.New("output"),
				knownvalue.StringExact("roll back: Access denied to REST_APPLICATION")),
		},
		Check: func(*terraform.State) error { return checkAnswered(portal, "E") },
	})
}

// An unknown process fails a wait, with a message that says why it may be
// unknown; fail_on_unknown = false records it instead.
func TestAccConfigurationImportWait_unknownProcess(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + dataSourceConfig("test", 424242, "  wait {}\n"),
		ExpectError: expectError(`Configuration import unknown to the portal.*import 424242 \(status U\).*2 to 3 days.*` +
			`What next:.*set fail_on_unknown = false in the wait block`),
	},
		resource.TestStep{
			Config: portal.providerConfig() + dataSourceConfig("test", 424242, "  wait { fail_on_unknown = false }\n"),
			ConfigStateChecks: []statecheck.StateCheck{
				expect("test", "status", knownvalue.StringExact("U")),
				expect("test", "state", knownvalue.StringExact("unknown")),
			},
		})
}

// A postcondition on the data source stops the plan with the user's own
// message while the import is still running.
func TestAccConfigurationImportWait_postconditionStopsPlan(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	advanceTo(t, portal, id, "manifest")

	unitTest(t, resource.TestStep{
		Config:      portal.providerConfig() + testConfig(t, "postcondition.tf.tmpl", id),
		ExpectError: expectError(`The CRM import is still processing \(manifest\); try again later\.`),
	})
}

// Inside a check block a failed import is a warning, with the portal's
// messages: the same configuration that fails at top level applies.
func TestAccConfigurationImportWait_checkBlockWarns(t *testing.T) {
	t.Parallel()
	portal, id := portalWithEndedImport(t, failingScript())

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + testConfig(t, "check_block.tf.tmpl", id),
		// A scoped data source in a check block is read again at apply,
		// so the plan after apply is never empty.
		ExpectNonEmptyPlan: true,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{expectCheckFailed{check: "crm_import", want: regexp.MustCompile(fmt.Sprintf(
				`^Configuration import failed: Configuration import %d failed \(status E\) .*\n  exception \[ERROR_ACCESS\]: Access denied to REST_APPLICATION`, id))}},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("terraform_data.independent", tfjsonpath.New("output"), knownvalue.StringExact("created anyway")),
		},
	})
}

// A wait that outlasts timeouts.read fails with how long it waited, how many
// polls it made and the last status.
func TestAccConfigurationImportWait_timeout(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs: the import stays S

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait {}\n  timeouts { read = \"1s\" }\n"),
		ExpectError: expectError(fmt.Sprintf(
			`Timed out waiting for the configuration import.*gave up waiting for configuration import %d after 1s and \d+ polls.*last status S \(started\).*timeouts\.read`, id)),
	})
	if polls := getRequests(portal); polls < 2 {
		t.Fatalf("the wait polled %d times in 1s at a %s interval", polls, testPollInterval)
	}
}

// Gateway pages and 5xx answers between polls do not end a wait.
func TestAccConfigurationImportWait_transientFailuresDoNotEndWait(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{AgentPeriod: testAgentPeriod})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	fault := emulator.GatewayHTML(504)
	fault.Count = 3
	portal.InjectFault("configuration.import.get", fault)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + dataSourceConfig("test", id, "  wait {}\n"),
		ConfigStateChecks: []statecheck.StateCheck{
			expect("test", "status", knownvalue.StringExact("F")),
		},
	})
}

// An error that cannot heal ends the wait at once.
func TestAccConfigurationImportWait_authErrorEndsWait(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	config := fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n}\n", portal.server.URL+"/rest/1/revokedc0de4tests42/") +
		dataSourceConfig("test", id, "  wait {}\n")

	unitTest(t, resource.TestStep{
		Config:      config,
		ExpectError: expectError(`Bitrix24 refused the credentials.*INVALID_CREDENTIALS`),
	})
	if polls := getRequests(portal); polls != 1 {
		t.Fatalf("the wait polled %d times after an auth error; want 1", polls)
	}
}

// wait.poll_interval, as configured, spaces the polls: no override here.
func TestAccConfigurationImportWait_pollIntervalSetting(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.runAgentFromFirstPoll(t, id, 400*time.Millisecond) // 7 runs: F after 2.8 s

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactoriesWith(func(p *bitrix24Provider) { p.configureClient = fastRetries }),
		Steps: []resource.TestStep{{
			Config:            portal.providerConfig() + dataSourceConfig("test", id, "  wait { poll_interval = \"1s\" }\n  timeouts { read = \"30s\" }\n"),
			ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("F"))},
		}},
	})

	var polls []time.Time
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" && r.ResultStatus != "F" {
			polls = append(polls, r.At)
		}
	}
	if len(polls) < 2 || len(polls) > 4 {
		t.Fatalf("%d polls before F; want 2 to 4 at 1s while the import takes 2.8s", len(polls))
	}
	for i := 1; i < len(polls); i++ {
		if gap := polls[i].Sub(polls[i-1]); gap < 950*time.Millisecond {
			t.Errorf("poll %d came %s after the one before; want 1s", i+1, gap)
		}
	}
}

// cancelledWaitDetail is what every cancelled wait's error says of an import
// that advanceTo left at load: that the wait was cancelled, where the import
// was, that it goes on, and what the waiter does next.
func cancelledWaitDetail(id int64, next string) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^The wait for configuration import %d was cancelled after \d+s and 1 poll\. `+
		`Its last known state: running - loading CRM_STATUS, step 0; as the portal reported it: P \(processing\), `+
		`action load, step 0, section CRM_STATUS\. The import goes on in the portal: cancelling the wait neither `+
		`stops nor undoes it\.\n\nWhat next: %s$`, id, regexp.QuoteMeta(next)))
}

// A process id unknown at plan time is checked when the wait starts, and
// its error names process_id, as the plan-time validation does.
func TestWaitForImport_invalidProcessIDNamesTheAttribute(t *testing.T) {
	var diags diag.Diagnostics
	w := importWait{importWaitModel: importWaitModel{ProcessID: types.StringValue("not a number")}}

	if status := (&providerData{}).waitForImport(context.Background(), w, &diags); status != nil {
		t.Errorf("status %+v, want none", status)
	}
	if len(diags) != 1 || diags[0].Summary() != "Invalid process id" {
		t.Fatalf("diagnostics %v, want one invalid process id", diags)
	}
	if withPath, ok := diags[0].(diag.DiagnosticWithPath); !ok || !withPath.Path().Equal(path.Root("process_id")) {
		t.Errorf("diagnostic %v is not about process_id", diags[0])
	}
}
