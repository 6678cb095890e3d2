// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// expectCheckFailed is a plan check that a check block failed with a
// problem matching want. Terraform shows such a problem as a warning, which
// terraform-plugin-testing cannot assert (it has no ExpectWarning), but the
// plan's JSON records it in its check results.
type expectCheckFailed struct {
	check string
	want  *regexp.Regexp
}

func (c expectCheckFailed) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, result := range req.Plan.Checks {
		if result.Address.Kind != tfjson.CheckKindCheckBlock || result.Address.Name != c.check {
			continue
		}
		var problems []string
		for _, instance := range result.Instances {
			for _, problem := range instance.Problems {
				problems = append(problems, problem.Message)
			}
		}
		if result.Status != tfjson.CheckStatusFail || !c.want.MatchString(strings.Join(problems, "\n")) {
			resp.Error = fmt.Errorf("check %q: status %s, problems %q; want it failed with %s", c.check, result.Status, problems, c.want)
		}
		return
	}
	resp.Error = fmt.Errorf("the plan has no result for check %q", c.check)
}

// The check example of the docs, against a running import that finishes
// soon after the first read: its plan warns that the import is still
// processing, which it would not if the read had waited for the import.
func TestAccConfigurationImportDataSource_checkExampleWarnsWithoutBlocking(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	advanceTo(t, portal, id, "load")
	portal.runAgentFromFirstPoll(t, id, 5*testAgentPeriod)
	config := exampleConfig(t, "data-sources/bitrix24_configuration_import/check.tf", "process_id = 42", id)

	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + config + `
resource "terraform_data" "independent" {
  input = "created anyway"
}
`,
		// A scoped data source in a check block is read again at apply,
		// so the plan after apply is never empty.
		ExpectNonEmptyPlan: true,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{
				expectCheckFailed{check: "crm_import", want: regexp.MustCompile(`^The CRM import is processing, not finished\.$`)},
			},
		},
	})
}
