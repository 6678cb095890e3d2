// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// DecodeImportStatus decodes the `result` of configuration.import.get; it
// never panics (fuzzed).
//
// It accepts every shape the portal is known to send: absent keys, message
// lists as JSON lists or as objects keyed by their original index (ordered by
// the key's numeric value), null or false for empty parts, progress.action
// false, numbers sent as strings, messages with non-string fields. Only a
// result that is not an object, or has no status, is an error: a
// *ResponseError (its HTTPStatus is 0 unless Get filled it in), or an *Error
// when the result carries {"error": ...} instead of a status.
//
// ProcessID is read from a processId member when there is one; Get sets it
// from its argument.
func DecodeImportStatus(result json.RawMessage) (*ImportStatus, error) {
	members, ok := jsonObject(result)
	if !ok {
		return nil, importDecodeError(result, "the result is not a JSON object")
	}

	var status string
	if raw := members["status"]; jsonKind(raw) == '"' || jsonKind(raw) == '0' {
		status = jsonText(raw)
	}
	if strings.TrimSpace(status) == "" {
		if raw, ok := members["error"]; ok && (jsonKind(raw) == '"' || jsonKind(raw) == '0') {
			return nil, &Error{
				Method:      methodConfigurationImportGet,
				Code:        jsonText(raw),
				Description: jsonText(members["error_description"]),
				InResult:    true,
			}
		}
		return nil, importDecodeError(result, `the result has no "status"`)
	}

	s := &ImportStatus{
		Status:       normalizeStatusLetter(status),
		Progress:     decodeImportProgress(members["progress"]),
		Notices:      decodeImportMessages(members["notice"], "notice"),
		Errors:       decodeImportMessages(members["errors"], "error"),
		Exceptions:   decodeImportMessages(members["exception"], "exception"),
		Additional:   anyJSON(members["additional"]),
		CreatedItems: anyJSON(members["createItemList"]),
	}
	s.ProcessID = jsonInt(members["processId"])

	return s, nil
}

// normalizeStatusLetter reads " f" or "p" as the letter the portal meant;
// anything else stays as sent.
func normalizeStatusLetter(status string) string {
	switch letter := strings.ToUpper(strings.TrimSpace(status)); letter {
	case StatusStarted, StatusProcessing, StatusFinished, StatusFailed, StatusUnknown:
		return letter
	}
	return status
}

func importDecodeError(result json.RawMessage, reason string) error {
	return &ResponseError{
		Method:  methodConfigurationImportGet,
		Reason:  reason,
		Excerpt: excerpt(result, nil),
	}
}

// decodeImportProgress reads progress; nil when absent, null, false or [].
// Fields that cannot be read are left empty rather than failing a poll.
func decodeImportProgress(raw json.RawMessage) *ImportProgress {
	members, ok := jsonObject(raw)
	if !ok {
		return nil
	}
	p := &ImportProgress{
		Action:  jsonText(members["action"]), // false reads as ""
		Section: jsonText(members["section"]),
	}
	p.Step = jsonInt(members["step"])
	return p
}

// decodeImportMessages reads notice, errors or exception. The portal filters
// one combined list per type and keeps the original indexes, so PHP sends a
// list with gaps as an object: {"1": {...}, "3": {...}}.
func decodeImportMessages(raw json.RawMessage, listType string) []ImportMessage {
	var items []json.RawMessage

	switch jsonKind(raw) {
	case '[':
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
	case '{':
		members, ok := jsonObject(raw)
		if !ok {
			return nil
		}
		if isSingleImportMessage(members) {
			items = []json.RawMessage{raw}
			break
		}
		keys := make([]string, 0, len(members))
		for key := range members {
			keys = append(keys, key)
		}
		slices.SortFunc(keys, compareIndexKeys)
		for _, key := range keys {
			items = append(items, members[key])
		}
	default:
		// A lone string or number where a list was expected: one message.
		items = []json.RawMessage{raw}
	}

	var messages []ImportMessage
	for _, item := range items {
		if m, ok := decodeImportMessage(item, listType); ok {
			messages = append(messages, m)
		}
	}
	return messages
}

// isSingleImportMessage reports whether an object is one message rather than
// a list keyed by index.
func isSingleImportMessage(members map[string]json.RawMessage) bool {
	for key := range members {
		if isIndexKey(key) {
			return false
		}
	}
	_, hasMessage := members["message"]
	_, hasCode := members["code"]
	return hasMessage || hasCode
}

// decodeImportMessage reads one list entry; ok is false for null, false and
// "", which stand for "no entry".
func decodeImportMessage(raw json.RawMessage, listType string) (ImportMessage, bool) {
	var m ImportMessage
	switch jsonKind(raw) {
	case 0, 'n', 'f':
		return m, false
	case '{':
		members, ok := jsonObject(raw)
		if !ok {
			return m, false
		}
		m.Code = jsonText(members["code"])
		m.Message = jsonText(members["message"])
		m.Type = jsonText(members["type"])
	default:
		if m.Message = jsonText(raw); m.Message == "" {
			return m, false
		}
	}
	if m.Type == "" {
		m.Type = listType
	}
	return m, true
}

// isIndexKey reports whether an object key is a list index: digits only.
func isIndexKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	return true
}

// compareIndexKeys orders index keys by numeric value ("10" after "9", of any
// length), then any other keys by their text.
func compareIndexKeys(a, b string) int {
	aIndex, bIndex := isIndexKey(a), isIndexKey(b)
	switch {
	case aIndex && !bIndex:
		return -1
	case !aIndex && bIndex:
		return 1
	case !aIndex:
		return strings.Compare(a, b)
	}
	aDigits, bDigits := trimLeadingZeros(a), trimLeadingZeros(b)
	if c := cmp.Compare(len(aDigits), len(bDigits)); c != 0 {
		return c
	}
	if c := strings.Compare(aDigits, bDigits); c != 0 {
		return c
	}
	return strings.Compare(a, b) // "01" and "1": any fixed order
}

func trimLeadingZeros(digits string) string {
	trimmed := strings.TrimLeft(digits, "0")
	if trimmed == "" {
		return "0"
	}
	return trimmed
}

// anyJSON keeps a value of any shape as compact JSON; nil when absent or null.
// Invalid UTF-8 inside its strings becomes U+FFFD: Terraform strings must be
// UTF-8, and encoding/json lets such bytes through.
func anyJSON(raw json.RawMessage) json.RawMessage {
	if isJSONNull(raw) {
		return nil
	}
	compact := compactJSON(raw)
	if compact != nil && !utf8.Valid(compact) {
		compact = bytes.ToValidUTF8(compact, []byte("\uFFFD"))
	}
	return compact
}
