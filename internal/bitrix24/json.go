// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The portal is written in PHP and its JSON is loose: numbers arrive as
// strings, empty lists as [] or as objects keyed by the original index,
// false stands for "nothing". These helpers read such values without failing
// on the unexpected.

// jsonKind returns the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n' or a digit/minus for numbers; 0 for an empty value.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	if c := raw[0]; c == '-' || (c >= '0' && c <= '9') {
		return '0'
	}
	return raw[0]
}

// isJSONNull reports whether raw is absent or null.
func isJSONNull(raw json.RawMessage) bool {
	k := jsonKind(raw)
	return k == 0 || k == 'n'
}

// jsonText turns any JSON value into text: strings as they are, numbers as
// written, true as "true", false and null as "", objects and lists as compact
// JSON.
func jsonText(raw json.RawMessage) string {
	switch jsonKind(raw) {
	case '"':
		// Most strings have nothing to unescape: skip the decoder for them.
		if quoted := bytes.TrimSpace(raw); len(quoted) >= 2 && quoted[len(quoted)-1] == '"' &&
			bytes.IndexByte(quoted, '\\') < 0 && utf8.Valid(quoted) && !hasControlByte(quoted) {
			return string(quoted[1 : len(quoted)-1])
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '0':
		return string(bytes.TrimSpace(raw))
	case 't':
		return "true"
	case 'f', 'n', 0:
		return ""
	default:
		return string(compactJSON(raw))
	}
}

// jsonNumberText is the text of a number sent as a JSON number or as a
// numeric string (PHP sends both); ok is false for any other value.
func jsonNumberText(raw json.RawMessage) (text string, ok bool) {
	switch jsonKind(raw) {
	case '0':
		return string(bytes.TrimSpace(raw)), true
	case '"':
		if json.Unmarshal(raw, &text) != nil {
			return "", false
		}
		return strings.TrimSpace(text), true
	}
	return "", false
}

// jsonInt reads an integer sent as a number (2, 2.0, 2e0) or as a numeric
// string ("2", " 2 "). A fraction is cut off; anything else reads as 0.
func jsonInt(raw json.RawMessage) int64 {
	text, ok := jsonNumberText(raw)
	if !ok {
		return 0
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0
	}
	return int64(f)
}

// jsonFloat reads a float sent as a number or as a numeric string.
func jsonFloat(raw json.RawMessage) (f float64, ok bool) {
	text, ok := jsonNumberText(raw)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// compactJSON returns raw without insignificant whitespace, in a new slice
// (the caller's buffer may be reused); nil when raw is absent or not JSON.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if json.Compact(&buf, raw) != nil {
		return nil
	}
	return json.RawMessage(buf.Bytes())
}

// jsonObject decodes a JSON object into its members, keys matched exactly
// (encoding/json's struct decoding would fold case). ok is false when raw is
// not an object.
func jsonObject(raw json.RawMessage) (members map[string]json.RawMessage, ok bool) {
	if jsonKind(raw) != '{' {
		return nil, false
	}
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, false
	}
	return members, true
}

// hasControlByte reports whether b has a byte below 0x20, which a JSON string
// may not contain unescaped.
func hasControlByte(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}
