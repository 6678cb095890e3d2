// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// advanceTo runs the agent on one process until it shows the wanted progress
// action ("" for the `false` window after the last step).
func advanceTo(t *testing.T, portal *testPortal, id int64, action string) emulator.ProcessInfo {
	t.Helper()
	for range 200 {
		portal.Advance(id, 1)
		info, _ := portal.Process(id)
		if info.Status == "P" && info.Action == action {
			return info
		}
		if info.Status != "P" {
			t.Fatalf("process %d reached status %s before action %q", id, info.Status, action)
		}
	}
	t.Fatalf("process %d never reached action %q", id, action)
	return emulator.ProcessInfo{}
}

func dataSourceConfig(name string, id int64, extra string) string {
	return fmt.Sprintf(`
data "bitrix24_configuration_import" %q {
  process_id = %d
%s}
`, name, id, extra)
}

func notNull(name, attribute string) statecheck.StateCheck {
	return statecheck.ExpectKnownValue("data.bitrix24_configuration_import."+name, tfjsonpath.New(attribute), knownvalue.NotNull())
}

func expect(name, attribute string, check knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue("data.bitrix24_configuration_import."+name, tfjsonpath.New(attribute), check)
}

func message(code, text, kind string) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"code":    knownvalue.StringExact(code),
		"message": knownvalue.StringExact(text),
		"type":    knownvalue.StringExact(kind),
	})
}

var emptyList = knownvalue.ListExact([]knownvalue.Check{})

// Every status and every progress action the portal reports, read in one
// plan: the data source never fails because of the status itself.
func TestAccConfigurationImportDataSource_everyStatus(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	script := emulator.Script{Sections: []string{"CRM_STATUS", "REST_APPLICATION"}, Files: 2}

	var (
		config strings.Builder
		checks []statecheck.StateCheck
	)
	config.WriteString(portal.providerConfig())

	started := portal.CreateProcess(script)
	config.WriteString(dataSourceConfig("started", started, ""))
	checks = append(checks,
		expect("started", "id", knownvalue.StringExact(fmt.Sprint(started))),
		expect("started", "process_id", knownvalue.StringExact(fmt.Sprint(started))),
		expect("started", "status", knownvalue.StringExact("S")),
		expect("started", "state", knownvalue.StringExact("started")),
		expect("started", "finished", knownvalue.Bool(false)),
		expect("started", "progress", knownvalue.Null()),
		expect("started", "notices", emptyList),
		expect("started", "errors", emptyList),
		expect("started", "exceptions", emptyList),
		expect("started", "additional", knownvalue.StringExact(`{}`)), // one shape before and after F
		expect("started", "created_items", knownvalue.StringExact(`[]`)),
	)

	// After each run the portal names the step that comes next, so a running
	// import never shows "start": that appears only when the first run fails.
	for _, action := range []string{"init_background", "manifest", "clean", "load", "finish", ""} {
		id := portal.CreateProcess(script)
		info := advanceTo(t, portal, id, action)
		name := "action_" + action
		if action == "" {
			name = "action_false"
		}
		config.WriteString(dataSourceConfig(name, id, ""))
		checks = append(checks,
			expect(name, "status", knownvalue.StringExact("P")),
			expect(name, "state", knownvalue.StringExact("processing")),
			expect(name, "finished", knownvalue.Bool(false)),
			expect(name, "progress", knownvalue.ObjectExact(map[string]knownvalue.Check{
				"action":  knownvalue.StringExact(action),
				"step":    knownvalue.Int64Exact(int64(info.Step)),
				"section": knownvalue.StringExact(info.Section),
			})),
			expect(name, "additional", knownvalue.StringExact(`{}`)),
			expect(name, "created_items", knownvalue.StringExact(`[]`)),
		)
		if action == "clean" || action == "load" || action == "manifest" {
			checks = append(checks, expect(name, "progress", knownvalue.ObjectPartial(map[string]knownvalue.Check{
				"section": knownvalue.StringRegexp(regexp.MustCompile(`^(CRM_STATUS|REST_APPLICATION)$`)),
			})))
		}
	}

	finished := portal.CreateProcess(emulator.Script{
		Sections:     []string{"CRM_STATUS"},
		Additional:   map[string]any{"APP_ID": 7, "MANIFEST": "vertical_crm"},
		CreatedItems: []any{map[string]any{"ENTITY": "CRM_STATUS", "ID": "12"}},
	})
	portal.RunToEnd(finished)
	config.WriteString(dataSourceConfig("finished", finished, ""))
	checks = append(checks,
		expect("finished", "status", knownvalue.StringExact("F")),
		expect("finished", "state", knownvalue.StringExact("finished")),
		expect("finished", "finished", knownvalue.Bool(true)),
		expect("finished", "progress", knownvalue.Null()),
		expect("finished", "additional", knownvalue.StringExact(`{"APP_ID":7,"MANIFEST":"vertical_crm"}`)),
		expect("finished", "created_items", knownvalue.StringExact(`[{"ENTITY":"CRM_STATUS","ID":"12"}]`)),
	)

	finishedEmpty := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.RunToEnd(finishedEmpty)
	config.WriteString(dataSourceConfig("finished_empty", finishedEmpty, ""))
	checks = append(checks,
		expect("finished_empty", "status", knownvalue.StringExact("F")),
		expect("finished_empty", "additional", knownvalue.StringExact(`{}`)), // the portal sends []
		expect("finished_empty", "created_items", knownvalue.StringExact(`[]`)),
	)

	// Messages of three types interleaved: the portal filters one combined
	// list per type and keeps the indexes, so notices and errors arrive as
	// objects with numeric keys. Order must survive.
	failed := portal.CreateProcess(emulator.Script{
		Sections: []string{"CRM_STATUS", "REST_APPLICATION"},
		Messages: []emulator.ScriptedMessage{
			{AtRun: 1, Type: "notice", Message: "Import started"},
			{AtRun: 2, Type: "error", Code: "ERROR_CONTENT", Message: "Status CRM_STATUS/SOURCE was skipped"},
			{AtRun: 3, Type: "notice", Code: "NOTE", Message: "Manifest vertical_crm read"},
			{AtRun: 3, Type: "error", Message: "Field UF_CRM_1 was renamed"},
			{AtRun: 4, Type: "exception", Code: "ERROR_ACCESS", Message: "Access denied to REST_APPLICATION"},
		},
	})
	portal.RunToEnd(failed)
	failedInfo, _ := portal.Process(failed)
	config.WriteString(dataSourceConfig("failed", failed, ""))
	checks = append(checks,
		expect("failed", "status", knownvalue.StringExact("E")),
		expect("failed", "state", knownvalue.StringExact("failed")),
		expect("failed", "finished", knownvalue.Bool(false)),
		expect("failed", "progress", knownvalue.ObjectExact(map[string]knownvalue.Check{
			"action":  knownvalue.StringExact(failedInfo.Action),
			"step":    knownvalue.Int64Exact(int64(failedInfo.Step)),
			"section": knownvalue.StringExact(failedInfo.Section),
		})),
		expect("failed", "notices", knownvalue.ListExact([]knownvalue.Check{
			message("", "Import started", "notice"),
			message("NOTE", "Manifest vertical_crm read", "notice"),
		})),
		expect("failed", "errors", knownvalue.ListExact([]knownvalue.Check{
			message("ERROR_CONTENT", "Status CRM_STATUS/SOURCE was skipped", "error"),
			message("", "Field UF_CRM_1 was renamed", "error"),
		})),
		expect("failed", "exceptions", knownvalue.ListExact([]knownvalue.Check{
			message("ERROR_ACCESS", "Access denied to REST_APPLICATION", "exception"),
		})),
		expect("failed", "additional", knownvalue.StringExact(`{}`)),
		expect("failed", "created_items", knownvalue.StringExact(`[]`)),
	)

	failedAtStart := portal.CreateProcess(emulator.Script{
		Sections: []string{"CRM_STATUS"},
		Messages: []emulator.ScriptedMessage{{AtRun: 1, Type: "exception", Message: "Manifest vertical_crm is not available"}},
	})
	portal.RunToEnd(failedAtStart)
	config.WriteString(dataSourceConfig("failed_at_start", failedAtStart, ""))
	checks = append(checks,
		expect("failed_at_start", "status", knownvalue.StringExact("E")),
		expect("failed_at_start", "progress", knownvalue.ObjectPartial(map[string]knownvalue.Check{"action": knownvalue.StringExact("start")})),
		expect("failed_at_start", "exceptions", knownvalue.ListExact([]knownvalue.Check{
			message("", "Manifest vertical_crm is not available", "exception"),
		})),
		expect("failed_at_start", "notices", emptyList),
	)

	config.WriteString(dataSourceConfig("unknown", 987654321, ""))
	checks = append(checks,
		expect("unknown", "status", knownvalue.StringExact("U")),
		expect("unknown", "state", knownvalue.StringExact("unknown")),
		expect("unknown", "finished", knownvalue.Bool(false)),
		expect("unknown", "progress", knownvalue.Null()),
		expect("unknown", "notices", emptyList),
	)

	unitTest(t, resource.TestStep{
		Config:            config.String(),
		ConfigStateChecks: checks,
	})
}

// A process id given as a quoted string reads the same as a number.
func TestAccConfigurationImportDataSource_processIDAsString(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + fmt.Sprintf(`
data "bitrix24_configuration_import" "test" {
  process_id = "%d"
}
`, id),
		ConfigStateChecks: []statecheck.StateCheck{
			expect("test", "id", knownvalue.StringExact(fmt.Sprint(id))),
			expect("test", "status", knownvalue.StringExact("S")),
		},
	})
}

// The portal keeps an import's data 2 to 3 days after the import ended; after that it reads as U.
func TestAccConfigurationImportDataSource_purgedAfterRetention(t *testing.T) {
	t.Parallel()
	clock := emulator.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	portal := newTestPortal(t, emulator.Config{Now: clock.Now})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.RunToEnd(id)
	config := portal.providerConfig() + dataSourceConfig("test", id, "")

	unitTest(t, resource.TestStep{
		Config:            config,
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("F"))},
	},
		resource.TestStep{
			PreConfig:         func() { clock.Add(72*time.Hour + time.Minute) },
			Config:            config,
			ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("U"))},
		})
}

// Errors the portal answers with fail the read with the portal's code and
// text, whatever the status would have been.
func TestAccConfigurationImportDataSource_portalErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		fault  *emulator.Fault
		scopes []string // the webhook's; nil: all it needs
		config func(p *testPortal) string
		want   string
	}{
		"wrong webhook code": {
			config: func(p *testPortal) string {
				return fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n}\n", p.server.URL+"/rest/1/wrongc0de4thetests/")
			},
			want: `Bitrix24 refused the credentials.*INVALID_CREDENTIALS`,
		},
		"wrong webhook user": {
			config: func(p *testPortal) string {
				return fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n}\n", p.server.URL+"/rest/2/"+testWebhookCode+"/")
			},
			want: `Bitrix24 refused the credentials.*INVALID_CREDENTIALS`,
		},
		"method not found": {
			fault: ptr(emulator.ErrorFault(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")),
			want:  `Unable to read configuration import.*ERROR_METHOD_NOT_FOUND.*Method not found!`,
		},
		"webhook without the scope": {
			scopes: []string{"crm", "user"},
			want: `Webhook without the configuration.import scope.*insufficient_scope.*` +
				`Developer resources > Other > Inbound webhook, edit this webhook, tick configuration.import.*save.*` +
				`URL and code stay the same`,
		},
		"insufficient_scope answered": {
			fault: ptr(emulator.ErrorFault(401, "insufficient_scope", "The request requires higher privileges than provided by the webhook token")),
			want:  `Webhook without the configuration.import scope.*insufficient_scope`,
		},
		"gateway page": {
			fault: ptr(emulator.GatewayHTML(502)),
			want:  `Unable to read configuration import.*502`,
		},
		"truncated answer": {
			fault: ptr(emulator.TruncatedJSON()),
			want:  `Unable to read configuration import`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			portal := newTestPortal(t, emulator.Config{Scopes: tc.scopes})
			id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
			provider := portal.providerConfig()
			if tc.config != nil {
				provider = tc.config(portal)
			}
			if tc.fault != nil {
				f := *tc.fault
				f.Count = 100 // every call of the step, however many
				portal.InjectFault("configuration.import.get", f)
			}
			check := &redactedErrorCheck{want: expectError(tc.want), secret: testWebhookCode}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				ErrorCheck:               check.check,
				Steps: []resource.TestStep{{
					Config: provider + dataSourceConfig("test", id, ""),
				}},
			})
			check.requireSeen(t)
		})
	}
}

// Reads gathered into a batch get the scope's own error too: there the
// portal answers insufficient_scope per command, with no description.
func TestAccConfigurationImportDataSource_webhookWithoutScopeInBatch(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{Scopes: []string{"crm"}})
	config := portal.providerConfig()
	for i := range 20 {
		config += dataSourceConfig(fmt.Sprintf("crm_%d", i), int64(100+i), "")
	}
	check := &redactedErrorCheck{want: expectError(`Webhook without the configuration.import scope.*insufficient_scope`), secret: testWebhookCode}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		ErrorCheck: func(err error) error {
			if n := strings.Count(fmt.Sprint(err), "Webhook without the configuration.import scope"); err != nil && n != 20 {
				return fmt.Errorf("%d of 20 reads say the scope is missing: %w", n, err)
			}
			return check.check(err)
		},
		Steps: []resource.TestStep{{Config: config}},
	})
	check.requireSeen(t)
	if !slices.ContainsFunc(portal.Requests(), func(r emulator.Request) bool { return r.Method == "batch" }) {
		t.Error("no read went in a batch")
	}
}

// A portal that cannot be reached fails the read with an error that shows
// where it tried, but never the webhook code.
func TestAccConfigurationImportDataSource_unreachablePortal(t *testing.T) {
	t.Parallel()
	portal := newTestPortal(t, emulator.Config{})
	url := portal.webhookURL()
	portal.server.Close()
	check := &redactedErrorCheck{want: expectError(`Bitrix24 portal refused the connection.*Check the host and port in webhook_url`), secret: testWebhookCode}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		ErrorCheck:               check.check,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n}\n", url) + dataSourceConfig("test", 7, ""),
		}},
	})
	check.requireSeen(t)
}

func ptr[T any](v T) *T { return &v }

// Shapes the emulator does not produce by itself but the real portal may
// send, answered verbatim.
func TestAccConfigurationImportDataSource_responseQuirks(t *testing.T) {
	t.Parallel()
	const timeBlock = `"time":{"start":1629303000.9341,"finish":1629303001.0443,"duration":0.11020803451538,"processing":0.054312944412231,"date_start":"2021-08-18T18:10:00+02:00","date_finish":"2021-08-18T18:10:01+02:00"}`
	tests := map[string]struct {
		body   string
		checks []statecheck.StateCheck
		want   string // an error instead of checks
	}{
		"documentation example": {
			body: `{"result":{"status":"P","progress":{"action":"manifest","step":0,"section":"REST_APPLICATION"}},` + timeBlock + `}`,
			checks: []statecheck.StateCheck{
				expect("test", "status", knownvalue.StringExact("P")),
				expect("test", "progress", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"action": knownvalue.StringExact("manifest"), "step": knownvalue.Int64Exact(0), "section": knownvalue.StringExact("REST_APPLICATION"),
				})),
			},
		},
		"step as a string, no section, keys past 9": {
			body: `{"result":{"status":"E","progress":{"action":"finish","step":"3"},` +
				`"notice":{"10":{"code":"","message":"tenth","type":"notice"},"9":{"code":"","message":"ninth","type":"notice"}},` +
				`"exception":[{"code":"","message":"stopped","type":"exception"}]},` + timeBlock + `}`,
			checks: []statecheck.StateCheck{
				expect("test", "progress", knownvalue.ObjectExact(map[string]knownvalue.Check{
					"action": knownvalue.StringExact("finish"), "step": knownvalue.Int64Exact(3), "section": knownvalue.StringExact(""),
				})),
				expect("test", "notices", knownvalue.ListExact([]knownvalue.Check{
					message("", "ninth", "notice"), message("", "tenth", "notice"),
				})),
				expect("test", "errors", emptyList),
			},
		},
		"finished with objects and lists of any shape": {
			body: `{"result":{"status":"F","additional":{"b":[1,2],"a":{"x":null}},"createItemList":{}},` + timeBlock + `}`,
			checks: []statecheck.StateCheck{
				expect("test", "finished", knownvalue.Bool(true)),
				expect("test", "additional", knownvalue.StringExact(`{"b":[1,2],"a":{"x":null}}`)),
				expect("test", "created_items", knownvalue.StringExact(`[]`)), // PHP's empty array as {}: still a list
			},
		},
		"finished with PHP's other shapes": {
			body: `{"result":{"status":"F","additional":["x"],"createItemList":{"2":{"ID":7},"1":{"ID":5}}},` + timeBlock + `}`,
			checks: []statecheck.StateCheck{
				expect("test", "additional", knownvalue.StringExact(`{"0":"x"}`)),
				expect("test", "created_items", knownvalue.StringExact(`[{"ID":5},{"ID":7}]`)),
			},
		},
		"unrecognised status letter": {
			body: `{"result":{"status":"Q"},` + timeBlock + `}`,
			checks: []statecheck.StateCheck{
				expect("test", "status", knownvalue.StringExact("Q")),
				expect("test", "state", knownvalue.StringExact("unknown")),
				expect("test", "finished", knownvalue.Bool(false)),
			},
		},
		"error inside result": {
			body: `{"result":{"error":"PROCESS_NOT_FOUND","error_description":"Process doesn't found."},` + timeBlock + `}`,
			want: `Unable to read configuration import.*PROCESS_NOT_FOUND.*Process doesn't found\.`,
		},
		"empty error code": {
			body: `{"error":"","error_description":"Something went wrong"}`,
			want: `Unable to read configuration import.*Something went wrong`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			portal := newTestPortal(t, emulator.Config{})
			portal.InjectFault("configuration.import.get", emulator.Fault{Body: tc.body, Count: 100})
			step := resource.TestStep{
				Config:            portal.providerConfig() + dataSourceConfig("test", 42, ""),
				ConfigStateChecks: tc.checks,
			}
			if tc.want != "" {
				step.ExpectError = expectError(tc.want)
			}
			unitTest(t, step)
		})
	}
}
