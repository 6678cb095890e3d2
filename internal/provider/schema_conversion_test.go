// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/action"
	actionschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// The resource shows every attribute of the data source, of the same type
// and, but for process_id, in the same words; wait's settings carry the same
// validators.
func TestResourceAttribute_sharesDataSourceAttributes(t *testing.T) {
	ds, rs := schemas()
	if diags := rs.Schema.ValidateImplementation(context.Background()); diags.HasError() {
		t.Fatalf("invalid resource schema: %v", diags)
	}

	for name, dsAttr := range ds.Schema.Attributes {
		rsAttr, ok := rs.Schema.Attributes[name]
		switch {
		case !ok:
			t.Errorf("the resource has no %s", name)
		case !dsAttr.GetType().Equal(rsAttr.GetType()):
			t.Errorf("%s: the resource's type %s differs from the data source's %s", name, rsAttr.GetType(), dsAttr.GetType())
		case name != "process_id" && rsAttr.GetMarkdownDescription() != dsAttr.GetMarkdownDescription():
			t.Errorf("%s: the resource describes it as %q, the data source as %q", name, rsAttr.GetMarkdownDescription(), dsAttr.GetMarkdownDescription())
		}
	}

	dsWait := ds.Schema.Blocks["wait"].(dsschema.SingleNestedBlock)
	rsWait := rs.Schema.Blocks["wait"].(schema.SingleNestedBlock)
	for name, dsAttr := range dsWait.Attributes {
		rsAttr := rsWait.Attributes[name]
		if rsAttr == nil || rsAttr.GetMarkdownDescription() != dsAttr.GetMarkdownDescription() || !rsAttr.IsOptional() {
			t.Errorf("wait.%s differs: resource %#v, data source %#v", name, rsAttr, dsAttr)
		}
	}
	if got := len(rsWait.Attributes["poll_interval"].(schema.StringAttribute).Validators); got != 1 {
		t.Errorf("the resource's wait.poll_interval has %d validators; want the data source's one", got)
	}
}

// wait and timeouts are blocks on both: Terraform checks the keys of a block
// but drops unknown keys of a nested attribute's object value.
func TestSchema_waitAndTimeoutsAreBlocks(t *testing.T) {
	ds, rs := schemas()
	for _, name := range []string{"wait", "timeouts"} {
		if _, ok := ds.Schema.Blocks[name].(dsschema.SingleNestedBlock); !ok {
			t.Errorf("the data source's %s is %T, not a single nested block", name, ds.Schema.Blocks[name])
		}
		if _, ok := rs.Schema.Blocks[name].(schema.SingleNestedBlock); !ok {
			t.Errorf("the resource's %s is %T, not a single nested block", name, rs.Schema.Blocks[name])
		}
		if _, ok := ds.Schema.Attributes[name]; ok {
			t.Errorf("the data source still has an attribute %s", name)
		}
		if _, ok := rs.Schema.Attributes[name]; ok {
			t.Errorf("the resource still has an attribute %s", name)
		}
	}
	if got := len(ds.Schema.Blocks["timeouts"].(dsschema.SingleNestedBlock).Attributes["read"].(dsschema.StringAttribute).Validators); got != 1 {
		t.Errorf("timeouts.read has %d validators; want the project's duration validator", got)
	}
	if got := len(rs.Schema.Blocks["timeouts"].(schema.SingleNestedBlock).Attributes["create"].(schema.StringAttribute).Validators); got != 1 {
		t.Errorf("timeouts.create has %d validators; want the project's duration validator", got)
	}
}

// Every wait setting is an Optional string or bool with nothing a schema
// package without Computed (an action's) could not carry over.
func TestWaitBlock_convertibleSettings(t *testing.T) {
	block := waitBlock("any")
	if len(block.Attributes) != 3 {
		t.Fatalf("wait has %d settings; want poll_interval, fail_on_error, fail_on_unknown", len(block.Attributes))
	}
	for name, a := range block.Attributes {
		switch a := a.(type) {
		case dsschema.StringAttribute:
			if !a.Optional || a.Required || a.Computed || a.Sensitive || a.CustomType != nil || a.MarkdownDescription == "" {
				t.Errorf("wait.%s: want Optional, described, nothing else: %#v", name, a)
			}
		case dsschema.BoolAttribute:
			if !a.Optional || a.Required || a.Computed || a.Sensitive || a.CustomType != nil || len(a.Validators) > 0 || a.MarkdownDescription == "" {
				t.Errorf("wait.%s: want Optional, described, nothing else: %#v", name, a)
			}
		default:
			t.Errorf("wait.%s is %T: only strings and bools convert to every schema package", name, a)
		}
	}
}

// schemas are the data source's and the resource's schemas.
func schemas() (ds datasource.SchemaResponse, rs resource.SchemaResponse) {
	newConfigurationImportDataSource().Schema(context.Background(), datasource.SchemaRequest{}, &ds)
	newConfigurationImportWaitResource().Schema(context.Background(), resource.SchemaRequest{}, &rs)
	return ds, rs
}

// The action's wait block is the data source's, converted: the same
// settings and validators, and the same descriptions but for what false
// does (an action records nothing); timeout has the project's duration
// validator.
func TestActionBlock_sharesWaitSettings(t *testing.T) {
	var resp action.SchemaResponse
	newConfigurationImportWaitAction().Schema(context.Background(), action.SchemaRequest{}, &resp)
	wait, ok := resp.Schema.Blocks["wait"].(actionschema.SingleNestedBlock)
	if !ok {
		t.Fatalf("wait is %T; want a single nested block", resp.Schema.Blocks["wait"])
	}
	want := waitBlock("")
	if len(wait.Attributes) != len(want.Attributes) {
		t.Fatalf("wait has %d settings; want %d", len(wait.Attributes), len(want.Attributes))
	}
	for name, w := range want.Attributes {
		got, ok := wait.Attributes[name]
		if !ok {
			t.Errorf("wait.%s is missing", name)
			continue
		}
		sameText := got.GetMarkdownDescription() == w.GetMarkdownDescription()
		if strings.HasPrefix(name, "fail_on_") {
			sameText = !strings.Contains(got.GetMarkdownDescription(), "record") &&
				strings.Contains(got.GetMarkdownDescription(), "end with a warning")
		}
		if !sameText || !got.IsOptional() {
			t.Errorf("wait.%s differs from the data source's: %#v", name, got)
		}
	}
	if got := wait.Attributes["poll_interval"].(actionschema.StringAttribute).Validators; len(got) != 1 {
		t.Errorf("wait.poll_interval has %d validators; want the duration validator", len(got))
	}
	if got := resp.Schema.Attributes["timeout"].(actionschema.StringAttribute).Validators; len(got) != 1 {
		t.Errorf("timeout has %d validators; want the duration validator", len(got))
	}
}
