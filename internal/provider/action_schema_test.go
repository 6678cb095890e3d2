// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/action"
	actionschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
)

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
