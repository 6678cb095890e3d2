// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestParseProcessID_values(t *testing.T) {
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

func TestDurationValidator_values(t *testing.T) {
	v := durationValidator(time.Second)
	tests := []struct {
		in                     string
		wantError, wantWarning string
	}{
		{in: "1m"},
		{in: "90s"},
		{in: "2s"}, // valid: the wait that uses it warns, when it runs
		{in: "1s"},
		{in: "999ms", wantError: `wait.poll_interval must be at least 1s; got "999ms".`},
		{in: "0s", wantError: `wait.poll_interval must be at least 1s; got "0s".`},
		{in: "-1m", wantError: `wait.poll_interval must be at least 1s; got "-1m".`},
		{in: "1 minute", wantError: `wait.poll_interval must be a duration: a number with a unit`},
	}
	for _, tc := range tests {
		var resp validator.StringResponse
		v.ValidateString(context.Background(), validator.StringRequest{
			Path:        path.Root("wait").AtName("poll_interval"),
			ConfigValue: types.StringValue(tc.in),
		}, &resp)
		var gotError, gotWarning string
		for _, d := range resp.Diagnostics.Errors() {
			gotError += d.Detail()
		}
		for _, d := range resp.Diagnostics.Warnings() {
			gotWarning += d.Detail()
		}
		if !strings.HasPrefix(gotError, tc.wantError) || (tc.wantError == "") != (gotError == "") {
			t.Errorf("%q: error %q, want %q", tc.in, gotError, tc.wantError)
		}
		if gotWarning != tc.wantWarning {
			t.Errorf("%q: warning %q, want %q", tc.in, gotWarning, tc.wantWarning)
		}
	}
}

// Both ends of a whole-number range are allowed: max_retries 0 and 10,
// rate_burst 1 and 10000; one past either end is refused.
func TestWholeNumberValidator_bounds(t *testing.T) {
	for _, setting := range []wholeNumberSetting{maxRetriesSetting, rateBurstSetting} {
		for _, tc := range []struct {
			n  int64
			ok bool
		}{
			{setting.min - 1, false}, {setting.min, true}, {setting.max, true}, {setting.max + 1, false},
		} {
			var resp validator.Int64Response
			wholeNumberValidator(setting).ValidateInt64(context.Background(), validator.Int64Request{
				Path:        path.Root(setting.name),
				ConfigValue: types.Int64Value(tc.n),
			}, &resp)
			if resp.Diagnostics.HasError() == tc.ok {
				t.Errorf("%s = %d: diagnostics %v, want ok=%v", setting.name, tc.n, resp.Diagnostics, tc.ok)
			}
		}
	}
}
