// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// minMaskedSecretPrefix is the shortest start of a secret masked on its
// own: a portal message may cut the webhook URL short mid-code. Six
// characters of a random code are far from anything a text holds by
// chance; five would start to catch ordinary words.
const minMaskedSecretPrefix = 6

// SecretPattern matches secret, and every start of it at least six
// characters long, wherever it appears: the one rule for hiding a secret,
// which Webhook.Redact applies to every text the client shows, stores or
// logs, and the provider hands to tflog. Case matters, as in the code.
//
// It leaves out the /rest/<user id>/ before the code: tflog replaces the
// whole match, and Go's regexps cannot look behind. The code's start alone
// covers the path in every form a portal writes it (/rest/1/, PHP's
// \/rest\/1\/, %2Frest%2F1%2F) and a code quoted outside any URL.
//
// An empty secret gives nil: it has nothing to hide.
func SecretPattern(secret string) *regexp.Regexp {
	if secret == "" {
		return nil
	}
	// The longest start first: leftmost-first matching takes the first
	// alternative that matches (and regexp factors the common prefixes).
	runes := []rune(secret)
	var starts []string
	for n := len(runes); n >= min(minMaskedSecretPrefix, len(runes)); n-- {
		starts = append(starts, regexp.QuoteMeta(string(runes[:n])))
	}
	return regexp.MustCompile(strings.Join(starts, "|"))
}

// redactImportStatus applies redact to every text of s that the portal
// wrote: an import quotes URLs, the webhook's among them, and its texts
// reach error texts, logs and the state.
func redactImportStatus(s *ImportStatus, redact func(string) string) {
	s.Status = redact(s.Status) // kept as sent when it is not a known letter
	if p := s.Progress; p != nil {
		p.Action = redact(p.Action)
		p.Section = redact(p.Section)
	}
	for _, list := range [][]ImportMessage{s.Notices, s.Errors, s.Exceptions} {
		for i := range list {
			list[i].Code = redact(list[i].Code)
			list[i].Message = redact(list[i].Message)
			list[i].Type = redact(list[i].Type)
		}
	}
	s.Additional = redactJSONStrings(s.Additional, redact)
	s.CreatedItems = redactJSONStrings(s.CreatedItems, redact)
}

// redactJSONStrings applies redact to every string of a valid JSON value,
// keys included, and returns the value still valid JSON: each string is
// redacted as decoded, so escapes (PHP writes "\/rest\/1\/...") hide
// nothing, and re-encoded only when it changed. The rest of raw is kept
// byte for byte.
func redactJSONStrings(raw json.RawMessage, redact func(string) string) json.RawMessage {
	var out []byte // nil until a string changes
	kept := 0      // raw[:kept] is in out
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // no number can fail to decode
	for from := 0; ; from = int(dec.InputOffset()) {
		token, err := dec.Token()
		if err != nil {
			break
		}
		if text, ok := token.(string); ok && redact(text) != text {
			// Only separators (whitespace, ',' and ':') come before the string.
			start := from + bytes.IndexByte(raw[from:], '"')
			out = append(append(out, raw[kept:start]...), marshalJSON(redact(text))...)
			kept = int(dec.InputOffset())
		}
	}
	if out == nil {
		return raw
	}
	return append(out, raw[kept:]...)
}
