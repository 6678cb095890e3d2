// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes bounds what one request body may hold.
const maxBodyBytes = 32 << 20

// readParams gathers the parameters of a call like the portal does: the query
// string, then a POST form (urlencoded or multipart), then a JSON body, each
// later source replacing top-level keys of the earlier ones. Keys use PHP's
// bracket syntax (data[MANIFEST][CODE]=x). A body that is not valid JSON adds
// nothing, silently, as on the portal.
func readParams(r *http.Request) *phpArray {
	params := parsePHPQuery(r.URL.RawQuery)
	if r.Body == nil {
		return params
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	mediaType, mediaParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var fromBody *phpArray
	switch {
	case mediaType == "application/json":
		// Only a JSON object names parameters.
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
			fromBody, _ = decodeJSONOrdered(body).(*phpArray)
		}
	case r.Method == http.MethodPost && mediaType == "application/x-www-form-urlencoded":
		fromBody = parsePHPQuery(string(body))
	case r.Method == http.MethodPost && mediaType == "multipart/form-data":
		fromBody = parseMultipart(body, mediaParams["boundary"])
	}
	if fromBody != nil {
		for _, k := range fromBody.keys {
			params.set(k, fromBody.vals[k])
		}
	}
	return params
}

// parsePHPQuery parses a urlencoded string as PHP's parse_str does, building
// nested arrays from bracketed keys and keeping the order of keys.
func parsePHPQuery(query string) *phpArray {
	out := newPHPArray()
	for _, pair := range strings.Split(query, "&") {
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		assignPHPKey(out, phpURLDecode(key), phpURLDecode(value))
	}
	return out
}

func parseMultipart(body []byte, boundary string) *phpArray {
	out := newPHPArray()
	if boundary == "" {
		return out
	}
	reader := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := reader.NextPart()
		if err != nil {
			return out
		}
		if part.FormName() != "" && part.FileName() == "" {
			value, _ := io.ReadAll(part)
			assignPHPKey(out, part.FormName(), string(value))
		}
		_ = part.Close()
	}
}

// phpURLDecode is PHP's urldecode: lenient about broken escapes.
func phpURLDecode(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return strings.ReplaceAll(s, "+", " ")
}

// assignPHPKey stores value under a PHP variable name such as
// "data[STRUCTURE][CRM_STATUS][]", creating nested arrays on the way.
func assignPHPKey(root *phpArray, name, value string) {
	base, path, ok := splitPHPKey(name)
	if !ok {
		return
	}
	keys := append([]string{base}, path...)
	cur := root
	for i, k := range keys {
		last := i == len(keys)-1
		if last {
			if k == "" && i > 0 {
				cur.push(value)
			} else {
				cur.set(k, value)
			}
			return
		}
		var next *phpArray
		if k == "" && i > 0 {
			next = newPHPArray()
			cur.push(next)
		} else {
			next = cur.child(k)
			if next == nil {
				next = newPHPArray()
				cur.set(k, next)
			}
		}
		cur = next
	}
}

// splitPHPKey splits "a[b][]" into "a" and ["b", ""] ("" means append). Like
// PHP it turns spaces and dots of the base name into underscores, treats an
// unmatched "[" as an underscore, and ignores anything after the last "]"
// that does not open another bracket.
func splitPHPKey(name string) (string, []string, bool) {
	name = strings.TrimLeft(name, " ")
	open := strings.IndexByte(name, '[')
	if open < 0 || !strings.Contains(name[open:], "]") {
		base := name
		if open >= 0 {
			base = name[:open]
		}
		base = strings.NewReplacer(" ", "_", ".", "_").Replace(base)
		if open >= 0 {
			base += "_" + name[open+1:]
		}
		return base, nil, base != ""
	}
	base := strings.NewReplacer(" ", "_", ".", "_").Replace(name[:open])
	if base == "" {
		return "", nil, false
	}
	var path []string
	rest := name[open:]
	for strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			break
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return base, path, true
}

// decodeJSONOrdered decodes JSON keeping object key order: objects and lists
// become *phpArray, numbers json.Number. Invalid input, trailing garbage
// included, gives nil, as PHP's json_decode does.
func decodeJSONOrdered(data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSONValue(dec)
	if err != nil {
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil
	}
	return v
}

func decodeJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out := newPHPArray()
			for dec.More() {
				keyTok, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := keyTok.(string)
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				out.set(key, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return out, nil
		case '[':
			out := newPHPArray()
			for dec.More() {
				v, err := decodeJSONValue(dec)
				if err != nil {
					return nil, err
				}
				out.push(v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return out, nil
		}
		return nil, errors.New("unexpected delimiter")
	default:
		return t, nil
	}
}
