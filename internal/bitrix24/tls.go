// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// newTransport is go-cleanhttp's pooled transport, trusting caPEM in
// addition to the system's roots when it is set: on-premise portals often
// serve a certificate of the company's own CA. Its dial and TLS handshake
// timeouts are twice the request's (request_timeouts.go), which cut the
// request first.
func newTransport(caPEM []byte) (*http.Transport, error) {
	transport := cleanhttp.DefaultPooledTransport()
	transport.DialContext = (&net.Dialer{Timeout: 2 * connectTimeout, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = 2 * tlsHandshakeTimeout
	if len(caPEM) == 0 {
		return transport, nil
	}
	certs, err := ParseCACertPEM(caPEM)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool() // no system roots here: the CA alone
	}
	for _, cert := range certs {
		pool.AddCert(cert)
	}
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return transport, nil
}

// ParseCACertPEM reads the certificates of a PEM bundle. It fails when the
// bundle holds no certificate, or one that does not parse; its errors never
// quote the input.
func ParseCACertPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("the PEM holds a %q block; only CERTIFICATE blocks belong here (never a private key)", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d of the PEM does not parse: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found: the value must contain at least one -----BEGIN CERTIFICATE----- block")
	}
	return certs, nil
}
