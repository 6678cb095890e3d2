// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// addClientError turns a client error into a diagnostic whose summary says
// what kind of failure it was, so users know where to look. timeoutAttribute
// names the setting that bounds the wait: timeouts.read for the data source,
// timeouts.create for the resource.
func addClientError(diags *diag.Diagnostics, processID int64, err error, timeoutAttribute string) {
	var waitErr *bitrix24.WaitError
	switch {
	case errors.As(err, &waitErr) && waitErr.Cancelled:
		diags.AddError("Waiting for the configuration import was cancelled", err.Error())
	case errors.As(err, &waitErr):
		diags.AddError("Timed out waiting for the configuration import", err.Error()+
			"\n\nRaise "+timeoutAttribute+" if the import is still making progress: an import takes about "+
			"5 + 2 × sections + files minutes.")
	case bitrix24.IsAuthError(err):
		diags.AddError("Bitrix24 refused the credentials", err.Error()+
			"\n\nCheck that webhook_url (or "+webhookURLEnvVar+") is the URL of an active incoming webhook "+
			"with the configuration.import scope.")
	default:
		diags.AddError(fmt.Sprintf("Unable to read configuration import %d", processID), err.Error())
	}
}
