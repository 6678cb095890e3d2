// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"

	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// The framework has one schema package for data sources and another for
// resources. The attributes both share are written once, for the data
// source; resourceAttribute and resourceBlock convert them, so that the resource shows the
// same descriptions and runs the same validators.

// resourceAttribute converts a data source attribute, nested ones
// included, into the same resource attribute. It knows the kinds this
// provider uses and panics on another: a schema test calls it on each.
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

// resourceBlock converts a data source SingleNestedBlock, such as wait,
// into the same resource block.
func resourceBlock(b dsschema.SingleNestedBlock) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		Attributes: resourceAttributes(b.Attributes),
		CustomType: b.CustomType, MarkdownDescription: b.MarkdownDescription, Validators: b.Validators,
	}
}

func resourceAttributes(attributes map[string]dsschema.Attribute) map[string]schema.Attribute {
	converted := make(map[string]schema.Attribute, len(attributes))
	for name, a := range attributes {
		converted[name] = resourceAttribute(a)
	}
	return converted
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
	default:
		panic(fmt.Sprintf("recordedAttribute: no plan modifier for %T", a))
	}
}
