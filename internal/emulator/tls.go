// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// certLifetime is how long the generated certificates are valid: long
// enough for any demo, short enough not to matter if one leaks.
const certLifetime = 30 * 24 * time.Hour

// TLSCerts is an HTTPS identity for a portal on loopback, signed by a
// certificate authority of its own, as an on-premise portal's often is:
// a client trusts it only when given CAPEM.
type TLSCerts struct {
	CAPEM []byte // the CA certificate in PEM, for a client's trusted roots
	// ServerConfig serves a certificate for 127.0.0.1, ::1 and localhost;
	// set it as an httptest.Server's TLS before StartTLS, or an
	// http.Server's TLSConfig.
	ServerConfig *tls.Config
}

// NewTLSCerts generates, in memory, a CA and a server certificate it signed
// (ECDSA P-256 keys).
func NewTLSCerts() (*TLSCerts, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"Bitrix24 emulator"}, CommonName: "Bitrix24 emulator CA"},
		NotBefore:             now.Add(-time.Hour), // tolerate a client clock a little behind
		NotAfter:              now.Add(certLifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := createCertificate(caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serverTemplate := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"Bitrix24 emulator"}, CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:   caTemplate.NotBefore,
		NotAfter:    caTemplate.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	serverDER, err := createCertificate(serverTemplate, caCert, &serverKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &TLSCerts{
		CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		ServerConfig: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}},
			MinVersion:   tls.VersionTLS12,
		},
	}, nil
}

// createCertificate signs template with a random serial number.
func createCertificate(template, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	template.SerialNumber = serial
	return x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
}

// CertPool is a pool that trusts the CA alone, for a client's RootCAs.
func (c *TLSCerts) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	return pool
}
