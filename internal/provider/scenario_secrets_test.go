// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// leakyLogger logs the webhook URL with its code, as a careless library in
// the client's place would: only the masks of Read's context stand between
// it and the log.
type leakyLogger struct{ url string }

func (l leakyLogger) Debug(ctx context.Context, msg string, _ map[string]any) {
	tflog.Debug(ctx, msg+" "+l.url, map[string]any{"url": l.url})
}

func (l leakyLogger) Info(ctx context.Context, msg string, fields map[string]any) {
	l.Debug(ctx, msg, fields)
}

func (l leakyLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	l.Debug(ctx, msg, fields)
}

// Read masks the webhook code in every line logged while it runs, messages
// and fields alike, whatever writes them.
func TestConfigurationImportDataSource_readMasksSecretsInLogs(t *testing.T) {
	t.Parallel()
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})

	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	_, diags := directRead{processID: fmt.Sprint(id), logger: leakyLogger{url: portal.webhookURL()}}.run(ctx, t, portal)
	if diags.HasError() {
		t.Fatal(diags)
	}
	logged := out.String()
	if strings.Contains(logged, testWebhookCode) {
		t.Fatalf("the log shows the webhook code:\n%s", logged)
	}
	if !strings.Contains(logged, "/rest/1/***/") {
		t.Fatalf("the leaky lines were not logged, masked:\n%s", logged)
	}
}

// noSecretInState fails when the state, as Terraform shows it, holds the
// webhook code anywhere.
type noSecretInState struct{}

func (noSecretInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	data, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if bytes.Contains(data, []byte(testWebhookCode)) {
		resp.Error = fmt.Errorf("the state holds the webhook code: %s", data)
	}
}

// A plan and apply at TRACE, through retried faults and a refused webhook,
// leave the webhook code in no log line (Terraform's and the provider's), in
// no output and in no state.
func TestAccProvider_secretsStayOutOfLogsOutputAndState(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "terraform.log")
	t.Setenv("TF_ACC_LOG_PATH", logFile) // TRACE for the CLI and the provider alike

	portal, id := portalWithRunningImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}, testAgentPeriod)
	for _, f := range []emulator.Fault{emulator.GatewayHTML(502), emulator.Hangup(), emulator.QueryLimitExceeded()} {
		portal.InjectFault("configuration.import.get", f)
	}

	// The URL comes from the environment, as the docs advise: Terraform
	// itself quotes configuration lines in its diagnostics and logs.
	t.Setenv(envVarOf("webhook_url"), portal.webhookURL())
	refused := &redactedErrorCheck{want: expectError(`Bitrix24 refused the credentials`), secret: testWebhookCode}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: faultFactories(0),
		ErrorCheck:               refused.check,
		Steps: []resource.TestStep{
			{
				Config:            dataSourceConfig("test", id, "  wait {}\n"),
				ConfigStateChecks: []statecheck.StateCheck{noSecretInState{}},
			},
			{
				PreConfig: func() { portal.RemoveWebhook(testWebhookCode) },
				Config:    dataSourceConfig("test", id, "  wait {}\n"),
			},
		},
	})
	refused.requireSeen(t)

	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(logged, []byte(testWebhookCode)) {
		for _, line := range strings.Split(string(logged), "\n") {
			if strings.Contains(line, testWebhookCode) {
				t.Errorf("log line shows the webhook code: %s", line)
			}
		}
	}
	// The log must hold what could have leaked: the provider's retries and
	// polls, and the client's calls with the masked URL.
	for _, want := range []string{"Bitrix24 request failed; trying again", "Polled configuration import", "/rest/1/***/configuration.import.get.json"} {
		if !bytes.Contains(logged, []byte(want)) {
			t.Errorf("the TRACE log has no %q: the test would prove nothing", want)
		}
	}
	t.Logf("checked %d bytes of TRACE log", len(logged))
}
