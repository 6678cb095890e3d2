// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// decodeEnvelope turns a complete answer into a Response or an error.
func (c *Client) decodeEnvelope(ctx context.Context, method string, resp *http.Response, data []byte) (*Response, error) {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		to := ""
		if loc := resp.Header.Get("Location"); loc != "" {
			to = " to " + c.auth.Redact(loc)
		}
		return nil, c.responseError(method, resp, data, "the portal redirected the request"+to+
			" (a moved portal does this); use the portal's new address in the webhook URL", false)
	}

	// A byte-order mark before the JSON is a classic PHP misconfiguration
	// (a source file saved with one); the JSON after it is what was meant.
	data = bytes.TrimPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("\uFEFF"))

	if len(bytes.TrimSpace(data)) == 0 {
		empty := c.responseError(method, resp, nil, "the body is empty", false)
		empty.Empty = true
		return nil, empty
	}

	var envelope map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&envelope)
	if _, trailing := dec.Token(); err == nil && trailing != io.EOF {
		err = errors.New("data after the JSON value")
	}
	if err != nil {
		reason := "the body is not JSON"
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, c.responseError(method, resp, data, "the JSON ends early (a truncated body)", true)
		case looksLikeHTML(data):
			reason = "an HTML page instead of JSON"
		case jsonKind(data) == '{':
			reason = "the body is not valid JSON"
		case json.Valid(data):
			reason = "the JSON is not an object"
		}
		return nil, c.responseError(method, resp, data, reason, false)
	}

	if raw := envelope["error"]; !isJSONNull(raw) {
		apiErr := portalError(&Error{Method: method, Code: jsonText(raw), Description: jsonText(envelope["error_description"])},
			resp.StatusCode, c.auth.Redact)
		if t, ok := decodeTime(envelope["time"]); ok && t.OperatingResetAt != nil {
			apiErr.ResetAt = unixTime(*t.OperatingResetAt)
		}
		return nil, apiErr
	}

	result, ok := envelope["result"]
	if !ok {
		return nil, c.responseError(method, resp, data, `the JSON has neither "result" nor "error"`, false)
	}

	if apiErr := resultError(method, result); apiErr != nil {
		return nil, portalError(apiErr, resp.StatusCode, c.auth.Redact)
	}

	response := &Response{Result: result, HTTPStatus: resp.StatusCode}
	if raw := envelope["time"]; !isJSONNull(raw) {
		if response.Time, ok = decodeTime(raw); !ok {
			c.logger.Warn(ctx, "Ignoring the unreadable time block of a Bitrix24 answer", map[string]any{"method": method})
		}
	}
	return response, nil
}

// resultError is the {"error": "CODE", "error_description": "text"} that the
// configuration.import methods answer inside a result, with HTTP 200; nil
// when result is no object or its "error" is not a code (a string or number).
func resultError(method string, result json.RawMessage) *Error {
	members, _ := jsonObject(result)
	raw := members["error"]
	if k := jsonKind(raw); k != '"' && k != '0' {
		return nil
	}
	return &Error{Method: method, Code: jsonText(raw), Description: jsonText(members["error_description"])}
}

// portalError completes an error the portal answered with: the HTTP status
// of the answer, and its texts redacted, as the portal's may quote a URL.
func portalError(e *Error, httpStatus int, redact func(string) string) *Error {
	e.HTTPStatus = httpStatus
	e.Code, e.Description = redact(e.Code), redact(e.Description)
	return e
}

// decodeTime reads the envelope's time block, numbers or numeric strings.
func decodeTime(raw json.RawMessage) (*Time, bool) {
	members, ok := jsonObject(raw)
	if !ok {
		return nil, false
	}
	t := &Time{}
	t.Finish, _ = jsonFloat(members["finish"])
	if f, ok := jsonFloat(members["operating_reset_at"]); ok {
		t.OperatingResetAt = &f
	}
	return t, true
}

// unixTime turns the portal's unix seconds into a time.
func unixTime(seconds float64) time.Time {
	return time.UnixMicro(int64(seconds * 1e6))
}

// responseError describes an answer that is not an envelope.
func (c *Client) responseError(method string, resp *http.Response, data []byte, reason string, truncated bool) *ResponseError {
	contentType := resp.Header.Get("Content-Type")
	if mediaType, _, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mediaType
	}
	return &ResponseError{
		Method:      method,
		HTTPStatus:  resp.StatusCode,
		ContentType: contentType,
		Excerpt:     excerpt(data, c.auth.Redact),
		Reason:      reason,
		Truncated:   truncated,
	}
}

const (
	excerptScanBytes = 4096 // how much of a body an excerpt looks at
	excerptRunes     = 160  // how long an excerpt may be
)

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// excerpt makes a short, single-line, redacted extract of a body for an error
// text: the title of an HTML page, else the beginning of the body.
func excerpt(data []byte, redact func(string) string) string {
	// Redact before cutting, so a secret cannot be half cut and half shown.
	text := string(data)
	if redact != nil {
		text = redact(text)
	}
	text = strings.ToValidUTF8(text[:min(len(text), excerptScanBytes)], "\uFFFD")
	if m := htmlTitle.FindStringSubmatch(text); m != nil && strings.TrimSpace(m[1]) != "" {
		text = m[1]
	}

	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if runes := []rune(text); len(runes) > excerptRunes {
		text = string(runes[:excerptRunes]) + "…"
	}
	return text
}

func looksLikeHTML(data []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(data))
	head = head[:min(len(head), 512)]
	return bytes.HasPrefix(head, []byte("<!doctype html")) ||
		bytes.HasPrefix(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<head")) ||
		bytes.Contains(head, []byte("<body"))
}
