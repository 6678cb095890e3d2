// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"cmp"
	"encoding/json"
	"strings"
)

// DecodeImportStatus decodes the `result` of configuration.import.get, in
// every shape the portal is known to send (absent keys, null or false for
// empty parts, PHP's lists keyed by index, numbers as strings, messages with
// non-string fields); it never panics (fuzzed). Only a result that is not an
// object, or has no status, is an error: a *ResponseError (HTTPStatus 0
// unless Get filled it in), or an *Error when the result carries {"error":
// ...} instead. ProcessID is read from a processId member; Get sets it.
func DecodeImportStatus(result json.RawMessage) (*ImportStatus, error) {
	members, ok := jsonObject(result)
	if !ok {
		return nil, importDecodeError(result, "the result is not a JSON object")
	}

	var status string
	if raw := members["status"]; jsonKind(raw) == '"' || jsonKind(raw) == '0' {
		status = jsonText(raw)
	}
	letter := strings.ToUpper(strings.TrimSpace(status))
	if letter == "" {
		if apiErr := resultError(methodConfigurationImportGet, result); apiErr != nil {
			return nil, apiErr
		}
		return nil, importDecodeError(result, `the result has no "status"`)
	}
	if _, known := statusNames[letter]; !known {
		letter = status // " f" or "p" reads as the letter the portal meant; anything else stays as sent
	}

	return &ImportStatus{
		ProcessID:    jsonInt(members["processId"]),
		Status:       letter,
		Progress:     decodeImportProgress(members["progress"]),
		Notices:      decodeImportMessages(members["notice"], "notice"),
		Errors:       decodeImportMessages(members["errors"], "error"),
		Exceptions:   decodeImportMessages(members["exception"], "exception"),
		Additional:   objectShaped(members["additional"]),
		CreatedItems: listShaped(members["createItemList"]),
	}, nil
}

// importDecodeError says why a result is no import status.
func importDecodeError(result json.RawMessage, reason string) error {
	return &ResponseError{Method: methodConfigurationImportGet, Reason: reason, Excerpt: excerpt(result, nil)}
}

// decodeImportProgress reads progress; nil when absent, null, false or [].
// Fields that cannot be read are left empty rather than failing a poll.
func decodeImportProgress(raw json.RawMessage) *ImportProgress {
	members, ok := jsonObject(raw)
	if !ok {
		return nil
	}
	return &ImportProgress{
		Action:  jsonText(members["action"]), // false reads as ""
		Step:    jsonInt(members["step"]),
		Section: jsonText(members["section"]),
	}
}

// decodeImportMessages reads notice, errors or exception: the portal keeps
// the indexes of one combined list, so PHP sends a list with gaps as an
// object, {"1": {...}, "3": {...}}. raw is valid JSON, out of an object.
func decodeImportMessages(raw json.RawMessage, listType string) []ImportMessage {
	items := []json.RawMessage{raw} // a lone message, string or number
	switch jsonKind(raw) {
	case '[':
		_ = json.Unmarshal(raw, &items)
	case '{':
		if members, _ := jsonObject(raw); !isSingleImportMessage(members) {
			items = inIndexOrder(members)
		}
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
		members, _ := jsonObject(raw)
		m.Code, m.Message, m.Type = jsonText(members["code"]), jsonText(members["message"]), jsonText(members["type"])
	default:
		if m.Message = jsonText(raw); m.Message == "" {
			return m, false
		}
	}
	m.Type = cmp.Or(m.Type, listType)
	return m, true
}
