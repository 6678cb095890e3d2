// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The portal's PHP writes loose JSON, which these helpers read without
// failing on the unexpected: numbers as strings, false for "nothing", and
// an array in the shape of its content: [] when empty, whatever it stands
// for; a list for keys 0..n-1; else an object keyed by the original index.

// jsonKind returns the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n', or '0' for a number; 0 for an empty value.
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
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
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

// jsonInt reads an integer sent as a number (2, 2.0, 2e0) or as a numeric
// string ("2", " 2 "). A fraction is cut off; anything else reads as 0.
func jsonInt(raw json.RawMessage) int64 {
	if n, err := strconv.ParseInt(strings.TrimSpace(jsonText(raw)), 10, 64); err == nil {
		return n
	}
	if f, ok := jsonFloat(raw); ok && f > math.MinInt64 && f < math.MaxInt64 {
		return int64(f)
	}
	return 0
}

// jsonFloat reads a finite float sent as a number or as a numeric string.
func jsonFloat(raw json.RawMessage) (f float64, ok bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(jsonText(raw)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// compactJSON returns raw without insignificant whitespace, in a new slice
// (the caller's buffer may be reused); nil when raw is absent or not JSON.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return nil
	}
	return buf.Bytes()
}

// jsonObject decodes a JSON object into its members, keys matched exactly
// (a struct would fold case); ok is false when raw is not an object.
func jsonObject(raw json.RawMessage) (members map[string]json.RawMessage, ok bool) {
	if jsonKind(raw) != '{' || json.Unmarshal(raw, &members) != nil {
		return nil, false
	}
	return members, true
}

// isIndexKey reports whether an object key is a list index: digits only.
func isIndexKey(key string) bool {
	return key != "" && strings.Trim(key, "0123456789") == ""
}

// compareIndexKeys orders index keys by numeric value ("10" after "9", of any
// length), then any other keys by their text.
func compareIndexKeys(a, b string) int {
	switch aIndex, bIndex := isIndexKey(a), isIndexKey(b); {
	case aIndex && !bIndex:
		return -1
	case !aIndex && bIndex:
		return 1
	case !aIndex:
		return strings.Compare(a, b)
	}
	aDigits, bDigits := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	return cmp.Or(cmp.Compare(len(aDigits), len(bDigits)), strings.Compare(aDigits, bDigits),
		strings.Compare(a, b)) // "01" and "1": any fixed order
}

// byIndex keys a list's entries "0", "1", ..., as PHP keys the array it
// sends as a list.
func byIndex[V any](list []V) map[string]V {
	members := make(map[string]V, len(list))
	for i, v := range list {
		members[strconv.Itoa(i)] = v
	}
	return members
}

// inIndexOrder lists an object's values in the order of their keys
// (compareIndexKeys): the order of the array PHP sent as an object.
func inIndexOrder[V any](members map[string]V) []V {
	values := make([]V, 0, len(members))
	for _, key := range slices.SortedFunc(maps.Keys(members), compareIndexKeys) {
		values = append(values, members[key])
	}
	return values
}

// objectShaped returns raw as a compact JSON object, so that expressions on
// it never meet a list: {} for nothing (absent, null, []), a list's entries
// keyed "0", "1", ..., any other value under "value", an object as sent.
func objectShaped(raw json.RawMessage) json.RawMessage {
	compact, decoded := decodeKeepingNumbers(raw)
	switch v := decoded.(type) {
	case nil:
		return json.RawMessage("{}")
	case map[string]any:
		return compact
	case []any:
		return marshalJSON(byIndex(v))
	default:
		return marshalJSON(map[string]any{"value": v})
	}
}

// listShaped returns raw as a compact JSON list: [] for nothing (absent,
// null, {}), an object's values in the order of their keys (inIndexOrder),
// any other value as a list of one; a list stays as sent.
func listShaped(raw json.RawMessage) json.RawMessage {
	compact, decoded := decodeKeepingNumbers(raw)
	switch v := decoded.(type) {
	case nil:
		return json.RawMessage("[]")
	case []any:
		return compact
	case map[string]any:
		return marshalJSON(inIndexOrder(v))
	default:
		return marshalJSON([]any{v})
	}
}

// decodeKeepingNumbers returns raw compacted, and decoded with numbers as
// json.Number (an id past 2^53 would lose digits as a float64); nil for
// nothing. Invalid UTF-8 inside its strings becomes U+FFFD: Terraform
// strings must be UTF-8, and encoding/json lets such bytes through.
func decodeKeepingNumbers(raw json.RawMessage) (json.RawMessage, any) {
	compact := bytes.ToValidUTF8(compactJSON(raw), []byte("\uFFFD"))
	var v any
	dec := json.NewDecoder(bytes.NewReader(compact))
	dec.UseNumber()
	_ = dec.Decode(&v)
	return compact, v
}

// marshalJSON encodes decoded JSON, which cannot fail, without escaping
// HTML characters.
func marshalJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSpace(b.Bytes())
}
