// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// The warnings of a recorded failure give the portal's messages, labelled,
// and name the setting that recorded it; terraform import of a failed
// import names the way to a new one.
func TestAccConfigurationImportWaitResource_recordedFailureWarningsNameTheSetting(t *testing.T) {
	t.Parallel()
	portal, failed := portalWithEndedImport(t, failingScript())
	recorder := &warningRecorder{}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: recorder.factories(),
		Steps: []resource.TestStep{{
			Config: portal.providerConfig() + waitResourceConfig("failed", failed, "  wait {\n    fail_on_error = false\n  }\n") +
				waitResourceConfig("unknown", 424242, "  wait {\n    fail_on_unknown = false\n  }\n"),
		}, {
			Config:        portal.providerConfig() + waitResourceConfig("failed", failed, ""),
			ResourceName:  waitResourceType + ".failed",
			ImportState:   true,
			ImportStateId: fmt.Sprint(failed),
		}},
	})

	warnings := strings.Join(recorder.Warnings(), "\n")
	for _, want := range []string{
		`ApplyResourceChange: Configuration import failed: Configuration import \d+ failed \(status E\) at action .*\n` +
			`  exception \[ERROR_ACCESS\]: Access denied to REST_APPLICATION\n  error \[ERROR_CONTENT\]: Status CRM_STATUS/SOURCE was skipped\n\n` +
			`The failure is recorded .* because the wait block sets fail_on_error = false`,
		`ApplyResourceChange: Configuration import unknown to the portal: The portal does not know configuration import 424242 \(status U\).*\n\n` +
			`The import is recorded as unknown .* because the wait block sets fail_on_unknown = false`,
		`(?s)ImportResourceState: Imported a failed configuration import: .*\n  exception \[ERROR_ACCESS\]: Access denied.*` +
			`register it again with configuration.import.register and set process_id to the new processId`,
	} {
		if !regexp.MustCompile(want).MatchString(warnings) {
			t.Errorf("no warning matches %s; got:\n%s", want, warnings)
		}
	}
}
