// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
)

// Actions have a schema package of their own, too. The action's wait block
// is the data source's, converted here as resourceBlock converts it for the
// resource, so that the three show the same descriptions and run the same
// validators.

// actionBlock converts a data source SingleNestedBlock, such as wait, into
// the same action block.
func actionBlock(b dsschema.SingleNestedBlock) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		Attributes: actionAttributes(b.Attributes),
		CustomType: b.CustomType, MarkdownDescription: b.MarkdownDescription, Validators: b.Validators,
	}
}

// actionAttribute converts a data source attribute into the same action
// attribute. It knows the kinds the action uses and panics on another: a
// schema test calls it on each.
func actionAttribute(a dsschema.Attribute) schema.Attribute {
	switch a := a.(type) {
	case dsschema.StringAttribute:
		return schema.StringAttribute{
			CustomType: a.CustomType, Required: a.Required, Optional: a.Optional,
			MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	case dsschema.BoolAttribute:
		return schema.BoolAttribute{
			CustomType: a.CustomType, Required: a.Required, Optional: a.Optional,
			MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	}
	panic(fmt.Sprintf("actionAttribute: no conversion for %T", a))
}

func actionAttributes(attributes map[string]dsschema.Attribute) map[string]schema.Attribute {
	converted := make(map[string]schema.Attribute, len(attributes))
	for name, a := range attributes {
		converted[name] = actionAttribute(a)
	}
	return converted
}
