// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func FuzzDecodeImportStatus(f *testing.F) {
	for _, result := range allImportResults {
		f.Add([]byte(result))
	}
	for _, result := range []string{
		`{"status":"E","exception":{"b":{"message":"b"},"10":{"message":"10"},"9":{"message":"9"},"01":{"message":"01"},"1":{"message":"1"}}}`,
		`{"status":"P","progress":{"action":false,"step":"2.0"},"notice":null}`,
		`{"status":"F","additional":"x","createItemList":{"1":[]}}`,
		`{"error":"PROCESS_NOT_FOUND"}`,
		`{"status":5,"errors":"text","notice":[null,false,"",7,{"code":1}]}`,
		`[]`, `null`, `{}`, ``, `"U"`,
	} {
		f.Add([]byte(result))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		status, err := DecodeImportStatus(json.RawMessage(data))
		if err != nil {
			var respErr *ResponseError
			var apiErr *Error
			if !errors.As(err, &respErr) && !errors.As(err, &apiErr) {
				t.Fatalf("error is %T: %v", err, err)
			}
			if status != nil {
				t.Fatal("both a status and an error")
			}
			return
		}

		if strings.TrimSpace(status.Status) == "" {
			t.Fatal("decoded without a status")
		}
		_ = status.State()
		_ = status.Describe()
		if err := ImportFailure(status); err != nil {
			_ = err.Error()
		}

		again, err := DecodeImportStatus(json.RawMessage(data))
		if err != nil || !reflect.DeepEqual(status, again) {
			t.Fatalf("decoding is not deterministic: %+v / %+v, %v", status, again, err)
		}

		for name, raw := range map[string]json.RawMessage{"additional": status.Additional, "createItemList": status.CreatedItems} {
			if raw == nil {
				continue
			}
			var compacted bytes.Buffer
			if err := json.Compact(&compacted, raw); err != nil || !bytes.Equal(compacted.Bytes(), raw) {
				t.Fatalf("%s is not compact JSON: %s", name, raw)
			}
		}

		var members map[string]json.RawMessage
		if err := json.Unmarshal(data, &members); err != nil {
			t.Fatalf("decoded a result that is not an object: %v", err)
		}
		for _, list := range []struct {
			key, typ string
			got      []ImportMessage
		}{
			{"notice", "notice", status.Notices},
			{"errors", "error", status.Errors},
			{"exception", "exception", status.Exceptions},
		} {
			for _, m := range list.got {
				if m.Type == "" {
					t.Fatalf("%s: a message without a type", list.key)
				}
			}
			checkIndexOrder(t, list.key, members[list.key], list.got)
		}
	})
}

// checkIndexOrder checks, for a list sent as an object keyed by index, that
// the entries with a string message come out ordered by the key's numeric
// value. It sorts with math/big, unlike the decoder.
func checkIndexOrder(t *testing.T, key string, raw json.RawMessage, got []ImportMessage) {
	t.Helper()
	var object map[string]json.RawMessage
	if jsonKind(raw) != '{' || json.Unmarshal(raw, &object) != nil {
		return
	}
	type entry struct {
		n       *big.Int
		message string
	}
	var entries []entry
	for k, v := range object {
		n, ok := new(big.Int).SetString(k, 10)
		if !ok || n.Sign() < 0 || strings.ContainsAny(k, "+-") {
			continue
		}
		var item map[string]json.RawMessage
		if json.Unmarshal(v, &item) != nil {
			continue
		}
		var message string
		if json.Unmarshal(item["message"], &message) != nil || message == "" {
			continue
		}
		entries = append(entries, entry{n, message})
	}
	if len(entries) == 0 {
		return
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].n.Cmp(entries[j].n) < 0 })

	// Equal numbers ("1", "01") may come in either order: compare groups.
	var want []string
	for i, e := range entries {
		if i > 0 && entries[i-1].n.Cmp(e.n) == 0 {
			want[len(want)-1] += "\x00" + e.message
			continue
		}
		want = append(want, e.message)
	}
	next := 0
	for _, m := range got {
		if next < len(want) && containsPart(want[next], m.Message) {
			if want[next] = removePart(want[next], m.Message); want[next] == "" {
				next++
			}
		}
	}
	if next != len(want) {
		t.Fatalf("%s: messages %v are not in index order %q", key, got, want)
	}
}

func containsPart(group, message string) bool {
	for _, part := range strings.Split(group, "\x00") {
		if part == message {
			return true
		}
	}
	return false
}

func removePart(group, message string) string {
	parts := strings.Split(group, "\x00")
	for i, part := range parts {
		if part == message {
			return strings.Join(append(parts[:i:i], parts[i+1:]...), "\x00")
		}
	}
	return group
}

func BenchmarkDecodeImportStatus(b *testing.B) {
	result := failedResultWithMessages(20, 25, 5)
	b.SetBytes(int64(len(result)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeImportStatus(result); err != nil {
			b.Fatal(err)
		}
	}
}

// failedResultWithMessages builds a realistic E result: notices and the
// exception keyed by their original index, errors as a list.
func failedResultWithMessages(notices, errs, exceptions int) json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"status":"E","progress":{"action":"load","step":14,"section":"CRM_STATUS"},"notice":{`)
	index := 0
	for i := 0; i < notices; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%d":{"code":"","message":"Section CRM_STATUS: loaded file %d.json","type":"notice"}`, index, i)
		index += 2
	}
	b.WriteString(`},"errors":[`)
	for i := 0; i < errs; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"code":"ERROR_IMPORT_ITEM","message":"Item %d of CRM_STATUS was not imported: status NEW_%d exists","type":"error"}`, i, i)
	}
	b.WriteString(`],"exception":{`)
	for i := 0; i < exceptions; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%d":{"code":"","message":"Cannot read file %d.json: \u0444\u0430\u0439\u043b \u043f\u043e\u0432\u0440\u0435\u0436\u0434\u0435\u043d","type":"exception"}`, index+i, i)
	}
	b.WriteString(`}}`)
	return json.RawMessage(b.String())
}

func TestDecodeImportStatus_failedWithMessages(t *testing.T) {
	status, err := DecodeImportStatus(failedResultWithMessages(20, 25, 5))
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Notices) != 20 || len(status.Errors) != 25 || len(status.Exceptions) != 5 {
		t.Fatalf("got %d notices, %d errors, %d exceptions", len(status.Notices), len(status.Errors), len(status.Exceptions))
	}
	for i, m := range status.Notices {
		if want := fmt.Sprintf("Section CRM_STATUS: loaded file %d.json", i); m.Message != want {
			t.Fatalf("notice %d = %q, want %q", i, m.Message, want)
		}
	}
}

func TestDecodeImportStatus_Shapes(t *testing.T) {
	tests := []struct {
		name   string
		result string
		want   ImportStatus
	}{
		{
			name:   "null lists and progress",
			result: `{"status":"P","progress":null,"notice":null,"errors":null,"exception":null,"additional":null,"createItemList":null}`,
			want:   ImportStatus{Status: "P"},
		},
		{
			name:   "empty lists, progress as []",
			result: `{"status":"P","progress":[],"notice":[],"errors":{},"exception":false}`,
			want:   ImportStatus{Status: "P"},
		},
		{
			name:   "section absent, step a float",
			result: `{"status":"P","progress":{"action":"load","step":2.0}}`,
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 2}},
		},
		{
			name:   "step a float string, padded",
			result: `{"status":"P","progress":{"action":"load","step":" 4.0 "}}`,
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 4}},
		},
		{
			name:   "step unreadable",
			result: `{"status":"P","progress":{"action":"load","step":"many","section":null}}`,
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load"}},
		},
		{
			name:   "empty progress object",
			result: `{"status":"P","progress":{}}`,
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{}},
		},
		{
			name: "message fields that are not strings",
			result: `{"status":"E","errors":[{"code":404,"message":12.5,"type":"error"},{"code":false,"message":true},` +
				`{"code":"","message":{"text":"nested"}},null,"plain text",7]}`,
			want: ImportStatus{Status: "E", Errors: []ImportMessage{
				{Code: "404", Message: "12.5", Type: "error"},
				{Message: "true", Type: "error"},
				{Message: `{"text":"nested"}`, Type: "error"},
				{Message: "plain text", Type: "error"},
				{Message: "7", Type: "error"},
			}},
		},
		{
			name: "object keys: numeric order, then other keys",
			result: `{"status":"E","exception":{"b":{"message":"b"},"10":{"message":"10"},"9":{"message":"9"},` +
				`"a":{"message":"a"},"0":{"message":"0"},"100000000000000000000":{"message":"huge"}}}`,
			want: ImportStatus{Status: "E", Exceptions: []ImportMessage{
				{Message: "0", Type: "exception"}, {Message: "9", Type: "exception"}, {Message: "10", Type: "exception"},
				{Message: "huge", Type: "exception"}, {Message: "a", Type: "exception"}, {Message: "b", Type: "exception"},
			}},
		},
		{
			name:   "a single message object instead of a list",
			result: `{"status":"E","exception":{"code":"X","message":"one","type":"exception"}}`,
			want:   ImportStatus{Status: "E", Exceptions: []ImportMessage{{Code: "X", Message: "one", Type: "exception"}}},
		},
		{
			name:   "a string instead of a list",
			result: `{"status":"E","errors":"disk full","notice":""}`,
			want:   ImportStatus{Status: "E", Errors: []ImportMessage{{Message: "disk full", Type: "error"}}},
		},
		{
			name:   "additional and createItemList of any shape",
			result: `{"status":"F","additional":"done","createItemList":{ "a" : [ 1, 2 ] }}`,
			want:   ImportStatus{Status: "F", Additional: json.RawMessage(`{"value":"done"}`), CreatedItems: json.RawMessage(`[[1,2]]`)},
		},
		{
			name:   "processId as a numeric string",
			result: `{"status":"S","processId":"17"}`,
			want:   ImportStatus{Status: "S", ProcessID: 17},
		},
		{
			name:   "status as a number",
			result: `{"status":5}`,
			want:   ImportStatus{Status: "5"},
		},
		{
			name:   "lower-case letter",
			result: `{"status":"f"}`,
			want:   ImportStatus{Status: "F"},
		},
		{
			name:   "letter with whitespace",
			result: `{"status":" p\n","progress":{"action":"load","step":1}}`,
			want:   ImportStatus{Status: "P", Progress: &ImportProgress{Action: "load", Step: 1}},
		},
		{
			name:   "unrecognised letter kept as sent",
			result: `{"status":" x"}`,
			want:   ImportStatus{Status: " x"},
		},
		{
			name:   "invalid UTF-8 in additional and createItemList",
			result: "{\"status\":\"F\",\"additional\":{\"name\":\"Sales \xff\xfe\"},\"createItemList\":[\"\xc3\"]}",
			want: ImportStatus{
				Status:       "F",
				Additional:   json.RawMessage("{\"name\":\"Sales \uFFFD\"}"),
				CreatedItems: json.RawMessage("[\"\uFFFD\"]"),
			},
		},
		{
			name:   "unknown keys",
			result: `{"status":"S","something":{"new":true}}`,
			want:   ImportStatus{Status: "S"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeImportStatus(json.RawMessage(tt.result))
			if err != nil {
				t.Fatalf("DecodeImportStatus: %v", err)
			}
			if want := withEmptyShapes(tt.want); !reflect.DeepEqual(*got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", *got, want)
			}
		})
	}
}

// withEmptyShapes fills in the Additional and CreatedItems that a status
// without them decodes to.
func withEmptyShapes(want ImportStatus) ImportStatus {
	if want.Additional == nil {
		want.Additional = json.RawMessage(`{}`)
	}
	if want.CreatedItems == nil {
		want.CreatedItems = json.RawMessage(`[]`)
	}
	return want
}

// additional is always an object and createItemList always a list,
// whichever shape PHP's json_encode gave them.
func TestDecodeImportStatus_PHPShapes(t *testing.T) {
	additional := map[string]string{
		"":                             `{}`, // absent
		`null`:                         `{}`,
		`[]`:                           `{}`, // PHP's empty array
		`{}`:                           `{}`,
		`{"b": [1, 2], "a": {"x": 1}}`: `{"b":[1,2],"a":{"x":1}}`, // the portal's key order
		`["x", {"ID": 5}]`:             `{"0":"x","1":{"ID":5}}`,  // PHP keys 0..n-1
		`12345678901234567890`:         `{"value":12345678901234567890}`,
	}
	createdItems := map[string]string{
		"":                                `[]`,
		`null`:                            `[]`,
		`[]`:                              `[]`,
		`{}`:                              `[]`,
		`[{"ENTITY": "CRM_STATUS"}]`:      `[{"ENTITY":"CRM_STATUS"}]`,
		`{"10": "c", "2": "b", "1": "a"}`: `["a","b","c"]`, // keys by number, as PHP kept them
		`{"x": "last", "0": "first"}`:     `["first","last"]`,
		`"one"`:                           `["one"]`,
	}
	result := func(key, value string) string {
		if value == "" {
			return `{"status":"F"}`
		}
		return `{"status":"F","` + key + `":` + value + `}`
	}
	for in, want := range additional {
		got, err := DecodeImportStatus(json.RawMessage(result("additional", in)))
		if err != nil || string(got.Additional) != want {
			t.Errorf("additional %s: got %s, %v; want %s", in, got.Additional, err, want)
		}
	}
	for in, want := range createdItems {
		got, err := DecodeImportStatus(json.RawMessage(result("createItemList", in)))
		if err != nil || string(got.CreatedItems) != want {
			t.Errorf("createItemList %s: got %s, %v; want %s", in, got.CreatedItems, err, want)
		}
	}
	if _, err := DecodeImportStatus(json.RawMessage(`{"status":"F","additional":{`)); err == nil {
		t.Error("DecodeImportStatus accepted broken JSON in additional")
	}
}

func TestDecodeImportStatus_Invalid(t *testing.T) {
	for _, result := range []string{``, `null`, `[]`, `"F"`, `42`, `{}`, `{"status":""}`, `{"status":null}`,
		`{"status":{"a":1}}`, `{"status":["F"]}`, `{"status":"F"`, `not json`} {
		got, err := DecodeImportStatus(json.RawMessage(result))
		if err == nil {
			t.Errorf("%s: got %+v, want an error", result, got)
			continue
		}
		var respErr *ResponseError
		if !errors.As(err, &respErr) || respErr.Method != "configuration.import.get" || respErr.Reason == "" {
			t.Errorf("%s: error = %#v", result, err)
		}
	}

	_, err := DecodeImportStatus(json.RawMessage(`{"error":"PROCESS_NOT_FOUND","error_description":"Process doesn't found."}`))
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "PROCESS_NOT_FOUND" {
		t.Errorf("an error result: %#v", err)
	}
}
