// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// formatBytes writes a size limit the way a person would set it.
func formatBytes(n int64) string {
	const mib = 1 << 20
	if n >= mib && n%mib == 0 {
		return fmt.Sprintf("%d MiB", n/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}

// firstChunkBytes is the smallest chunk a body is read into, and the first
// when its length is not known (a gzipped answer has none): a status fits
// in it, and so does what an oversize body's excerpt looks at, with a margin
// so that a secret across its end is redacted before it is cut.
const firstChunkBytes = 2 * excerptScanBytes

// errBodyTooLarge is a body above the limit.
var errBodyTooLarge = errors.New("body too large")

// readLimited reads r to its end when it holds at most limit bytes;
// sizeHint is its length when known (a Content-Length), else negative.
//
// A longer body is errBodyTooLarge: refused unread when sizeHint says so,
// else once the limit is passed, with its first firstChunkBytes for an
// excerpt. Memory stays bounded by the limit (io.ReadAll of a LimitReader
// takes three times it): the body is read into chunks whose sizes add up to
// the limit and one byte at most, each half the size of all before it.
//
// With any other read error, what was read comes back with it, for an
// excerpt; io.EOF ends the body and is no error.
func readLimited(r io.Reader, sizeHint, limit int64) ([]byte, error) {
	if sizeHint > limit {
		return nil, errBodyTooLarge
	}
	// +1: the end is seen without a second chunk.
	buf := make([]byte, 0, min(max(sizeHint+1, firstChunkBytes), limit+1))
	var chunks [][]byte // full chunks before buf
	var total int64
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		total += int64(n)
		switch {
		case total > limit:
			// The first chunk is full, and at least firstChunkBytes long
			// unless it holds all limit+1 bytes.
			first := append(chunks, buf)[0]
			return first[:min(len(first), firstChunkBytes)], errBodyTooLarge
		case err != nil:
			if err == io.EOF {
				err = nil
			}
			if chunks == nil {
				return buf, err
			}
			return bytes.Join(append(chunks, buf), nil), err
		case len(buf) == cap(buf):
			chunks = append(chunks, buf)
			// total <= limit here, so the chunk is never empty.
			buf = make([]byte, 0, min(max(total/2, firstChunkBytes), limit+1-total))
		}
	}
}

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
