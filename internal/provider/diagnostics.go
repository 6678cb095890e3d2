// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// addClientError turns a client error into a diagnostic whose summary says
// what kind of failure it was, and whose detail says what to do.
// timeoutAttribute names the setting that bounds the wait.
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

func describeClientError(processID int64, err error, timeoutAttribute string) (summary, advice string) {
	var (
		waitErr     *bitrix24.WaitError
		limitErr    *bitrix24.RateLimitError
		apiErr      *bitrix24.Error
		readTimeout *bitrix24.ReadTimeoutError
	)
	webhookURL := "webhook_url (or " + envVarOf("webhook_url") + ")"
	checkURL := "Check the host and port in " + webhookURL + "."
	problem, isTransport := bitrix24.TransportProblemOf(err)
	switch {
	case errors.Is(err, context.Canceled): // a single read; a cancelled wait is addCancelledWait's
		return "Reading the configuration import was cancelled",
			"Terraform cancelled the read (Ctrl-C or SIGTERM) before the portal answered. The import, if it runs, goes " +
				"on in the portal. Run again to read it."
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
			"The portal knows the webhook in " + webhookURL + ", but the webhook may not call " +
				"configuration.import methods. Add the scope on the portal: Developer resources > Other > Inbound " +
				"webhook, edit this webhook, tick configuration.import among its permissions, and save. The webhook's " +
				"URL and code stay the same, so the configuration needs no change: run again once it is saved."
	case bitrix24.IsAuthError(err):
		return "Bitrix24 refused the credentials",
			"Check that " + webhookURL + " is the URL of an active incoming webhook with the configuration.import scope."
	case isTransport && problem == bitrix24.ProblemCertificate:
		return "Bitrix24 portal certificate not trusted",
			"If the portal's certificate comes from an internal CA, as on-premise portals' often do, set the " +
				"provider's ca_cert_pem (or " + envVarOf("ca_cert_pem") + ") to that CA's PEM certificate. Verification cannot be switched off."
	case isTransport && problem == bitrix24.ProblemPlainHTTP:
		return "Bitrix24 portal answered plain HTTP on an https address",
			"The portal answered plain HTTP on an https address: check the scheme and port in " + webhookURL +
				". The portal's HTTPS port is usually 443; a plain-HTTP port such as 80 cannot serve https://."
	case isTransport && problem == bitrix24.ProblemTLSHandshake:
		return "TLS handshake with the Bitrix24 portal failed",
			"The portal, or a proxy in front of it, refused the TLS connection. Check that the port in " + webhookURL +
				" is the portal's HTTPS port, and that the portal accepts TLS 1.2 or later. No retry fixes this."
	case isTransport && problem == bitrix24.ProblemTLSHandshakeTimeout:
		return "TLS handshake with the Bitrix24 portal timed out",
			"The portal accepted the connection but sent no TLS answer. Check that the port in " + webhookURL +
				" is the portal's HTTPS port, and that no proxy or firewall holds the connection."
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
		retryErr.Attempts, envVarOf("max_retries"), maxRetriesSetting.max)
}

// What next after an import that ended in E or U.
const (
	nextStepFailed = "What next: fix what the exception names (the import's data, or the portal's state), " +
		"register the import again with configuration.import.register and set process_id to the processId it " +
		"returns. To record the failure and go on instead, set fail_on_error = false in the wait block."
	nextStepUnknown = "What next: check process_id against the processId that configuration.import.register " +
		"returned. If the import ended more than 2 days ago, the portal has forgotten it: register it again and set " +
		"the new process_id, or, to record it as unknown and go on, set fail_on_unknown = false in the wait block."
)

// insteadOfFailing says, in the warning about an E or U that the wait
// settings let pass, what happens instead of failing the run.
type insteadOfFailing struct{ failed, unknown string }

var (
	// recordsIt is the data source's and the resource's: they keep the status.
	recordsIt = insteadOfFailing{
		failed: "The failure is recorded instead of failing the run because the wait block sets " +
			"fail_on_error = false: dependents can branch on status or finished.",
		unknown: "The import is recorded as unknown instead of failing the run because the wait block sets " +
			"fail_on_unknown = false: dependents can branch on status or finished.",
	}
	// endsWithAWarning is the action's: it keeps nothing.
	endsWithAWarning = insteadOfFailing{
		failed:  "The action ends with this warning instead of failing the run because the wait block sets fail_on_error = false.",
		unknown: "The action ends with this warning instead of failing the run because the wait block sets fail_on_unknown = false.",
	}
)

// failureReport is the portal's side of an E or U, with its messages.
func failureReport(status *bitrix24.ImportStatus) string {
	return (&bitrix24.ImportFailedError{ProcessID: status.ProcessID, Status: status}).Report()
}

// reportImportFailure reports a failed (E) or unknown (U) import: as an
// error with the next step when the settings fail on it, else as a warning
// that says what happens instead. It reports whether it added an error.
func (s waitSettings) reportImportFailure(diags *diag.Diagnostics, status *bitrix24.ImportStatus, instead insteadOfFailing) bool {
	var summary, next, recorded string
	var fatal bool
	switch status.Status {
	case bitrix24.StatusFailed:
		summary, next, recorded, fatal = "Configuration import failed", nextStepFailed, instead.failed, s.failOnError
	case bitrix24.StatusUnknown:
		summary, next, recorded, fatal = "Configuration import unknown to the portal", nextStepUnknown, instead.unknown, s.failOnUnknown
	default:
		return false
	}
	if fatal {
		diags.AddError(summary, failureReport(status)+"\n\n"+next)
		return true
	}
	diags.AddWarning(summary, failureReport(status)+"\n\n"+recorded)
	return false
}

// What each waiter does when run again after a cancelled wait.
const (
	afterCancelledRead = "run plan or apply again: the data source reads the import again and waits from where " +
		"it is then."
	afterCancelledCreate = "apply again: a cancelled create records nothing, so the next apply waits for the same " +
		"import again, from where it is then."
	afterCancelledAction = "run the action again to wait from where the import is then: terraform apply " +
		"-invoke=action.bitrix24_configuration_import_wait.<name>. Applying again does not run an action_trigger's " +
		"action again: the resource that triggers it was created before the wait."
)

// addCancelledWait reports a wait that Ctrl-C or SIGTERM cancelled: where
// the import was, that it goes on in the portal, and then what to do.
func addCancelledWait(diags *diag.Diagnostics, e *bitrix24.WaitError, next string) {
	var b strings.Builder
	fmt.Fprintf(&b, "The wait for configuration import %d was cancelled after %s and %s. ",
		e.ProcessID, elapsedText(e.Waited), plural(e.Polls, "poll"))
	if e.Last != nil {
		fmt.Fprintf(&b, "Its last known state: %s; as the portal reported it: %s. ", e.Last.InWords(), e.Last.Describe())
	} else {
		b.WriteString("No poll had succeeded, so its state is not known. ")
	}
	if e.LastErr != nil {
		fmt.Fprintf(&b, "The last poll failed: %s. ", e.LastErr)
	}
	b.WriteString("The import goes on in the portal: cancelling the wait neither stops nor undoes it.\n\nWhat next: ")
	b.WriteString(next)
	diags.AddError("Waiting for the configuration import was cancelled", b.String())
}
