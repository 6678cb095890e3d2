// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/json"
	"testing"
)

func TestJSONObject_shapes(t *testing.T) {
	tests := map[string]string{
		"":                             `{}`,
		`null`:                         `{}`,
		`[]`:                           `{}`, // PHP's empty array
		`{}`:                           `{}`,
		`{"b": [1, 2], "a": {"x": 1}}`: `{"b":[1,2],"a":{"x":1}}`,
		`["x", {"ID": 5}]`:             `{"0":"x","1":{"ID":5}}`, // PHP keys 0..n-1
		`12345678901234567890`:         `{"value":12345678901234567890}`,
	}
	for in, want := range tests {
		got, err := jsonObject(json.RawMessage(in))
		if err != nil || got != want {
			t.Errorf("jsonObject(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := jsonObject(json.RawMessage(`{`)); err == nil {
		t.Error("jsonObject accepted broken JSON")
	}
}

func TestJSONList_shapes(t *testing.T) {
	tests := map[string]string{
		"":                                `[]`,
		`null`:                            `[]`,
		`[]`:                              `[]`,
		`{}`:                              `[]`,
		`[{"ENTITY": "CRM_STATUS"}]`:      `[{"ENTITY":"CRM_STATUS"}]`,
		`{"10": "c", "2": "b", "1": "a"}`: `["a","b","c"]`, // keys by number, as PHP kept them
		`{"x": "last", "0": "first"}`:     `["first","last"]`,
		`"one"`:                           `["one"]`,
	}
	for in, want := range tests {
		got, err := jsonList(json.RawMessage(in))
		if err != nil || got != want {
			t.Errorf("jsonList(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}
