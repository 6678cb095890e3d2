// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// validatePositiveTimeout checks what the timeouts package does not: a zero
// or negative timeout, which would end the operation before it began.
// summary names the timeout, as "Invalid create timeout".
func validatePositiveTimeout(ctx context.Context, config tfsdk.Config, attribute path.Path, summary string, diags *diag.Diagnostics) {
	var value types.String
	diags.Append(config.GetAttribute(ctx, attribute, &value)...)
	if value.IsNull() || value.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(value.ValueString()); err == nil && d <= 0 {
		diags.AddAttributeError(attribute, summary,
			fmt.Sprintf("%q is not a usable timeout: it must be longer than zero, such as \"30m\" or \"2h\".", value.ValueString()))
	}
}
