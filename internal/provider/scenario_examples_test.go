// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

const examplesDir = "../../examples/"

// exampleFiles records which files below examples/ a test has used, so that
// TestAccExamples_applyWithoutWarnings can tell a file no test applies.
// Parallel subtests mark files: writes hold exampleFilesMu; reads come
// after the subtests have ended.
type exampleFiles map[string]bool

var exampleFilesMu sync.Mutex

// exampleConfig reads an example of the docs, below examples/, with its
// placeholder process id set to one of the test portal's.
func exampleConfig(t *testing.T, file, placeholder string, id int64) string {
	t.Helper()
	return exampleWith(t, nil, file, placeholder, fmt.Sprintf("process_id = %d", id))
}

// exampleWith reads an example with placeholder replaced by replacement
// (nothing replaced when placeholder is empty), and marks it used.
func exampleWith(t *testing.T, used exampleFiles, file, placeholder, replacement string) string {
	t.Helper()
	example, err := os.ReadFile(examplesDir + file)
	if err != nil {
		t.Fatal(err)
	}
	if used != nil {
		exampleFilesMu.Lock()
		used[file] = true
		exampleFilesMu.Unlock()
	}
	if placeholder == "" {
		return string(example)
	}
	if !strings.Contains(string(example), placeholder) {
		t.Fatalf("%s no longer contains %q; update this test", file, placeholder)
	}
	return strings.Replace(string(example), placeholder, replacement, 1)
}

// The resource's examples, as the docs show them: a finished import gates
// its dependents, a failed one is recorded and branched on.
func TestAccConfigurationImportWaitResource_examples(t *testing.T) {
	t.Parallel()
	portal, finished := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}, CreatedItems: []any{"pipeline"}})
	failed := portal.CreateProcess(failingScript())
	portal.RunToEnd(finished)
	portal.RunToEnd(failed)
	dir := "resources/bitrix24_configuration_import_wait/"

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + exampleConfig(t, dir+"resource.tf", "", 0) +
			exampleConfig(t, dir+"fail-on-error.tf", "process_id = 43", failed),
		ConfigVariables: config.Variables{"crm_import_process_id": config.IntegerVariable(finished)},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("terraform_data.crm_pipelines", tfjsonpath.New("output"), knownvalue.StringExact(`["pipeline"]`)),
			statecheck.ExpectKnownValue("terraform_data.after_crm_import", tfjsonpath.New("output"), knownvalue.NotNull()),
			statecheck.ExpectKnownOutputValue("optional_import", knownvalue.StringExact("Access denied to REST_APPLICATION")),
		},
	})
}

// requiredProviders is the terraform block the examples that have none get
// here: the provider is served as b24-terraform/bitrix24, which an
// implicit "bitrix24" would not find.
const requiredProviders = `
terraform {
  required_providers {
    bitrix24 = {
      source = "b24-terraform/bitrix24"
    }
  }
}
`

func withRequiredProviders(config string) string {
	if strings.Contains(config, "required_providers") {
		return config
	}
	return requiredProviders + config
}

// Every file below examples/ applies against the emulator, as the docs show
// it, and Terraform prints no warning for it, neither the provider's nor
// its own (such as "Reference to triggering resource" or a failed check):
// a warning in an example would teach readers to ignore warnings. The
// examples run through the CLI the acceptance tests run, driven here by hand
// since terraform-plugin-testing does not show what the CLI prints, with
// the provider installed as a user installs it (make install): a provider
// served by the test itself makes Terraform 1.16 warn "Unmanaged providers
// are in effect" on every command. The action's examples run where the CLI
// has actions. fail-on-error.tf reads a finished import here: on a failed
// one its warning is the point (TestAccConfigurationImportWaitResource_examples).
func TestAccExamples_applyWithoutWarnings(t *testing.T) {
	portal := newTestPortal(t, emulator.Config{})
	tlsPortal, caPEM := newTLSTestPortal(t, emulator.Config{})
	finishedScript := emulator.Script{
		Sections:     []string{"CRM_STATUS", "CRM_DEAL_CATEGORY"},
		Messages:     []emulator.ScriptedMessage{{AtRun: 3, Type: "notice", Message: "Stage \"New\" already exists and was kept."}},
		Additional:   map[string]any{"CRM_DEAL_CATEGORY": map[string]any{"0": 3}},
		CreatedItems: []map[string]any{{"ENTITY": "CRM_DEAL_CATEGORY", "ID": 3, "TITLE": "Partners"}},
	}
	finished := func(p *testPortal) int64 {
		id := p.CreateProcess(finishedScript)
		p.RunToEnd(id)
		return id
	}
	used := exampleFiles{}
	ds := "data-sources/bitrix24_configuration_import/"
	rs := "resources/bitrix24_configuration_import_wait/"
	as := "actions/" + actionType + "/"
	id := func() string { return fmt.Sprintf("process_id = %d", finished(portal)) }
	cli := newExampleCLI(t, portal.webhookURL())
	run := func(name string, files map[string]string, steps func(t *testing.T, w *exampleWorkDir)) {
		t.Run(name, func(t *testing.T) { steps(t, cli.workDir(t, files)) })
	}
	applied := func(vars ...string) func(*testing.T, *exampleWorkDir) {
		return func(t *testing.T, w *exampleWorkDir) { w.applyPlanDestroy(0, vars...) }
	}
	mainTF := func(config string) map[string]string {
		return map[string]string{"main.tf": withRequiredProviders(config)}
	}

	run("provider.tf", map[string]string{
		"provider.tf": exampleWith(t, used, "provider/provider.tf", "", ""),
		"reads.tf":    fmt.Sprintf("data \"bitrix24_configuration_import\" \"cloud\" {\n  process_id = %d\n}\n", finished(portal)),
	}, applied())
	run("on-premise.tf", map[string]string{
		"versions.tf":    requiredProviders,
		"on-premise.tf":  exampleWith(t, used, "provider/on-premise.tf", "", ""),
		"company-ca.pem": string(caPEM),
		"reads.tf": fmt.Sprintf("data \"bitrix24_configuration_import\" \"on_premise\" {\n  provider   = bitrix24.on_premise\n"+
			"  process_id = %d\n}\n", finished(tlsPortal)),
	}, applied("on_premise_webhook_url="+tlsPortal.webhookURL()))
	for _, file := range []string{"data-source.tf", "postcondition.tf"} {
		run(file, mainTF(portal.providerConfig()+exampleWith(t, used, ds+file, "process_id = 42", id())), applied())
	}
	run("check.tf", mainTF(portal.providerConfig()+exampleWith(t, used, ds+"check.tf", "process_id = 42", id())),
		func(t *testing.T, w *exampleWorkDir) {
			w.applyPlanDestroy(2) // the scoped data source is read again at apply
		})
	run("wait-depends-on.tf", mainTF(portal.providerConfig()+exampleWith(t, used, ds+"wait-depends-on.tf", "", "")),
		applied(fmt.Sprintf("import_process_id=%d", finished(portal))))
	crm := finished(portal)
	crmVar := fmt.Sprintf("crm_import_process_id=%d", crm)
	resourceTF := portal.providerConfig() + exampleWith(t, used, rs+"resource.tf", "", "")
	run("resource.tf and fail-on-error.tf", mainTF(resourceTF+exampleWith(t, used, rs+"fail-on-error.tf", "process_id = 43", id())),
		applied(crmVar))
	run("import-by-string-id.tf", mainTF(resourceTF+exampleWith(t, used, rs+"import-by-string-id.tf", `id = "42"`, fmt.Sprintf(`id = "%d"`, crm))),
		func(t *testing.T, w *exampleWorkDir) {
			w.init()
			w.run("apply", "-auto-approve", "-var", crmVar)
			if got := w.resourceValues(waitResourceType + ".crm")["id"]; got != fmt.Sprint(crm) {
				t.Errorf("the import block recorded id %v, want %d", got, crm)
			}
			w.planExitCode(0, "-var", crmVar)
			w.run("destroy", "-auto-approve", "-var", crmVar)
		})
	importArgs := importShArgs(t, used, rs+"import.sh", crm)
	run("import.sh", mainTF(resourceTF), func(t *testing.T, w *exampleWorkDir) {
		created := cli.workDir(t, mainTF(resourceTF))
		created.init()
		created.run("apply", "-auto-approve", "-var", crmVar)
		w.init()
		w.run(append([]string{"import", "-var", crmVar}, importArgs...)...)
		// Create saw the import end; import saw it when it read it. The
		// settings stay in the configuration, not in what import reads.
		want, got := created.resourceValues(waitResourceType+".crm"), w.resourceValues(waitResourceType+".crm")
		for _, ignored := range []string{"finished_at", "timeouts", "wait"} {
			delete(want, ignored)
			delete(got, ignored)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("import recorded\n%v\ncreate recorded\n%v", got, want)
		}
		w.run("plan", "-var", crmVar)
	})
	run("demo", mainTF(exampleWith(t, used, "demo/main.tf", "", "")), func(t *testing.T, w *exampleWorkDir) {
		vars := []string{"-var", fmt.Sprintf("process_id=%d", finished(portal))}
		w.init()
		w.run(append([]string{"apply", "-auto-approve"}, vars...)...)
		if got := w.run("output", "-json", "deal_pipelines"); strings.TrimSpace(got) != `["Partners"]` {
			t.Errorf("output deal_pipelines = %s, want [\"Partners\"]", got)
		}
		w.planExitCode(0, vars...)
		w.run(append([]string{"destroy", "-auto-approve"}, vars...)...)
	})

	// The action's examples, where the CLI has actions: invoked as
	// pipeline.sh does, and triggered at create and again at update.
	const invokeCommand = "terraform apply -auto-approve \\\n  -invoke=action." + actionType + ".crm \\\n" +
		`  -var "crm_import_process_id=$process_id"`
	if !strings.Contains(exampleWith(t, used, as+"pipeline.sh", "", ""), invokeCommand) {
		t.Fatalf("pipeline.sh no longer runs %s; update this test", invokeCommand)
	}
	run("action.tf", mainTF(portal.providerConfig()+exampleWith(t, used, as+"action.tf", "", "")), func(t *testing.T, w *exampleWorkDir) {
		cliForActions(t, actionsSince, "an action")
		id := finished(portal)
		w.init()
		w.run("apply", "-auto-approve", "-invoke=action."+actionType+".crm", fmt.Sprintf("-var=crm_import_process_id=%d", id))
		expectPolled(t, portal, id, "F")
	})
	run("action_trigger.tf", mainTF(portal.providerConfig()+exampleWith(t, used, as+"action_trigger.tf", "", "")), func(t *testing.T, w *exampleWorkDir) {
		cliForActions(t, actionsSince, "an action")
		first, second := finished(portal), finished(portal)
		w.init()
		for _, id := range []int64{first, second} { // create, then update to a new import
			w.run("apply", "-auto-approve", fmt.Sprintf("-var=crm_import_process_id=%d", id))
			expectPolled(t, portal, id, "F")
		}
		w.planExitCode(0, fmt.Sprintf("-var=crm_import_process_id=%d", second))
		w.run("destroy", "-auto-approve", fmt.Sprintf("-var=crm_import_process_id=%d", second))
	})

	for _, file := range unusedExamples(t, used) {
		t.Errorf("examples/%s is applied by no test: add it to this one", file)
	}
}

// expectPolled fails the test unless the portal answered status for import
// id: the action waited for it.
func expectPolled(t *testing.T, portal *testPortal, id int64, status string) {
	t.Helper()
	for _, r := range portal.Requests() {
		if r.Method == "configuration.import.get" && fmt.Sprint(r.Params["processId"]) == fmt.Sprint(id) && r.ResultStatus == status {
			return
		}
	}
	t.Errorf("the portal never answered %s for import %d", status, id)
}

// exampleDir writes files into a new directory and returns its path.
func exampleDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// importShArgs checks import.sh's command and returns its arguments, with
// id in place of the example's.
func importShArgs(t *testing.T, used exampleFiles, file string, id int64) []string {
	t.Helper()
	const command = "terraform import bitrix24_configuration_import_wait.crm 42"
	script := exampleWith(t, used, file, "", "")
	if !strings.Contains(script, command) {
		t.Fatalf("%s no longer runs %s; update this test", file, command)
	}
	return []string{waitResourceType + ".crm", fmt.Sprint(id)}
}

// unusedExamples lists the files below examples/ that used does not hold.
func unusedExamples(t *testing.T, used exampleFiles) []string {
	t.Helper()
	var unused []string
	err := filepath.WalkDir(examplesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel := filepath.ToSlash(strings.TrimPrefix(p, examplesDir)); !used[rel] {
			unused = append(unused, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(unused)
	return unused
}

// exampleCLI runs the CLI the acceptance tests run (TF_ACC_TERRAFORM_PATH,
// else terraform on PATH) on the examples, with the provider installed by
// make install into a plugin directory of the test, and without a user's
// CLI configuration.
type exampleCLI struct {
	path      string
	env       []string
	pluginDir string
}

// newExampleCLI installs the provider and sets the CLI up for it, with
// webhookURL in BITRIX24_WEBHOOK_URL.
func newExampleCLI(t *testing.T, webhookURL string) *exampleCLI {
	t.Helper()
	path := terraformPath(t)
	cli := &exampleCLI{path: path, pluginDir: t.TempDir()}
	install := exec.Command("make", "-C", "../..", "install", "PLUGIN_DIR="+cli.pluginDir, "REGISTRY_HOST="+exampleRegistryHost())
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	// Only this mirror: a missing CLI configuration named by
	// TF_CLI_CONFIG_FILE makes Terraform warn, and a developer's own could
	// hold dev_overrides, which warn on every command.
	cliConfig := filepath.Join(t.TempDir(), "terraformrc")
	mirror := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n}\n",
		cli.pluginDir, exampleProviderAddress())
	if err := os.WriteFile(cliConfig, []byte(mirror), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(name, "TF_") && !strings.HasPrefix(name, "BITRIX24_") {
			cli.env = append(cli.env, kv)
		}
	}
	cli.env = append(cli.env, "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		envVarOf("webhook_url")+"="+webhookURL)
	return cli
}

// exampleRegistryHost is the registry of the provider the examples name:
// registry.terraform.io, or TF_ACC_PROVIDER_HOST (make compat sets
// OpenTofu's).
func exampleRegistryHost() string {
	if host := os.Getenv("TF_ACC_PROVIDER_HOST"); host != "" {
		return host
	}
	return "registry.terraform.io"
}

func exampleProviderAddress() string {
	return exampleRegistryHost() + "/b24-terraform/bitrix24"
}

// exampleWorkDir is a working directory of one example.
type exampleWorkDir struct {
	t   *testing.T
	cli *exampleCLI
	dir string
}

func (cli *exampleCLI) workDir(t *testing.T, files map[string]string) *exampleWorkDir {
	t.Helper()
	return &exampleWorkDir{t: t, cli: cli, dir: exampleDir(t, files)}
}

// run runs the CLI with args (and -no-color and -input=false where they
// apply), and fails the test when the command fails or prints a warning.
// It returns stdout.
func (w *exampleWorkDir) run(args ...string) string {
	w.t.Helper()
	// Options go before a command's arguments (import's address and id).
	switch args[0] {
	case "init", "apply", "plan", "destroy", "import":
		args = append([]string{args[0], "-no-color", "-input=false"}, args[1:]...)
	case "output":
		args = append([]string{args[0], "-no-color"}, args[1:]...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.cli.path, append([]string{"-chdir=" + w.dir}, args...)...)
	cmd.Env = w.cli.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	planHasChanges := args[0] == "plan" && errors.As(err, &exit) && exit.ExitCode() == 2 // -detailed-exitcode
	if err != nil && !planHasChanges {
		w.t.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "Warning") {
		w.t.Errorf("terraform %s printed a warning:\n%s", strings.Join(args, " "), out)
	}
	return stdout.String()
}

// init initialises the directory, after recording the installed
// provider's checksum in its lock file as `terraform providers lock` does:
// an init that writes a locally built provider into a lock file warns
// that the lock holds only this platform's checksum (README.md, "Install
// from source"), which is not the examples' doing.
func (w *exampleWorkDir) init() {
	w.t.Helper()
	w.run("providers", "lock", "-fs-mirror="+w.cli.pluginDir, "-platform="+runtime.GOOS+"_"+runtime.GOARCH, exampleProviderAddress())
	w.run("init")
}

// planExitCode plans and fails the test unless plan's -detailed-exitcode
// is want: 0 for no changes, 2 for changes.
func (w *exampleWorkDir) planExitCode(want int, args ...string) {
	w.t.Helper()
	stdout := w.run(append([]string{"plan", "-detailed-exitcode"}, args...)...)
	if got := strings.Contains(stdout, "No changes."); got != (want == 0) {
		w.t.Errorf("plan after apply: want exit code %d:\n%s", want, stdout)
	}
}

// applyPlanDestroy is the life of an example: init, apply, a plan that
// exits with planCode, destroy; vars are -var values.
func (w *exampleWorkDir) applyPlanDestroy(planCode int, vars ...string) {
	w.t.Helper()
	var args []string
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	w.init()
	w.run(append([]string{"apply", "-auto-approve"}, args...)...)
	w.planExitCode(planCode, args...)
	w.run(append([]string{"destroy", "-auto-approve"}, args...)...)
}

// resourceValues are the attributes of a resource in the state.
func (w *exampleWorkDir) resourceValues(address string) map[string]any {
	w.t.Helper()
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string
					Values  map[string]any
				}
			} `json:"root_module"`
		}
	}
	if err := json.Unmarshal([]byte(w.run("show", "-json")), &state); err != nil {
		w.t.Fatal(err)
	}
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == address {
			return r.Values
		}
	}
	w.t.Fatalf("%s is not in the state", address)
	return nil
}
