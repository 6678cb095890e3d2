// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import "testing"

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
