// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
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
