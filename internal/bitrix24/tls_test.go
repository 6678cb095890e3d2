// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tlsPortal is an HTTPS portal whose certificate no system trusts, and the
// PEM of that certificate (httptest's is its own CA).
func tlsPortal(t *testing.T) (*httptest.Server, []byte) {
	t.Helper()
	server := httptest.NewTLSServer(ok(resultFinishedEmpty))
	t.Cleanup(server.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	return server, caPEM
}

func TestCall_UntrustedCertificateFailsAtOnce(t *testing.T) {
	server, _ := tlsPortal(t)
	hook, err := ParseWebhookURL(server.URL + "/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(true)
	client, err := NewClient(Config{Auth: hook, MaxRetries: 5, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = client.call(context.Background(), "configuration.import.get", nil)
	if !isCertificateProblem(err) || transient(err) {
		t.Fatalf("error = %v, want a certificate error that is not transient", err)
	}
	if timers := clock.Timers(); len(timers) != 0 {
		t.Errorf("retried an untrusted certificate: backoffs %v", timers)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Error() = %q, want it to name the certificate problem", err)
	}
	assertNoSecret(t, "error", err.Error())
	t.Logf("untrusted certificate refused in %v", time.Since(started))
}

func TestCall_TrustsTheGivenCA(t *testing.T) {
	server, caPEM := tlsPortal(t)
	hook, err := ParseWebhookURL(server.URL + "/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(Config{Auth: hook, CACertPEM: caPEM})
	if err != nil {
		t.Fatal(err)
	}
	status, err := client.ConfigurationImport.Get(context.Background(), 42)
	if err != nil || !status.Finished() {
		t.Fatalf("status %+v, error %v", status, err)
	}
}

func TestParseCACertPEM_bundles(t *testing.T) {
	_, caPEM := tlsPortal(t)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secret key bytes")})
	tests := []struct {
		name  string
		pem   string
		certs int
		err   string
	}{
		{"one certificate", string(caPEM), 1, ""},
		{"a bundle of two", string(caPEM) + string(caPEM), 2, ""},
		{"text around the block", "subject: test CA\n" + string(caPEM) + "\n", 1, ""},
		{"empty", "", 0, "no PEM certificate found"},
		{"not PEM", "MIIB...", 0, "no PEM certificate found"},
		{"a private key", string(keyPEM), 0, `"PRIVATE KEY" block`},
		{"garbage inside the block", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0, "certificate 1 of the PEM does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs, err := ParseCACertPEM([]byte(tt.pem))
			switch {
			case tt.err == "" && (err != nil || len(certs) != tt.certs):
				t.Errorf("%d certificates, error %v; want %d", len(certs), err, tt.certs)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want it to say %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "secret key bytes"):
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

func TestNewClient_CACertPEM(t *testing.T) {
	hook, err := ParseWebhookURL("https://portal.example.com/rest/1/" + testWebhookCode + "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(Config{Auth: hook, CACertPEM: []byte("not a certificate")}); err == nil {
		t.Error("NewClient accepted a CACertPEM without a certificate")
	}
	_, caPEM := tlsPortal(t)
	if _, err := NewClient(Config{Auth: hook, CACertPEM: caPEM, HTTPClient: &http.Client{}}); err == nil {
		t.Error("NewClient accepted CACertPEM with an HTTPClient it cannot apply it to")
	}
}
