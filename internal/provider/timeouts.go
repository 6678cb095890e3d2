// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// minReadTimeout is the shortest timeouts.read: a shorter one would end
// every read before the portal could answer.
const minReadTimeout = time.Second

// readTimeoutAttribute is framework-timeouts' `timeouts = { read }` with our
// duration validator, whose errors name timeouts.read: the library's own do
// not, and Terraform points at the block, not inside it.
func readTimeoutAttribute(ctx context.Context, description string) schema.Attribute {
	attribute := timeouts.AttributesWithOpts(ctx, timeouts.Opts{ReadDescription: description}).(schema.SingleNestedAttribute)
	read := attribute.Attributes["read"].(schema.StringAttribute)
	read.Validators = []validator.String{durationValidator{min: minReadTimeout}}
	attribute.Attributes["read"] = read
	return attribute
}
