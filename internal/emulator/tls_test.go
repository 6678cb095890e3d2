// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func newTestCerts(t *testing.T) *TLSCerts {
	t.Helper()
	certs, err := NewTLSCerts()
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

func TestNewTLSCerts_TrustedOnlyWithItsCA(t *testing.T) {
	certs := newTestCerts(t)
	portal := New(Config{RequireHTTPS: true, AgentPeriod: -1})
	server := httptest.NewUnstartedServer(portal)
	server.TLS = certs.ServerConfig
	server.StartTLS()
	defer server.Close()
	url := server.URL + portal.WebhookPath() + "server.time"

	plain := &http.Client{Transport: &http.Transport{}}
	_, err := plain.Get(url)
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Errorf("a client without the CA: %v, want x509.UnknownAuthorityError", err)
	}

	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certs.CertPool()}}}
	resp, err := trusting.Get(url)
	if err != nil {
		t.Fatalf("a client with the CA: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a client with the CA: HTTP %d", resp.StatusCode)
	}
}

func TestNewTLSCerts_ServerCertificateNames(t *testing.T) {
	certs := newTestCerts(t)
	leaf, err := x509.ParseCertificate(certs.ServerConfig.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: certs.CertPool()}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var wrongHost x509.HostnameError
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "portal.example.com", Roots: certs.CertPool()}); !errors.As(err, &wrongHost) {
		t.Errorf("another host: %v, want x509.HostnameError", err)
	}
	var unknownAuthority x509.UnknownAuthorityError
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: newTestCerts(t).CertPool()}); !errors.As(err, &unknownAuthority) {
		t.Errorf("another emulator's CA: %v, want x509.UnknownAuthorityError", err)
	}
}
