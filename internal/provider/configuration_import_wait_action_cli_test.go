// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// Actions came with Terraform 1.14; dependents of a triggering resource wait
// for its after_create actions only from 1.16 (hashicorp/terraform#38668).
var (
	actionsSince       = version.Must(version.NewVersion("1.14.0"))
	actionOrderedSince = version.Must(version.NewVersion("1.16.0"))
)

const actionType = "bitrix24_configuration_import_wait"

func actionConfig(name string, id int64, extra string) string {
	return fmt.Sprintf(`
action %q %q {
  config {
    process_id = %d
%s  }
}
`, actionType, name, id, extra)
}

// oneRunPerPoll moves the import one agent run before every poll from now
// on but the first, so that every poll sees a change.
func oneRunPerPoll(portal *testPortal, id int64) {
	portal.mu.Lock()
	defer portal.mu.Unlock()
	before := portal.polls
	portal.beforePoll = func(poll int) {
		if poll-before > 1 {
			portal.Advance(id, 1)
		}
	}
}

// invoke runs `terraform apply -invoke` on the action, as a pipeline step
// would, and returns its -json messages and error.
func invoke(t *testing.T, w *workDir, name string) ([]jsonMessage, error) {
	t.Helper()
	w.mustRun("init", "-input=false", "-no-color")
	stdout, stderr, err := w.run("apply", "-input=false", "-auto-approve", "-json",
		"-invoke=action."+actionType+"."+name)
	if err != nil && !errors.As(err, new(*exec.ExitError)) {
		t.Fatalf("terraform apply -invoke: %v\n%s", err, stderr)
	}
	return jsonMessages(t, stdout), err
}

// `terraform apply -invoke` on an import that goes S, P through every step,
// then F: one progress line per poll, each poll a change, then the summary;
// one request per poll.
func TestAccConfigurationImportWaitAction_invokeShowsProgress(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	portal := newTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS", "REST_APPLICATION"},
		Files:        2,
		CreatedItems: []any{"pipeline"},
		Messages:     []emulator.ScriptedMessage{{AtRun: 5, Type: "notice", Message: "Stage renamed"}},
	})
	oneRunPerPoll(portal, id)

	messages, err := invoke(t, cli.workDir(t, portal.providerConfig()+actionConfig("crm", id, "")), "crm")
	if err != nil {
		t.Fatalf("apply -invoke failed: %v\n%s", err, messagesText(messages))
	}

	// Between "import N: " and " (Ns elapsed, K polls)".
	want := []string{
		"registered, not started yet",
		"running - preparing files, step 0",
		"running - reading the manifest, step 0",
		"running - clearing CRM_STATUS, step 0",
		"running - clearing REST_APPLICATION, step 0",
		"running - loading CRM_STATUS, step 0, 1 notice",
		"running - loading CRM_STATUS, step 1, 1 notice",
		"running - loading REST_APPLICATION, step 0, 1 notice",
		"running - loading REST_APPLICATION, step 1, 1 notice",
		"running - finishing, step 0, 1 notice",
		"running - all steps done, about to be marked finished, 1 notice",
	}
	progress := progressOf(messages)
	if len(progress) != len(want)+1 {
		t.Fatalf("%d progress messages; want %d, one per poll and a summary:\n%s", len(progress), len(want)+1, strings.Join(progress, "\n"))
	}
	for i, w := range want {
		pattern := fmt.Sprintf(`^import %d: %s \(\d+s elapsed, %s\)$`, id, regexp.QuoteMeta(w), regexp.QuoteMeta(plural(i+1, "poll")))
		if !regexp.MustCompile(pattern).MatchString(progress[i]) {
			t.Errorf("progress message %d is %q; want it to match %s", i+1, progress[i], pattern)
		}
	}
	summary := fmt.Sprintf(`^import %d finished after \d+s and 12 polls: 1 item created, 1 notice$`, id)
	if !regexp.MustCompile(summary).MatchString(progress[len(want)]) {
		t.Errorf("summary is %q; want it to match %s", progress[len(want)], summary)
	}
	if got := getRequests(portal); got != 12 {
		t.Errorf("the portal answered %d gets; want 12, one per poll", got)
	}
	if err := checkWaitedThrough(portal); err != nil {
		t.Error(err)
	}
}

// `terraform apply -invoke` on an import that fails fails, with the
// resource's summary and the portal's messages.
func TestAccConfigurationImportWaitAction_invokeFailsOnError(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	portal, id := portalWithImport(t, failingScript())
	oneRunPerPoll(portal, id)

	messages, err := invoke(t, cli.workDir(t, portal.providerConfig()+actionConfig("crm", id, "")), "crm")
	if err == nil {
		t.Fatalf("apply -invoke succeeded on a failing import:\n%s", messagesText(messages))
	}
	// Terraform 1.14 and 1.15 wrap the provider's error: "Error when invoking
	// action", with its summary and detail as the detail.
	var failure string
	for _, m := range messages {
		if m.Diagnostic != nil && m.Diagnostic.Severity == "error" {
			failure = m.Diagnostic.Summary + ": " + m.Diagnostic.Detail
		}
	}
	detail := failedReport(id)
	if !strings.Contains(failure, "Configuration import failed: "+detail) {
		t.Fatalf("want the error %q: %q...; got:\n%s", "Configuration import failed", detail, messagesText(messages))
	}
	progress := progressOf(messages)
	summary := fmt.Sprintf(`^import %d failed after \d+s and 5 polls: 0 notices, 1 error$`, id)
	if len(progress) == 0 || !regexp.MustCompile(summary).MatchString(progress[len(progress)-1]) {
		t.Errorf("want a last progress message matching %s; got:\n%s", summary, strings.Join(progress, "\n"))
	}
	if err := checkAnswered(portal, "E"); err != nil {
		t.Error(err)
	}
	if strings.Contains(messagesText(messages), testWebhookCode) {
		t.Error("the CLI's output shows the webhook code")
	}
}

// What the terminal shows of a failed import with a warning about the
// settings: the warning once, as the first progress line, before the wait;
// the labelled report in the error only. Terraform prints an action's error
// twice by itself, in its "Action failed: <action> - <summary>: <detail>"
// line and then as the error (hook_ui.go's CompleteAction prints every
// diagnostic of the completed event, warnings too): so nothing but the
// error may ride in the completed event, or that line lists "2 problems".
func TestAccConfigurationImportWaitAction_failurePrintedOnce(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	portal, id := portalWithImport(t, failingScript())
	oneRunPerPoll(portal, id)
	w := cli.workDir(t, portal.providerConfig()+actionConfig("crm", id, "    wait {\n      poll_interval = \"2s\"\n    }\n"))
	w.mustRun("init", "-input=false", "-no-color")
	stdout, stderr, err := w.run("apply", "-input=false", "-auto-approve", "-no-color", "-invoke=action."+actionType+".crm")
	output := stdout + stderr
	if err == nil {
		t.Fatalf("apply -invoke succeeded on a failing import:\n%s", output)
	}

	warning := "Polling more often than the portal changes"
	firstPoll := fmt.Sprintf("import %d: registered, not started yet", id)
	if n := strings.Count(output, warning); n != 1 || strings.Index(output, warning) > strings.Index(output, firstPoll) {
		t.Errorf("want the warning once, before %q; it is there %d times:\n%s", firstPoll, n, output)
	}
	failedLine := regexp.MustCompile(`(?m)^Action failed: .*$`).FindString(output)
	if !strings.Contains(failedLine, " - Configuration import failed: Configuration import") || strings.Contains(failedLine, "problems") {
		t.Errorf("want Terraform's failure line to hold the error alone; got %q", failedLine)
	}
	if n := strings.Count(output, "Access denied to REST_APPLICATION"); n != 2 {
		t.Errorf("the portal's exception is printed %d times; want 2, Terraform's failure line and the error:\n%s", n, output)
	}
}

// An action_trigger on a terraform_data keyed on the process id runs the
// action at create; a resource that depends on the terraform_data is
// created only after the import finished (from Terraform 1.16). The
// dependent here is a wait resource on another, finished import, so that
// the portal's request log shows when it was created.
func TestAccConfigurationImportWaitAction_triggerOrdersDependents(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS", "REST_APPLICATION"}, Files: 2})
	other := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.RunToEnd(other)
	portal.runAgentFromFirstPoll(t, id, testAgentPeriod)

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{skipBelowFor{actionOrderedSince,
			"dependents of a resource wait for its after_create action only from Terraform 1.16 (hashicorp/terraform#38668)"}},
		Steps: []resource.TestStep{{
			Config: portal.providerConfig() + actionConfig("crm", id, "") + fmt.Sprintf(`
resource "terraform_data" "crm_import" {
  input = %d

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.%s.crm]
    }
  }
}

resource %q "after_crm_import" {
  process_id = %d
  depends_on = [terraform_data.crm_import]
}
`, id, actionType, waitResourceType, other),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(waitResourceType+".after_crm_import", tfjsonpath.New("status"), knownvalue.StringExact("F")),
			},
			Check: func(*terraform.State) error {
				if err := checkReadAfterFinished(portal, id, other); err != nil {
					return err
				}
				return checkWaitedThrough(portal)
			},
		}},
	})
}

// checkReadAfterFinished fails unless the portal was first asked for
// process later after it had answered F for process first.
func checkReadAfterFinished(portal *testPortal, first, later int64) error {
	requests := portal.Requests()
	finished := slices.IndexFunc(requests, func(r emulator.Request) bool {
		return r.ResultStatus == "F" && slices.Contains(r.ProcessIDs(), fmt.Sprint(first))
	})
	read := slices.IndexFunc(requests, func(r emulator.Request) bool { return slices.Contains(r.ProcessIDs(), fmt.Sprint(later)) })
	switch {
	case finished < 0:
		return fmt.Errorf("the portal never answered F for import %d", first)
	case read < finished:
		return fmt.Errorf("import %d was read (request %d) before import %d was seen finished (request %d): "+
			"the dependent did not wait for the action", later, read+1, first, finished+1)
	}
	return nil
}

func messagesText(messages []jsonMessage) string {
	lines := make([]string, len(messages))
	for i, m := range messages {
		lines[i] = m.String()
	}
	return strings.Join(lines, "\n")
}

// Terraform refuses a misspelt key in the action's wait block, and the
// settings' validators run on the action's configuration, naming the
// attribute.
func TestAccConfigurationImportWaitAction_validatesSettings(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	for _, c := range []struct{ extra, want string }{
		{"    wait {\n      fail_on_eror = false\n    }\n", `An argument named "fail_on_eror" is not expected here`},
		{"    wait {\n      poll_interval = \"soon\"\n    }\n", `wait.poll_interval must be a duration`},
		{"    timeout = \"0s\"\n", `timeout must be at least 1s`},
		{"    process_id = 0\n", ""},
	} {
		config := offlineProviderConfig + actionConfig("crm", 42, c.extra)
		if c.want == "" { // a duplicate process_id: Terraform's own error
			c.want = `The argument "process_id" was already set`
		}
		// init refuses what Terraform itself checks; validate runs the
		// provider's validators.
		w := cli.workDir(t, config)
		stdout, stderr, err := w.run("init", "-input=false", "-no-color")
		if err == nil {
			stdout, stderr, err = w.run("validate", "-no-color")
		}
		if err == nil || !expectError(c.want).MatchString(stdout+stderr) {
			t.Errorf("validate with\n%s\nwant an error matching %q; got %v:\n%s%s", c.extra, c.want, err, stdout, stderr)
		}
	}
}

// The action's examples, as the docs show them: invoked in a pipeline step,
// and triggered by a terraform_data keyed on the process id, at create and
// again at update to a new import. (The examples test that applies every
// other example runs on the CLI on PATH; these need Terraform 1.14.)
func TestAccConfigurationImportWaitAction_examples(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	dir := "actions/" + actionType + "/"
	used := exampleFiles{}
	t.Cleanup(func() {
		entries, err := os.ReadDir(examplesDir + dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !used[dir+e.Name()] {
				t.Errorf("examples/%s%s is applied by no test: add it to this one", dir, e.Name())
			}
		}
	})

	t.Run("invoke", func(t *testing.T) {
		t.Parallel()
		portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
		oneRunPerPoll(portal, id)
		// The command of pipeline.sh, with the process id it registered.
		command := "terraform apply -auto-approve \\\n  -invoke=action." + actionType + ".crm \\\n" +
			`  -var "crm_import_process_id=$process_id"`
		if !strings.Contains(exampleWith(t, used, dir+"pipeline.sh", "", ""), command) {
			t.Fatalf("pipeline.sh no longer runs %s; update this test", command)
		}
		w := cli.workDir(t, portal.providerConfig()+exampleWith(t, used, dir+"action.tf", "", ""))
		w.mustRun("init", "-input=false", "-no-color")
		stdout := w.mustRun("apply", "-auto-approve", "-input=false", "-no-color",
			"-invoke=action."+actionType+".crm", fmt.Sprintf("-var=crm_import_process_id=%d", id))
		summary := fmt.Sprintf("import %d finished after ", id)
		if !strings.Contains(stdout, summary) || strings.Contains(stdout, "Warning") {
			t.Errorf("want %q and no warning in the CLI's output:\n%s", summary, stdout)
		}
		if err := checkAnswered(portal, "F"); err != nil {
			t.Error(err)
		}
	})

	t.Run("action_trigger", func(t *testing.T) {
		t.Parallel()
		portal, first := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
		second := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS", "REST_APPLICATION"}})
		hcl := portal.providerConfig() + exampleWith(t, used, dir+"action_trigger.tf", "", "")
		step := func(id int64) resource.TestStep {
			return resource.TestStep{
				PreConfig:       func() { oneRunPerPoll(portal, id) },
				Config:          hcl,
				ConfigVariables: config.Variables{"crm_import_process_id": config.IntegerVariable(id)},
				Check: func(*terraform.State) error {
					if got := answeredFor(portal, id); !regexp.MustCompile(`^S+P+F$`).MatchString(got) {
						return fmt.Errorf("the portal answered %q for import %d; want S, then P, then F: the action waited for it", got, id)
					}
					return nil
				},
			}
		}
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviderFactories(),
			Steps:                    []resource.TestStep{step(first), step(second)},
		})
	})
}

// answeredFor is the status letters the portal answered for one import.
func answeredFor(portal *testPortal, id int64) string {
	var statuses strings.Builder
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" && fmt.Sprint(r.Params["processId"]) == fmt.Sprint(id) {
			statuses.WriteString(r.ResultStatus)
		}
	}
	return statuses.String()
}
