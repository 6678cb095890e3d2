// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

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
type exampleFiles map[string]bool

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
		used[file] = true
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
	portal := newTestPortal(t, emulator.Config{})
	finished := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}, CreatedItems: []any{"pipeline"}})
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
// here: with TF_ACC_PROVIDER_NAMESPACE set, the provider is served as
// b24-terraform/bitrix24, which an implicit "bitrix24" would not find.
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
// it, without a single warning from the provider: a warning in an example
// would teach readers to ignore warnings. The examples keep the source
// b24-terraform/bitrix24, so the provider is served under that namespace.
// Terraform's own warnings (a failed check assertion) do not reach the
// provider and are not seen here; the examples' imports all finish, so
// their checks pass. fail-on-error.tf too reads a finished import here: on a
// failed one its warning is the point (TestAccConfigurationImportWaitResource_examples).
func TestAccExamples_applyWithoutWarnings(t *testing.T) {
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "b24-terraform")
	portal := newTestPortal(t, emulator.Config{})
	tlsPortal, caPEM := newTLSTestPortal(t, emulator.Config{})
	// As make demo sets it, and for the destroy after an import step, which
	// runs without the step's configuration.
	t.Setenv(envWebhookURL, portal.webhookURL())
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
	recorder := &warningRecorder{}
	ds := "data-sources/bitrix24_configuration_import/"
	rs := "resources/bitrix24_configuration_import_wait/"
	id := func() string { return fmt.Sprintf("process_id = %d", finished(portal)) }

	run := func(name string, steps ...resource.TestStep) {
		t.Run(name, func(t *testing.T) {
			for i := range steps {
				if steps[i].Config != "" {
					steps[i].Config = withRequiredProviders(steps[i].Config)
				}
				// On the step, not the case: a ConfigDirectory with a
				// provider block cannot take them from the case.
				steps[i].ProtoV6ProviderFactories = recorder.factories()
			}
			resource.UnitTest(t, resource.TestCase{Steps: steps})
		})
	}

	// One provider configuration per run: the test serves every
	// configuration of a run from one in-process server, where the framework
	// races configuring one against validating for another (with Terraform,
	// each configuration gets a process of its own).
	run("provider.tf", resource.TestStep{
		ConfigDirectory: config.StaticDirectory(exampleDir(t, map[string]string{
			"provider.tf": exampleWith(t, used, "provider/provider.tf", "", ""),
			"reads.tf":    fmt.Sprintf("data \"bitrix24_configuration_import\" \"cloud\" {\n  process_id = %d\n}\n", finished(portal)),
		})),
	})
	run("on-premise.tf", resource.TestStep{
		ConfigDirectory: config.StaticDirectory(exampleDir(t, map[string]string{
			"versions.tf":    "terraform {\n  required_providers {\n    bitrix24 = { source = \"b24-terraform/bitrix24\" }\n  }\n}\n",
			"on-premise.tf":  exampleWith(t, used, "provider/on-premise.tf", "", ""),
			"company-ca.pem": string(caPEM),
			"reads.tf": fmt.Sprintf("data \"bitrix24_configuration_import\" \"on_premise\" {\n  provider   = bitrix24.on_premise\n"+
				"  process_id = %d\n}\n", finished(tlsPortal)),
		})),
		ConfigVariables: config.Variables{"on_premise_webhook_url": config.StringVariable(tlsPortal.webhookURL())},
	})
	for _, file := range []string{"data-source.tf", "postcondition.tf"} {
		run(file, resource.TestStep{Config: portal.providerConfig() + exampleWith(t, used, ds+file, "process_id = 42", id())})
	}
	run("check.tf", resource.TestStep{
		Config:             portal.providerConfig() + exampleWith(t, used, ds+"check.tf", "process_id = 42", id()),
		ExpectNonEmptyPlan: true, // the scoped data source is read again at apply
	})
	run("wait-depends-on.tf", resource.TestStep{
		Config:          portal.providerConfig() + exampleWith(t, used, ds+"wait-depends-on.tf", "", ""),
		ConfigVariables: config.Variables{"import_process_id": config.IntegerVariable(finished(portal))},
	})
	crm := finished(portal)
	crmVars := config.Variables{"crm_import_process_id": config.IntegerVariable(crm)}
	run("resource.tf and fail-on-error.tf", resource.TestStep{
		Config: portal.providerConfig() + exampleWith(t, used, rs+"resource.tf", "", "") +
			exampleWith(t, used, rs+"fail-on-error.tf", "process_id = 43", id()),
		ConfigVariables: crmVars,
	})
	run("import-by-string-id.tf", resource.TestStep{
		Config: portal.providerConfig() + exampleWith(t, used, rs+"resource.tf", "", "") +
			exampleWith(t, used, rs+"import-by-string-id.tf", `id = "42"`, fmt.Sprintf(`id = "%d"`, crm)),
		ConfigVariables: crmVars,
		ConfigStateChecks: []statecheck.StateCheck{
			expectRecorded("crm", "id", knownvalue.StringExact(fmt.Sprint(crm))),
		},
	})
	run("import.sh", resource.TestStep{
		Config:          portal.providerConfig() + exampleWith(t, used, rs+"resource.tf", "", ""),
		ConfigVariables: crmVars,
	}, resource.TestStep{
		Config:            portal.providerConfig() + exampleWith(t, used, rs+"resource.tf", "", ""),
		ConfigVariables:   crmVars,
		ResourceName:      waitResourceType + ".crm",
		ImportState:       true,
		ImportStateId:     importShID(t, used, rs+"import.sh", crm),
		ImportStateVerify: true,
		// Create saw the import end; import saw it when it read it. The
		// settings stay in the configuration, not in what import reads.
		ImportStateVerifyIgnore: []string{"finished_at", "timeouts", "wait"},
	})
	run("demo", resource.TestStep{
		Config:          exampleWith(t, used, "demo/main.tf", "", ""),
		ConfigVariables: config.Variables{"process_id": config.IntegerVariable(finished(portal))},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("terraform_data.deal_pipelines", tfjsonpath.New("output"),
				knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Partners")})),
		},
	})

	if warnings := recorder.Warnings(); len(warnings) > 0 {
		t.Errorf("the examples warned:\n%s", strings.Join(warnings, "\n"))
	}
	for _, file := range unusedExamples(t, used) {
		t.Errorf("examples/%s is applied by no test: add it to this one", file)
	}
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

// importShID checks import.sh's command and returns the id to import in its
// place.
func importShID(t *testing.T, used exampleFiles, file string, id int64) string {
	t.Helper()
	script := exampleWith(t, used, file, "", "")
	if !strings.Contains(script, "terraform import bitrix24_configuration_import_wait.crm 42") {
		t.Fatalf("%s no longer imports bitrix24_configuration_import_wait.crm 42; update this test", file)
	}
	return fmt.Sprint(id)
}

// unusedExamples lists the files below examples/ that used does not hold.
// Examples of actions need Terraform >= 1.14 and `terraform apply -invoke`,
// which terraform-plugin-testing cannot run: TestAccConfigurationImportWaitAction_examples
// applies them, and checks that it applies every one.
func unusedExamples(t *testing.T, used exampleFiles) []string {
	t.Helper()
	var unused []string
	err := filepath.WalkDir(examplesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, examplesDir))
		if strings.HasPrefix(rel, "actions/") {
			return nil
		}
		if !used[rel] {
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
