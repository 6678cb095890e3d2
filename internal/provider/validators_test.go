// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import "testing"

func TestParseProcessID(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true},
		{"42", 42, true},
		{"007", 7, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"", 0, false},
		{"0", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.0", 0, false},
		{" 1", 0, false},
		{"1e3", 0, false},
		{"４２", 0, false},
	}
	for _, tc := range tests {
		got, err := parseProcessID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseProcessID(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestUserAgent(t *testing.T) {
	got := userAgent("1.2.3", "1.11.4")
	want := "Terraform/1.11.4 (+https://www.terraform.io) terraform-provider-bitrix24/1.2.3"
	if got != want {
		t.Errorf("userAgent = %q, want %q", got, want)
	}
	if got := userAgent("dev", ""); got != "Terraform/unknown (+https://www.terraform.io) terraform-provider-bitrix24/dev" {
		t.Errorf("userAgent without Terraform version = %q", got)
	}
}
