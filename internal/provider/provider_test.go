// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

func TestUserAgent_versions(t *testing.T) {
	got := userAgent("1.2.3", "1.11.4")
	want := "Terraform/1.11.4 (+https://www.terraform.io) terraform-provider-bitrix24/1.2.3"
	if got != want {
		t.Errorf("userAgent = %q, want %q", got, want)
	}
	if got := userAgent("dev", ""); got != "Terraform/unknown (+https://www.terraform.io) terraform-provider-bitrix24/dev" {
		t.Errorf("userAgent without Terraform version = %q", got)
	}
}

// The webhook URL holds the secret: Terraform hides it in plans and output
// even when the configuration does not put it behind a sensitive variable,
// as every test configuration does.
func TestProviderSchema_webhookURLIsSensitive(t *testing.T) {
	var resp provider.SchemaResponse
	New("test")().Schema(context.Background(), provider.SchemaRequest{}, &resp)
	a, ok := resp.Schema.Attributes["webhook_url"]
	if !ok || !a.IsSensitive() {
		t.Errorf("webhook_url: %+v, want a sensitive attribute", a)
	}
}

// An on-premise portal behind an internal CA: without ca_cert_pem the first
// request fails at once, naming the certificate problem and the attribute
// that fixes it, even in a wait of an hour; with it, the read succeeds.
func TestAccProvider_internalCA(t *testing.T) {
	t.Parallel()
	portal, caPEM := newTLSTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	portal.RunToEnd(id)
	waitAnHour := "  wait { poll_interval = \"1m\" }\n  timeouts { read = \"60m\" }\n"

	started := time.Now()
	unitTest(t, resource.TestStep{
		Config:      portal.providerConfig() + dataSourceConfig("test", id, waitAnHour),
		ExpectError: expectError(`Bitrix24 portal certificate not trusted.*certificate signed by unknown authority.*set the provider's ca_cert_pem \(or BITRIX24_CA_CERT_PEM\)`),
	})
	took := time.Since(started)
	if n := len(portal.Requests()); n != 0 {
		t.Errorf("the portal saw %d requests through a refused handshake", n)
	}
	if took > 30*time.Second { // a generous bound on a shared machine; the wait would have been an hour
		t.Errorf("the untrusted certificate took %s to fail the run", took)
	}
	t.Logf("untrusted certificate to error, whole terraform plan included: %s", took)

	unitTest(t, resource.TestStep{
		Config: fmt.Sprintf("provider \"bitrix24\" {\n  webhook_url = %q\n  ca_cert_pem = %q\n}\n", portal.webhookURL(), caPEM) +
			dataSourceConfig("test", id, waitAnHour),
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("F"))},
	})
}

// The CA can come from the environment instead.
func TestAccProvider_internalCAFromEnvironment(t *testing.T) {
	portal, caPEM := newTLSTestPortal(t, emulator.Config{})
	id := portal.CreateProcess(emulator.Script{Sections: []string{"CRM_STATUS"}})
	t.Setenv(envVarOf("ca_cert_pem"), string(caPEM))
	unitTest(t, resource.TestStep{
		Config:            portal.providerConfig() + dataSourceConfig("test", id, ""),
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("S"))},
	})
}

func TestAccProvider_webhookURLFromEnvironment(t *testing.T) {
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	t.Setenv(envVarOf("webhook_url"), portal.webhookURL())
	unitTest(t, resource.TestStep{
		Config: fmt.Sprintf(`
data "bitrix24_configuration_import" "test" {
  process_id = %d
}
`, id),
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("S"))},
	})
}

// An explicit webhook_url wins over the environment, even a malformed one.
func TestAccProvider_explicitWebhookURLWinsOverEnvironment(t *testing.T) {
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}})
	t.Setenv(envVarOf("webhook_url"), "not a url")
	unitTest(t, resource.TestStep{
		Config: portal.providerConfig() + fmt.Sprintf(`
data "bitrix24_configuration_import" "test" {
  process_id = %d
}
`, id),
		ConfigStateChecks: []statecheck.StateCheck{expect("test", "status", knownvalue.StringExact("S"))},
	})
}
