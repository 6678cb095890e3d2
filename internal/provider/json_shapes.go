// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
)

// The portal writes additional and createItemList with PHP's json_encode,
// so their shape depends on their content: an empty array is `[]` whatever
// it stands for, an array with keys 0..n-1 is a list, any other array an
// object. State gives each one shape, so that expressions on it never meet
// the other: additional is always an object, created_items always a list.

// jsonObject returns raw as a JSON object: `{}` for nothing (absent, null,
// `[]`), a list's entries keyed "0", "1", ... as PHP keyed them, and any
// other value under "value".
func jsonObject(raw json.RawMessage) (string, error) {
	v, err := decode(raw)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "{}", nil
	case map[string]any:
		return compact(raw)
	case []any:
		object := make(map[string]any, len(v))
		for i, item := range v {
			object[strconv.Itoa(i)] = item
		}
		return marshal(object)
	default:
		return marshal(map[string]any{"value": v})
	}
}

// jsonList returns raw as a JSON list: `[]` for nothing (absent, null, `{}`),
// an object's values in the order of its keys (numeric keys by number, the
// order PHP gave them), and any other value as a list of one.
func jsonList(raw json.RawMessage) (string, error) {
	v, err := decode(raw)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "[]", nil
	case []any:
		return compact(raw)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
		list := make([]any, 0, len(v))
		for _, k := range keys {
			list = append(list, v[k])
		}
		return marshal(list)
	default:
		return marshal([]any{v})
	}
}

// decode reads raw, nil for nothing, keeping numbers as the portal wrote
// them (an id past 2^53 would lose digits as a float64).
func decode(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// keyLess orders numeric keys by number, before any other key, and other
// keys as strings.
func keyLess(a, b string) bool {
	na, errA := strconv.ParseInt(a, 10, 64)
	nb, errB := strconv.ParseInt(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return na < nb
	case errA == nil || errB == nil:
		return errA == nil
	default:
		return a < b
	}
}

// compact keeps the portal's own JSON, key order included, without spaces.
func compact(raw json.RawMessage) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b.Bytes())), nil
}
