// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"time"

	datasourcetimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	resourcetimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	datasourceschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// defaultWaitTimeout bounds a read or a create unless timeouts says
// otherwise; it covers a typical import, and the docs give the rule of thumb
// for larger ones.
const defaultWaitTimeout = 60 * time.Minute

// minTimeout is the shortest timeouts.read or timeouts.create: a shorter one
// would end every wait before the portal could answer.
const minTimeout = time.Second

// timeoutValidators replace framework-timeouts' own, whose errors do not
// name the attribute while Terraform points at the block, not inside it.
var timeoutValidators = []validator.String{durationValidator{min: minTimeout}}

// readTimeoutBlock is the data source's `timeouts { read }`, a block so that
// Terraform refuses a misspelt or misplaced key in it (`create` on a data
// source) instead of dropping it. Should the library ever shape it
// otherwise, its own validator stays (and the tests of bad inputs fail).
func readTimeoutBlock(ctx context.Context, description string) datasourceschema.Block {
	block := datasourcetimeouts.BlockWithOpts(ctx, datasourcetimeouts.Opts{ReadDescription: description})
	if nested, ok := block.(datasourceschema.SingleNestedBlock); ok {
		if read, ok := nested.Attributes["read"].(datasourceschema.StringAttribute); ok {
			read.Validators = timeoutValidators
			nested.Attributes["read"] = read
			return nested
		}
	}
	return block
}

// createTimeoutBlock is the resource's `timeouts { create }`.
func createTimeoutBlock(ctx context.Context, description string) resourceschema.Block {
	block := resourcetimeouts.Block(ctx, resourcetimeouts.Opts{Create: true, CreateDescription: description})
	if nested, ok := block.(resourceschema.SingleNestedBlock); ok {
		if create, ok := nested.Attributes["create"].(resourceschema.StringAttribute); ok {
			create.Validators = timeoutValidators
			nested.Attributes["create"] = create
			return nested
		}
	}
	return block
}

// warnPollIntervalOverTimeout warns about a wait.poll_interval longer than
// the timeout that bounds the wait (timeouts.read or timeouts.create): such
// a wait polls at its start and once more just before its deadline.
func warnPollIntervalOverTimeout(ctx context.Context, config tfsdk.Config, timeout path.Path, diags *diag.Diagnostics) {
	var interval, limit types.String
	diags.Append(config.GetAttribute(ctx, path.Root("wait").AtName("poll_interval"), &interval)...)
	diags.Append(config.GetAttribute(ctx, timeout, &limit)...)
	if diags.HasError() || interval.IsNull() || interval.IsUnknown() || limit.IsUnknown() {
		return
	}
	pollEvery, err := time.ParseDuration(interval.ValueString())
	if err != nil {
		return // the attribute's validator reports it
	}
	bound := defaultWaitTimeout
	if !limit.IsNull() {
		if bound, err = time.ParseDuration(limit.ValueString()); err != nil {
			return
		}
	}
	if pollEvery > bound {
		diags.AddAttributeWarning(path.Root("wait").AtName("poll_interval"), "Poll interval longer than the timeout",
			fmt.Sprintf("wait.poll_interval (%s) is longer than %s (%s), so the wait polls only at its start and once "+
				"more just before its deadline. Shorten wait.poll_interval or raise %s.", pollEvery, timeout, bound, timeout))
	}
}
