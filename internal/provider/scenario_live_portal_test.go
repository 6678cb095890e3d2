// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// TestAccLive_configurationImport reads a real import on a real portal. It
// runs only with TF_ACC=1, BITRIX24_WEBHOOK_URL and BITRIX24_TEST_PROCESS_ID
// set (make testacc), and skips otherwise.
func TestAccLive_configurationImport(t *testing.T) {
	processID := os.Getenv("BITRIX24_TEST_PROCESS_ID")
	if os.Getenv("TF_ACC") == "" || os.Getenv(envVarOf("webhook_url")) == "" || processID == "" {
		t.Skip("live portal test: set TF_ACC=1, " + envVarOf("webhook_url") + " and BITRIX24_TEST_PROCESS_ID to run it")
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"bitrix24": func() (tfprotov6.ProviderServer, error) { return NewProtocol6Server("acc")(), nil },
		},
		Steps: []resource.TestStep{{
			Config: `
variable "process_id" {
  type = string
}

data "bitrix24_configuration_import" "live" {
  process_id = var.process_id
}
`,
			ConfigVariables: config.Variables{"process_id": config.StringVariable(processID)},
			ConfigStateChecks: []statecheck.StateCheck{
				expect("live", "id", knownvalue.StringExact(processID)),
				expect("live", "status", knownvalue.StringRegexp(regexp.MustCompile(`^[SPFEU]$`))),
				notNull("live", "state"),
			},
		}},
	})
}
