// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"errors"
	"io"
)

// firstChunkBytes is the smallest chunk a body is read into, and the first
// one when its length is not known (a gzipped answer has none): a status
// fits in it whole, and so does what the excerpt of an oversize body looks
// at, with a margin so that a secret across its end is seen whole, and
// redacted, before it is cut.
const firstChunkBytes = 2 * excerptScanBytes

// errBodyTooLarge is a body above the limit.
var errBodyTooLarge = errors.New("body too large")

// readLimited reads r to its end when it holds at most limit bytes;
// sizeHint is its length when known (a Content-Length), else negative.
//
// A longer body is errBodyTooLarge: refused unread when sizeHint says so,
// else once the limit is passed, with its first firstChunkBytes for an
// excerpt. Memory stays bounded by the limit: the body is read into chunks
// whose sizes add up to the limit and one byte at most, each half the size
// of all before it, joined once at the end. (io.ReadAll of a LimitReader
// cost about three times the limit for an oversize body.)
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
