// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

type dialTimeout struct{}

// tlsHandshakeTimeout is net/http's own, whose type is unexported.
type tlsHandshakeTimeout struct{}

func (tlsHandshakeTimeout) Error() string { return "net/http: TLS handshake timeout" }
func (tlsHandshakeTimeout) Timeout() bool { return true }

func (dialTimeout) Error() string { return "i/o timeout" }
func (dialTimeout) Timeout() bool { return true }

// Each connection problem gets a diagnostic of its own, naming it and
// what to check; an error after retries names the setting that allows
// more.
func TestAddClientError_connectionProblems(t *testing.T) {
	transport := func(err error) error {
		return &bitrix24.TransportError{Method: "configuration.import.get", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	tests := []struct {
		name          string
		err           error
		summary, text string
	}{
		{"unknown host", transport(&net.DNSError{Err: "no such host", Name: "portal.invalid", IsNotFound: true}),
			"Bitrix24 portal host not found", "does not resolve"},
		{"refused", transport(os.NewSyscallError("connect", syscall.ECONNREFUSED)),
			"Bitrix24 portal refused the connection", "nothing accepts connections on that port"},
		{"connect timeout", transport(dialTimeout{}),
			"Bitrix24 portal did not answer the connection attempt", "a firewall or proxy may drop them"},
		{"plain HTTP on https", &bitrix24.TransportError{Method: "configuration.import.get", Err: http.ErrSchemeMismatch},
			"Bitrix24 portal answered plain HTTP on an https address", "check the scheme and port in webhook_url"},
		{"after retries", &bitrix24.RetryError{Attempts: 6, MaxRetries: 5, Err: transport(dialTimeout{})},
			"Bitrix24 portal did not answer the connection attempt", "gave up after 6 attempts (max_retries = 5)\n\nNo reply"},
		{"never answered", &bitrix24.RetryError{Attempts: 2, MaxRetries: 5, Unanswered: true, Err: transport(dialTimeout{})},
			"Bitrix24 portal did not answer the connection attempt",
			"The provider tried 2 times: a portal that has not answered once in a run is tried again only once, whatever max_retries says"},
		{"TLS handshake timeout", &bitrix24.TransportError{Method: "configuration.import.get", Err: tlsHandshakeTimeout{}},
			"TLS handshake with the Bitrix24 portal timed out", "is the portal's HTTPS port"},
		{"read timed out", &bitrix24.ReadTimeoutError{Method: "configuration.import.get", After: time.Minute,
			InFlight: "the portal had not answered the request in flight (sent 40 s before)"},
			"Timed out reading the configuration import", "The read ran out of timeouts.read before the portal answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			addClientError(&diags, 7, tt.err, "timeouts.read")
			if len(diags) != 1 || diags[0].Summary() != tt.summary || !strings.Contains(diags[0].Detail(), tt.text) {
				t.Fatalf("diagnostics %v", diags)
			}
			if retryErr, retried := tt.err.(*bitrix24.RetryError); (retried && !retryErr.Unanswered) != strings.Contains(diags[0].Detail(), "Raise max_retries") {
				t.Errorf("detail %q: the max_retries hint belongs to errors after retries only", diags[0].Detail())
			}
		})
	}
}

// The warnings of a recorded failure give the portal's messages, labelled,
// and name the setting that recorded it; terraform import of a failed
// import names the way to a new one.
func TestAccConfigurationImportWaitResource_recordedFailureWarningsNameTheSetting(t *testing.T) {
	t.Parallel()
	portal, failed := portalWithEndedImport(t, failingScript())
	recorder := &warningRecorder{}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: recorder.factories(),
		Steps: []resource.TestStep{{
			Config: portal.providerConfig() + waitResourceConfig("failed", failed, "  wait {\n    fail_on_error = false\n  }\n") +
				waitResourceConfig("unknown", 424242, "  wait {\n    fail_on_unknown = false\n  }\n"),
		}, {
			Config:        portal.providerConfig() + waitResourceConfig("failed", failed, ""),
			ResourceName:  waitResourceType + ".failed",
			ImportState:   true,
			ImportStateId: fmt.Sprint(failed),
		}},
	})

	warnings := strings.Join(recorder.Warnings(), "\n")
	for _, want := range []string{
		`ApplyResourceChange: Configuration import failed: Configuration import \d+ failed \(status E\) at action .*\n` +
			`  exception \[ERROR_ACCESS\]: Access denied to REST_APPLICATION\n  error \[ERROR_CONTENT\]: Status CRM_STATUS/SOURCE was skipped\n\n` +
			`The failure is recorded .* because the wait block sets fail_on_error = false`,
		`ApplyResourceChange: Configuration import unknown to the portal: The portal does not know configuration import 424242 \(status U\).*\n\n` +
			`The import is recorded as unknown .* because the wait block sets fail_on_unknown = false`,
		`(?s)ImportResourceState: Imported a failed configuration import: .*\n  exception \[ERROR_ACCESS\]: Access denied.*` +
			`register it again with configuration.import.register and set process_id to the new processId`,
	} {
		if !regexp.MustCompile(want).MatchString(warnings) {
			t.Errorf("no warning matches %s; got:\n%s", want, warnings)
		}
	}
}
