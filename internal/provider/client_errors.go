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
	summary, advice := describeClientError(processID, err, timeoutAttribute)
	detail := err.Error()
	if advice != "" {
		detail += "\n\n" + advice
	}
	if hint := retryHint(err, timeoutAttribute); hint != "" {
		detail += "\n\n" + hint
	}
	diags.AddError(summary, detail)
}

// describeClientError names the failure and says what fixes it.
func describeClientError(processID int64, err error, timeoutAttribute string) (summary, advice string) {
	var (
		waitErr     *bitrix24.WaitError
		limitErr    *bitrix24.RateLimitError
		apiErr      *bitrix24.Error
		readTimeout *bitrix24.ReadTimeoutError
	)
	checkURL := "Check the host and port in webhook_url (or " + envWebhookURL + ")."
	problem, isTransport := bitrix24.TransportProblemOf(err)
	switch {
	case errors.As(err, &waitErr):
		return "Timed out waiting for the configuration import",
			"Raise " + timeoutAttribute + " if the import is still making progress: an import takes about " +
				"5 + 2 × sections + files minutes."
	case errors.As(err, &readTimeout):
		return "Timed out reading the configuration import",
			"The read ran out of " + timeoutAttribute + " before the portal answered. Check that the portal is up and " +
				"reachable from this machine; raise " + timeoutAttribute + " if it is only slow."
	case errors.As(err, &apiErr) && apiErr.HasCode(bitrix24.ErrorCodeInsufficientScope):
		return "Webhook without the configuration.import scope",
			"The portal knows the webhook in webhook_url (or " + envWebhookURL + "), but the webhook may not call " +
				"configuration.import methods. Add the scope on the portal: Developer resources > Other > Inbound " +
				"webhook, edit this webhook, tick configuration.import among its permissions, and save. The webhook's " +
				"URL and code stay the same, so the configuration needs no change: run again once it is saved."
	case bitrix24.IsAuthError(err):
		return "Bitrix24 refused the credentials",
			"Check that webhook_url (or " + envWebhookURL + ") is the URL of an active incoming webhook " +
				"with the configuration.import scope."
	case isTransport && problem == bitrix24.ProblemCertificate:
		return "Bitrix24 portal certificate not trusted",
			"If the portal's certificate comes from an internal CA, as on-premise portals' often do, set the " +
				"provider's ca_cert_pem (or " + envCACertPEM + ") to that CA's PEM certificate. Verification cannot be switched off."
	case isTransport && problem == bitrix24.ProblemPlainHTTP:
		return "Bitrix24 portal answered plain HTTP on an https address",
			"The portal answered plain HTTP on an https address: check the scheme and port in webhook_url (or " +
				envWebhookURL + "). The portal's HTTPS port is usually 443; a plain-HTTP port such as 80 cannot serve https://."
	case isTransport && problem == bitrix24.ProblemTLSHandshake:
		return "TLS handshake with the Bitrix24 portal failed",
			"The portal, or a proxy in front of it, refused the TLS connection. Check that the port in webhook_url (or " +
				envWebhookURL + ") is the portal's HTTPS port, and that the portal accepts TLS 1.2 or later. No retry fixes this."
	case isTransport && problem == bitrix24.ProblemTLSHandshakeTimeout:
		return "TLS handshake with the Bitrix24 portal timed out",
			"The portal accepted the connection but sent no TLS answer. Check that the port in webhook_url (or " +
				envWebhookURL + ") is the portal's HTTPS port, and that no proxy or firewall holds the connection."
	case isTransport && problem == bitrix24.ProblemNoResponse:
		return "Bitrix24 portal did not answer",
			"The portal accepted the connection and sent nothing back, although it cuts a request at 60 s itself: " +
				"the portal, or a proxy or load balancer in front of it, hangs. Check the portal's state (a maintenance " +
				"window, an overloaded server) and what sits in front of it."
	case isTransport && problem == bitrix24.ProblemUnknownHost:
		return "Bitrix24 portal host not found",
			"The host name in webhook_url does not resolve. " + checkURL
	case isTransport && problem == bitrix24.ProblemConnectionRefused:
		return "Bitrix24 portal refused the connection",
			"The host answered, but nothing accepts connections on that port. " + checkURL
	case isTransport && problem == bitrix24.ProblemConnectTimeout:
		return "Bitrix24 portal did not answer the connection attempt",
			"No reply came to the connection attempts: a firewall or proxy may drop them, or the host is down. " + checkURL +
				" Check also that this machine may reach the portal (a proxy in HTTPS_PROXY, firewall rules)."
	case errors.As(err, &limitErr):
		return "Client-side rate limit reached before the deadline",
			"Many reads share the provider's rate_limit. Raise " + timeoutAttribute + ", or rate_limit and rate_burst " +
				"if the portal's plan allows more (Enterprise: 5 and 250)."
	case errors.As(err, &apiErr) && apiErr.HasCode(bitrix24.ErrorCodeOperationTimeLimit):
		return "Bitrix24 method time limit reached",
			"The portal blocks a method for the rest of its 10-minute window once calls of it used up their " +
				"execution time. Run again after the time given, or raise " + timeoutAttribute + " so that the provider waits for it."
	}
	return fmt.Sprintf("Unable to read configuration import %d", processID), ""
}

// retryHint says which setting would have let the client try longer, when
// it gave up on a failure it was retrying.
func retryHint(err error, timeoutAttribute string) string {
	var retryErr *bitrix24.RetryError
	if !errors.As(err, &retryErr) {
		return ""
	}
	if retryErr.Deadline {
		return "The provider stopped trying because its next try would have come after " + timeoutAttribute +
			". Raise " + timeoutAttribute + " to let the read wait longer for a busy portal."
	}
	if retryErr.Unanswered {
		return fmt.Sprintf("The provider tried %d times: a portal that has not answered once in a run is tried again "+
			"only once, whatever max_retries says. Check the address and the network first.", retryErr.Attempts)
	}
	return fmt.Sprintf("The provider tried %d times. Raise max_retries (or %s; at most %d) to try more often.",
		retryErr.Attempts, envMaxRetries, maxMaxRetries)
}
