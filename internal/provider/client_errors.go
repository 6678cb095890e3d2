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
// what kind of failure it was, and whose detail says what to do.
// timeoutAttribute names the setting that bounds the wait: timeouts.read for
// the data source, timeouts.create for the resource.
func addClientError(diags *diag.Diagnostics, processID int64, err error, timeoutAttribute string) {
	var (
		waitErr  *bitrix24.WaitError
		limitErr *bitrix24.RateLimitError
		apiErr   *bitrix24.Error
	)
	switch {
	case errors.As(err, &waitErr) && waitErr.Cancelled:
		diags.AddError("Waiting for the configuration import was cancelled", err.Error())
	case errors.As(err, &waitErr):
		diags.AddError("Timed out waiting for the configuration import", err.Error()+
			"\n\nRaise "+timeoutAttribute+" if the import is still making progress: an import takes about "+
			"5 + 2 × sections + files minutes.")
	case bitrix24.IsAuthError(err):
		diags.AddError("Bitrix24 refused the credentials", err.Error()+
			"\n\nCheck that webhook_url (or "+envWebhookURL+") is the URL of an active incoming webhook "+
			"with the configuration.import scope.")
	case bitrix24.IsCertificateError(err):
		diags.AddError("Bitrix24 portal certificate not trusted", err.Error()+
			"\n\nIf the portal's certificate comes from an internal CA, as on-premise portals' often do, set the "+
			"provider's ca_cert_pem (or "+envCACertPEM+") to that CA's PEM certificate. Verification cannot be switched off.")
	case bitrix24.IsUnreachable(err):
		diags.AddError("Bitrix24 portal unreachable", err.Error()+
			"\n\nNothing answered at the portal's address. Check the host and port in webhook_url (or "+envWebhookURL+").")
	case errors.As(err, &limitErr):
		diags.AddError("Client-side rate limit reached before the deadline", err.Error()+
			"\n\nMany reads share the provider's rate_limit. Raise "+timeoutAttribute+", or rate_limit and rate_burst "+
			"if the portal's plan allows more (Enterprise: 5 and 250).")
	case errors.As(err, &apiErr) && apiErr.HasCode(bitrix24.ErrorCodeOperationTimeLimit):
		diags.AddError("Bitrix24 method time limit reached", err.Error()+
			"\n\nThe portal blocks a method for the rest of its 10-minute window once calls of it used up their "+
			"execution time. Run again after the time given, or raise "+timeoutAttribute+" so that the provider waits for it.")
	default:
		diags.AddError(fmt.Sprintf("Unable to read configuration import %d", processID), err.Error())
	}
}
