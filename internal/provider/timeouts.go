// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"time"

	datasourcetimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	resourcetimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	datasourceschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// defaultWaitTimeout bounds a read or a create unless timeouts says
// otherwise; it covers a typical import, and the docs give the rule of thumb
// for larger ones.
const defaultWaitTimeout = 60 * time.Minute

// minTimeout is the shortest timeouts.read, timeouts.create or action
// timeout: a shorter one would end every wait before the portal could answer.
const minTimeout = time.Second

// timeoutValidators replace framework-timeouts' own, whose errors do not
// name the attribute while Terraform points at the block, not inside it.
var timeoutValidators = []validator.String{durationValidator(minTimeout)}

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

// timeoutSetting is the setting that bounds a wait, as configured, and where
// it is: timeouts.read, timeouts.create or the action's timeout.
type timeoutSetting struct {
	value types.String
	at    path.Path
}

// timeoutIn is the setting name of a timeouts block (null when left out).
func timeoutIn(block types.Object, name string) timeoutSetting {
	value, ok := block.Attributes()[name].(types.String)
	if !ok {
		value = types.StringNull()
	}
	return timeoutSetting{value: value, at: path.Root("timeouts").AtName(name)}
}

// duration is the timeout, defaultWaitTimeout when left out.
func (t timeoutSetting) duration() (time.Duration, diag.Diagnostics) {
	if t.value.IsNull() || t.value.IsUnknown() {
		return defaultWaitTimeout, nil
	}
	return parseDuration(t.at, t.value.ValueString(), minTimeout)
}
