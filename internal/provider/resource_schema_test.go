// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// The resource shows every attribute of the data source but timeouts, of
// the same type and, but for the two whose meaning differs, in the same
// words; wait's settings carry the same validators.
func TestResourceAttribute_sharesDataSourceAttributes(t *testing.T) {
	ctx := context.Background()
	var ds datasource.SchemaResponse
	newConfigurationImportDataSource().Schema(ctx, datasource.SchemaRequest{}, &ds)
	var rs resource.SchemaResponse
	newConfigurationImportWaitResource().Schema(ctx, resource.SchemaRequest{}, &rs)
	if diags := rs.Schema.ValidateImplementation(ctx); diags.HasError() {
		t.Fatalf("invalid resource schema: %v", diags)
	}

	for name, dsAttr := range ds.Schema.Attributes {
		if name == "timeouts" {
			continue
		}
		rsAttr, ok := rs.Schema.Attributes[name]
		switch {
		case !ok:
			t.Errorf("the resource has no %s", name)
		case !dsAttr.GetType().Equal(rsAttr.GetType()):
			t.Errorf("%s: the resource's type %s differs from the data source's %s", name, rsAttr.GetType(), dsAttr.GetType())
		case name != "process_id" && name != "wait" && rsAttr.GetMarkdownDescription() != dsAttr.GetMarkdownDescription():
			t.Errorf("%s: the resource describes it as %q, the data source as %q", name, rsAttr.GetMarkdownDescription(), dsAttr.GetMarkdownDescription())
		}
	}

	dsWait := ds.Schema.Attributes["wait"].(dsschema.SingleNestedAttribute)
	rsWait := rs.Schema.Attributes["wait"].(schema.SingleNestedAttribute)
	if !rsWait.IsOptional() {
		t.Error("the resource's wait is required; every setting has a default")
	}
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
