// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// exampleConfig reads an example of the docs, below examples/, with its
// placeholder process id set to one of the test portal's.
func exampleConfig(t *testing.T, file, placeholder string, id int64) string {
	t.Helper()
	example, err := os.ReadFile("../../examples/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if placeholder == "" {
		return string(example)
	}
	if !strings.Contains(string(example), placeholder) {
		t.Fatalf("%s no longer contains %q; update this test", file, placeholder)
	}
	return strings.Replace(string(example), placeholder, fmt.Sprintf("process_id = %d", id), 1)
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
