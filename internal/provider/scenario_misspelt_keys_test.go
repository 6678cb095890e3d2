// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// misspeltKey is a configuration with one key misspelt or put in the wrong
// place. Terraform must refuse it, naming the key: a key it dropped instead
// would leave its setting at the default without a word (as it did while
// wait and timeouts were nested attributes, hashicorp/terraform#33570).
type misspeltKey struct {
	name       string
	provider   string // inside provider "bitrix24", after webhook_url
	dataSource string // inside the data source, after process_id
	resource   string // inside the resource, after process_id
	want       string // expectError pattern naming the key
}

var misspeltKeys = []misspeltKey{
	// The data source.
	{name: "data source wait.fail_on_eror", dataSource: "wait {\n    fail_on_eror = false\n  }", want: `An argument named "fail_on_eror" is not expected here`},
	{name: "data source wait.pol_interval", dataSource: "wait {\n    pol_interval = \"2m\"\n  }", want: `An argument named "pol_interval" is not expected here`},
	{name: "data source wait.fail_on_unknow", dataSource: "wait {\n    fail_on_unknow = false\n  }", want: `An argument named "fail_on_unknow" is not expected here`},
	{name: "data source timeouts.create, a resource's timeout", dataSource: "timeouts {\n    create = \"5m\"\n  }", want: `An argument named "create" is not expected here`},
	{name: "data source timeouts.raed", dataSource: "timeouts {\n    raed = \"5m\"\n  }", want: `An argument named "raed" is not expected here`},
	{name: "data source poll_interval outside wait", dataSource: `poll_interval = "2m"`, want: `An argument named "poll_interval" is not expected here`},
	{name: "data source timeouts inside wait", dataSource: "wait {\n    timeouts {\n      read = \"5m\"\n    }\n  }", want: `Blocks of type "timeouts" are not expected here`},
	{name: "data source wait twice", dataSource: "wait {}\n  wait {\n    fail_on_error = false\n  }", want: `Duplicate wait block.*Only one block of type "wait" is allowed`},
	{name: "data source wait in the old attribute syntax", dataSource: "wait = {\n    fail_on_eror = false\n  }", want: `An argument named "wait" is not expected here. Did you mean to define a block of type "wait"\?`},

	// The resource.
	{name: "resource wait.fail_on_eror", resource: "wait {\n    fail_on_eror = false\n  }", want: `An argument named "fail_on_eror" is not expected here`},
	{name: "resource wait.poll_intervall", resource: "wait {\n    poll_intervall = \"2m\"\n  }", want: `An argument named "poll_intervall" is not expected here`},
	{name: "resource timeouts.crate", resource: "timeouts {\n    crate = \"90m\"\n  }", want: `An argument named "crate" is not expected here`},
	{name: "resource timeouts.read, a data source's timeout", resource: "timeouts {\n    read = \"90m\"\n  }", want: `An argument named "read" is not expected here`},
	{name: "resource fail_on_error outside wait", resource: "fail_on_error = false", want: `An argument named "fail_on_error" is not expected here`},
	{name: "resource timeouts in the old attribute syntax", resource: "timeouts = {\n    create = \"90m\"\n  }", want: `An argument named "timeouts" is not expected here. Did you mean to define a block of type "timeouts"\?`},

	// The provider block.
	{name: "provider max_retry", provider: "max_retry = 3", want: `An argument named "max_retry" is not expected here`},
	{name: "provider ratelimit", provider: "ratelimit = 2", want: `An argument named "ratelimit" is not expected here`},
	{name: "provider batch_read", provider: "batch_read = false", want: `An argument named "batch_read" is not expected here`},
	{name: "provider poll_interval, a wait setting", provider: `poll_interval = "2m"`, want: `An argument named "poll_interval" is not expected here`},
	{name: "provider wait block", provider: "wait {\n    fail_on_error = false\n  }", want: `Blocks of type "wait" are not expected here`},
}

// misspeltKeyConfig writes the configuration of one case: a provider, and
// the data source or the resource it is about (the data source when the
// case is about the provider).
func misspeltKeyConfig(k misspeltKey) string {
	var b strings.Builder
	b.WriteString("provider \"bitrix24\" {\n  webhook_url = \"https://portal.example.com/rest/1/offlinec0de4tests/\"\n")
	if k.provider != "" {
		b.WriteString("  " + k.provider + "\n")
	}
	b.WriteString("}\n\n")
	if k.resource != "" {
		b.WriteString("resource \"bitrix24_configuration_import_wait\" \"test\" {\n  process_id = 1\n  " + k.resource + "\n}\n")
	} else {
		b.WriteString("data \"bitrix24_configuration_import\" \"test\" {\n  process_id = 1\n")
		if k.dataSource != "" {
			b.WriteString("  " + k.dataSource + "\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func TestAccSchema_misspeltKeysRefused(t *testing.T) {
	t.Parallel()
	for _, k := range misspeltKeys {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			unitTest(t, resource.TestStep{
				Config:      misspeltKeyConfig(k),
				PlanOnly:    true,
				ExpectError: expectError(k.want),
			})
		})
	}
}
