// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// minMaskedSecretPrefix is the shortest start of a secret that is masked on
// its own. A portal message that quotes the webhook URL may cut it short in
// the middle of the code; six characters of a random code are already far
// from anything a text holds by chance, and five would start to catch
// ordinary words of a code that happens to begin with one.
const minMaskedSecretPrefix = 6

// SecretPattern matches secret, and every start of it at least six
// characters long, wherever it appears: the one rule for hiding a secret.
// Webhook.Redact applies it to every text the client shows, stores or logs,
// and the provider hands it to tflog for every log line. Case matters, as it
// does in the code.
//
// The rule does not look for the /rest/<user id>/ before the code: tflog
// replaces the whole match, so a pattern that took the path along would
// turn /rest/1/<code>/ into ***/, and Go's regexps cannot look behind.
// Matching the start of the code alone covers the path as a portal writes
// it in every form (/rest/1/, PHP's escaped \/rest\/1\/, the
// percent-encoded %2Frest%2F1%2F) and a code quoted outside any URL.
//
// An empty secret gives nil: it has nothing to hide.
func SecretPattern(secret string) *regexp.Regexp {
	if secret == "" {
		return nil
	}
	runes := []rune(secret)
	if len(runes) <= minMaskedSecretPrefix {
		return regexp.MustCompile(regexp.QuoteMeta(secret))
	}
	// head(?:c7(?:c8(?:...)?)?)?: greedy, so the longest start present goes.
	var expr strings.Builder
	expr.WriteString(regexp.QuoteMeta(string(runes[:minMaskedSecretPrefix])))
	rest := runes[minMaskedSecretPrefix:]
	for _, r := range rest {
		expr.WriteString("(?:")
		expr.WriteString(regexp.QuoteMeta(string(r)))
	}
	expr.WriteString(strings.Repeat(")?", len(rest)))
	return regexp.MustCompile(expr.String())
}

// redactImportStatus applies redact to every text of s that the portal
// wrote: an import quotes URLs, the webhook's among them, in its messages,
// its progress, and the additional data and created items it reports, and
// all of these reach error texts, logs and the state.
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
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		end := jsonStringEnd(raw, i)
		text := jsonText(raw[i:end])
		if redacted := redact(text); redacted != text {
			out = append(out, raw[kept:i]...)
			out = append(out, encodeJSONString(redacted)...)
			kept = end
		}
		i = end - 1
	}
	if out == nil {
		return raw
	}
	return append(out, raw[kept:]...)
}

// jsonStringEnd is the index just past the string literal that starts with
// the quote at raw[start].
func jsonStringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(raw)
}

// encodeJSONString writes s as a JSON string literal, leaving <, > and &
// as they are.
func encodeJSONString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
