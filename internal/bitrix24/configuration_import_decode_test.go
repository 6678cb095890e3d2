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
