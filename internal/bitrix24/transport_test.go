// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// chunkedBody answers 200 with size bytes of JSON-looking text and no
// Content-Length, written from one small block so that the server side
// allocates next to nothing.
func chunkedBody(size int) http.HandlerFunc {
	block := []byte(`{"result":"` + strings.Repeat("a", 64<<10-11))
	filler := []byte(strings.Repeat("a", 64<<10))
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.(http.Flusher).Flush() // headers out now: no Content-Length
		for written := 0; written < size; written += len(block) {
			if _, err := w.Write(block); err != nil {
				return // the client hung up, as it should
			}
			block = filler
		}
	}
}

// bytesAllocated is how many bytes of heap f allocates (the whole process
// counts: run nothing else meanwhile).
func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// An answer larger than the limit is refused once the limit is passed, and
// costs about the limit in memory, however large it is: 64 MiB without a
// Content-Length against the default 16 MiB.
func TestCall_oversizeBodyCostsAtMostTheLimit(t *testing.T) {
	portal := newTestPortal(t, chunkedBody(64<<20))
	client := portal.Client()

	var err error
	allocated := bytesAllocated(func() {
		_, err = client.call(context.Background(), "configuration.import.get", nil)
	})
	var respErr *ResponseError
	if !errors.As(err, &respErr) || !strings.Contains(respErr.Reason, "larger than the limit of 16 MiB") {
		t.Fatalf("error = %v, want the body refused as larger than the limit", err)
	}
	t.Logf("reading a 64 MiB answer allocated %.1f MiB", float64(allocated)/(1<<20))
	if limit := uint64(DefaultMaxResponseBytes) * 5 / 4; allocated > limit {
		t.Errorf("reading a 64 MiB answer allocated %.1f MiB, want at most %.0f MiB (the 16 MiB limit and a margin)",
			float64(allocated)/(1<<20), float64(limit)/(1<<20))
	}
}

// Whatever the size, the hint and the reads' sizes, a body within the limit
// comes back whole and one above it is refused: unread when the hint says
// so, else with its first bytes.
func TestReadLimited(t *testing.T) {
	const limit = 100 << 10
	readers := map[string]func(io.Reader) io.Reader{
		"whole reads":    func(r io.Reader) io.Reader { return r },
		"one byte reads": iotest.OneByteReader,
		"half reads":     iotest.HalfReader,
	}
	for _, size := range []int{0, 1, firstChunkBytes - 1, firstChunkBytes, firstChunkBytes + 1, 3*firstChunkBytes + 5, limit - 1, limit, limit + 1, 3 * limit} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte('a' + i%26)
		}
		for _, hint := range []int64{-1, int64(size)} {
			for name, wrap := range readers {
				what := fmt.Sprintf("%d bytes, hint %d, %s", size, hint, name)
				got, err := readLimited(wrap(bytes.NewReader(body)), hint, limit)
				if size > limit {
					want := body[:firstChunkBytes]
					if hint >= 0 {
						want = nil // refused unread
					}
					if !errors.Is(err, errBodyTooLarge) || !bytes.Equal(got, want) {
						t.Errorf("%s: got %d bytes, %v; want the first %d and errBodyTooLarge", what, len(got), err, len(want))
					}
					continue
				}
				if err != nil || !bytes.Equal(got, body) {
					t.Errorf("%s: got %d bytes, %v; want the body whole", what, len(got), err)
				}
			}
		}
	}
}

// A read error comes back with what was read before it.
func TestReadLimited_readError(t *testing.T) {
	body := strings.Repeat("x", 3*firstChunkBytes)
	got, err := readLimited(io.MultiReader(strings.NewReader(body), iotest.ErrReader(io.ErrUnexpectedEOF)), -1, 1<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) || string(got) != body {
		t.Errorf("got %d bytes, %v; want %d bytes and the read error", len(got), err, len(body))
	}
}

// Reading an answer within the limit, and refusing one four times the
// limit (16 MiB: the default), both without a Content-Length.
func BenchmarkReadLimited(b *testing.B) {
	for _, size := range []int64{2 << 10, 1 << 20, 4 * DefaultMaxResponseBytes} {
		b.Run(formatBytes(size), func(b *testing.B) {
			b.SetBytes(min(size, DefaultMaxResponseBytes+1))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = readLimited(io.LimitReader(endlessText{}, size), -1, DefaultMaxResponseBytes)
			}
		})
	}
}

// endlessText reads as an endless run of letters.
type endlessText struct{}

func (endlessText) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

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
