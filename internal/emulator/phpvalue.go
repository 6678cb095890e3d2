// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// phpArray is an ordered map with the semantics of a PHP array, the only
// container the portal has. It is used both for decoded request parameters
// (so that, for example, the order of STRUCTURE sections survives) and for
// answers, because it encodes exactly as PHP's json_encode does: a JSON list
// when its keys are 0..n-1 in order, otherwise an object. Empty encodes as [].
type phpArray struct {
	keys []string
	vals map[string]any
	next int // the index PHP uses for $a[] = v
}

func newPHPArray() *phpArray {
	return &phpArray{vals: map[string]any{}}
}

// obj builds a phpArray from alternating keys and values, in order.
func obj(kv ...any) *phpArray {
	a := newPHPArray()
	for i := 0; i+1 < len(kv); i += 2 {
		a.set(fmt.Sprint(kv[i]), kv[i+1])
	}
	return a
}

// set assigns a key, keeping the position of an existing key as PHP does.
func (a *phpArray) set(key string, v any) {
	if _, ok := a.vals[key]; !ok {
		a.keys = append(a.keys, key)
	}
	a.vals[key] = v
	if n, ok := phpIntKey(key); ok && n >= a.next {
		a.next = n + 1
	}
}

func (a *phpArray) push(v any) { a.set(strconv.Itoa(a.next), v) }

func (a *phpArray) get(key string) any {
	if a == nil {
		return nil
	}
	return a.vals[key]
}

func (a *phpArray) child(key string) *phpArray {
	v := a.get(key)
	c, _ := v.(*phpArray)
	return c
}

func (a *phpArray) len() int {
	if a == nil {
		return 0
	}
	return len(a.keys)
}

func (a *phpArray) isList() bool {
	for i, k := range a.keys {
		if k != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

func (a *phpArray) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if a.isList() {
		b.WriteByte('[')
		for i, k := range a.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(&b, a.vals[k]); err != nil {
				return nil, err
			}
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	}
	b.WriteByte('{')
	for i, k := range a.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, a.vals[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(data)
	return nil
}

// phpIntKey reports whether PHP would store key as an integer key.
func phpIntKey(key string) (int, bool) {
	n, err := strconv.Atoi(key)
	if err != nil || strconv.Itoa(n) != key {
		return 0, false
	}
	return n, true
}

// plain converts a decoded value into ordinary Go values (map[string]any,
// []any, float64, string, bool, nil) for the test-facing request log.
func plain(v any) any {
	switch t := v.(type) {
	case *phpArray:
		if t.isList() {
			out := make([]any, 0, len(t.keys))
			for _, k := range t.keys {
				out = append(out, plain(t.vals[k]))
			}
			return out
		}
		out := make(map[string]any, len(t.keys))
		for _, k := range t.keys {
			out[k] = plain(t.vals[k])
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plain(e)
		}
		return out
	case json.Number:
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	default:
		return v
	}
}

// phpFloat is a float that encodes like PHP 7.1+ json_encode: always with a
// fractional part ("1629303000.0"), so clients that decode `time.start` into
// an integer break here as they would against a real portal.
type phpFloat float64

func (f phpFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("0.0"), nil
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return []byte(s), nil
}

// phpInt converts a parameter to an integer the way PHP's (int) cast does,
// which is how the portal reads processId: "12abc" is 12, "abc" is 0, " 7" is
// 7, "1e3" is 1000, true is 1, a non-empty array is 1.
func phpInt(v any) int64 {
	switch t := v.(type) {
	case nil:
		return 0
	case bool:
		if t {
			return 1
		}
		return 0
	case string:
		return phpIntFromString(t)
	case json.Number:
		return phpIntFromString(t.String())
	case float64:
		return truncFloat(t)
	case int:
		return int64(t)
	case int64:
		return t
	case *phpArray:
		if t.len() > 0 {
			return 1
		}
		return 0
	case []any:
		if len(t) > 0 {
			return 1
		}
		return 0
	default:
		return 0
	}
}

func phpIntFromString(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	// Longest numeric prefix: sign, digits, optional fraction and exponent.
	isDigit := func(i int) bool { return i < len(s) && s[i] >= '0' && s[i] <= '9' }
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intStart := i
	for isDigit(i) {
		i++
	}
	intEnd := i
	isFloat := false
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for isDigit(j) {
			j++
		}
		if intEnd > intStart || j > i+1 {
			isFloat, i = true, j
		}
	}
	if i == intStart {
		return 0 // no digits at all
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if isDigit(j) {
			for isDigit(j) {
				j++
			}
			isFloat, i = true, j
		}
	}
	if !isFloat {
		n, err := strconv.ParseInt(s[:intEnd], 10, 64)
		if err != nil { // overflow: PHP saturates
			if s[0] == '-' {
				return math.MinInt64
			}
			return math.MaxInt64
		}
		return n
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0
	}
	return truncFloat(f)
}

func truncFloat(f float64) int64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0
	}
	return int64(f)
}

// phpEmpty mirrors PHP's empty() for the string values the portal tests.
func phpEmpty(s string) bool { return s == "" || s == "0" }

// phpEscape rewrites Go's JSON output the way PHP's json_encode writes it by
// default: "/" as "\/" and every non-ASCII character as \uXXXX (UTF-16
// surrogate pairs above U+FFFF). Both only occur inside strings, so the
// rewrite needs no parsing; decoders read the same values either way.
func phpEscape(data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + len(data)/8)
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == '/':
			b.WriteString(`\/`)
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
			i += size
		}
	}
	return b.Bytes()
}
