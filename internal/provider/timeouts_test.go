// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A wait left without a timeout gets the documented 60 minutes, whether the
// timeouts block is left out or its attribute is.
func TestTimeoutSetting_defaultIsAnHour(t *testing.T) {
	attrTypes := map[string]attr.Type{"read": types.StringType}
	for name, block := range map[string]types.Object{
		"no block":     types.ObjectNull(attrTypes),
		"no attribute": types.ObjectValueMust(attrTypes, map[string]attr.Value{"read": types.StringNull()}),
	} {
		got, diags := timeoutIn(block, "read").duration()
		if diags.HasError() || got != 60*time.Minute {
			t.Errorf("%s: %v, %v; want 1h0m0s", name, got, diags)
		}
	}
}
