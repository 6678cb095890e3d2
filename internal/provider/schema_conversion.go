// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"

	actionschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// The framework has a schema package for data sources, one for resources
// and one for actions. What they share is written once, for the data
// source, and converted here, so that all three show the same descriptions
// and run the same validators. The conversions know the kinds this provider
// uses and panic on another: the schema tests convert each.

// resourceAttribute converts a data source attribute, nested ones
// included, into the same resource attribute.
func resourceAttribute(a dsschema.Attribute) schema.Attribute {
	switch a := a.(type) {
	case dsschema.StringAttribute:
		return schema.StringAttribute{
			CustomType: a.CustomType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	case dsschema.BoolAttribute:
		return schema.BoolAttribute{
			CustomType: a.CustomType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	case dsschema.Int64Attribute:
		return schema.Int64Attribute{
			CustomType: a.CustomType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	case dsschema.SingleNestedAttribute:
		return schema.SingleNestedAttribute{
			Attributes: resourceAttributes(a.Attributes),
			CustomType: a.CustomType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	case dsschema.ListNestedAttribute:
		return schema.ListNestedAttribute{
			NestedObject: schema.NestedAttributeObject{Attributes: resourceAttributes(a.NestedObject.Attributes)},
			CustomType:   a.CustomType, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
		}
	}
	panic(fmt.Sprintf("resourceAttribute: no conversion for %T", a))
}

func resourceAttributes(attributes map[string]dsschema.Attribute) map[string]schema.Attribute {
	converted := make(map[string]schema.Attribute, len(attributes))
	for name, a := range attributes {
		converted[name] = resourceAttribute(a)
	}
	return converted
}

// resourceBlock converts a data source SingleNestedBlock, such as wait,
// into the same resource block.
func resourceBlock(b dsschema.SingleNestedBlock) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		Attributes: resourceAttributes(b.Attributes),
		CustomType: b.CustomType, MarkdownDescription: b.MarkdownDescription, Validators: b.Validators,
	}
}

// recordedAttribute converts a computed data source attribute into a
// resource attribute that keeps its value from state: what the resource
// recorded at create never changes, so a plan shows it known.
func recordedAttribute(a dsschema.Attribute) schema.Attribute {
	switch a := resourceAttribute(a).(type) {
	case schema.StringAttribute:
		a.PlanModifiers = []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
		return a
	case schema.BoolAttribute:
		a.PlanModifiers = []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}
		return a
	case schema.SingleNestedAttribute:
		a.PlanModifiers = []planmodifier.Object{objectplanmodifier.UseStateForUnknown()}
		return a
	case schema.ListNestedAttribute:
		a.PlanModifiers = []planmodifier.List{listplanmodifier.UseStateForUnknown()}
		return a
	}
	panic(fmt.Sprintf("recordedAttribute: no plan modifier for %T", a))
}

// actionBlock converts a data source SingleNestedBlock of string and bool
// settings, such as wait, into the same action block.
func actionBlock(b dsschema.SingleNestedBlock) actionschema.SingleNestedBlock {
	attributes := make(map[string]actionschema.Attribute, len(b.Attributes))
	for name, a := range b.Attributes {
		switch a := a.(type) {
		case dsschema.StringAttribute:
			attributes[name] = actionschema.StringAttribute{
				CustomType: a.CustomType, Required: a.Required, Optional: a.Optional,
				MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
			}
		case dsschema.BoolAttribute:
			attributes[name] = actionschema.BoolAttribute{
				CustomType: a.CustomType, Required: a.Required, Optional: a.Optional,
				MarkdownDescription: a.MarkdownDescription, Validators: a.Validators,
			}
		default:
			panic(fmt.Sprintf("actionBlock: no conversion for %T", a))
		}
	}
	return actionschema.SingleNestedBlock{
		Attributes: attributes, CustomType: b.CustomType, MarkdownDescription: b.MarkdownDescription, Validators: b.Validators,
	}
}
