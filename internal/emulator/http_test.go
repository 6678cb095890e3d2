// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServeHTTP_authAndRouting(t *testing.T) {
	h := newHarness(t, Config{UserID: "7", WebhookCode: "secret123"})
	h.portal.AddWebhook("9", "second")
	h.portal.AddWebhook("7", "expiring")
	h.portal.ExpireWebhook("expiring")

	invalidCredentials := `{"error":"INVALID_CREDENTIALS","error_description":"Invalid request credentials"}`
	noAuth := `{"error":"NO_AUTH_FOUND","error_description":"Wrong authorization data"}`
	notFound := `{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}`
	tests := []struct {
		name       string
		path       string
		header     http.Header
		wantStatus int
		wantBody   string // exact, for errors; "" for a success envelope
	}{
		{"webhook path helper", "/rest/7/secret123/server.time", nil, 200, ""},
		{"wrong code", "/rest/7/wrong/server.time", nil, 401, invalidCredentials},
		{"wrong user", "/rest/8/secret123/server.time", nil, 401, invalidCredentials},
		{"code of another user", "/rest/7/second/server.time", nil, 401, invalidCredentials},
		{"second webhook", "/rest/9/second/server.time", nil, 200, ""},
		{"expired webhook", "/rest/7/expiring/server.time", nil, 401, invalidCredentials},
		{"auth checked before method", "/rest/7/wrong/no.such.method", nil, 401, invalidCredentials},
		{"unknown method", "/rest/7/secret123/no.such.method", nil, 404, notFound},
		{"unknown method with .json", "/rest/7/secret123/no.such.method.json", nil, 404, notFound},
		{"no method", "/rest/7/secret123/", nil, 404, notFound},
		{"oauth token in query", "/rest/server.time?auth=abc", nil, 401, noAuth},
		{"oauth bearer", "/rest/server.time.json", http.Header{"Authorization": {"Bearer abc"}}, 401, noAuth},
		{"no auth at all", "/rest/server.time", nil, 401, noAuth},
		{"upper case", "/rest/7/secret123/SERVER.TIME", nil, 200, ""},
		{"mixed case with .JSON", "/rest/7/secret123/Server.Time.JSON", nil, 200, ""},
		{"with .json", "/rest/7/secret123/server.time.json", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, h.server.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp := h.do(req)
			if resp.status != tt.wantStatus {
				t.Errorf("HTTP %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			if resp.contentType != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", resp.contentType)
			}
			if tt.wantBody != "" {
				assertJSON(t, "body", string(resp.body), tt.wantBody)
				return
			}
			env := resp.envelope(t)
			if env.Error != nil || len(env.Result) == 0 || len(env.Time) == 0 {
				t.Errorf("not a success envelope: %s", resp.body)
			}
		})
	}

	if got := h.portal.WebhookPath(); got != "/rest/7/secret123/" {
		t.Errorf("WebhookPath = %q", got)
	}

	t.Run("removed webhook", func(t *testing.T) {
		h.portal.RemoveWebhook("second")
		resp := h.get("/rest/9/second/server.time")
		assertJSON(t, "body", string(resp.body), invalidCredentials)
	})

	t.Run("outside /rest/", func(t *testing.T) {
		resp := h.get("/index.php")
		if resp.status != 404 || !strings.HasPrefix(resp.contentType, "text/html") {
			t.Errorf("HTTP %d %q", resp.status, resp.contentType)
		}
	})
}

// A webhook without the configuration.import scope gets the portal's
// insufficient_scope for the import methods, with its text at the top level
// and without it inside a batch; the methods that need no scope still work,
// and scope lists what the webhook has.
func TestServeHTTP_scopes(t *testing.T) {
	h := newHarness(t, Config{Scopes: []string{"crm", "user"}})
	insufficient := `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the webhook token"}`
	for _, method := range []string{"configuration.import.get?processId=1", "configuration.import.register", "configuration.import.unregister?processId=1", "Configuration.Import.Get.json"} {
		resp := h.get(h.portal.WebhookPath() + method)
		if resp.status != http.StatusUnauthorized {
			t.Errorf("%s: HTTP %d, want 401", method, resp.status)
		}
		assertJSON(t, method, string(resp.body), insufficient)
	}
	if resp := h.get(h.portal.WebhookPath() + "no.such.method"); resp.status != http.StatusNotFound {
		t.Errorf("an unknown method: HTTP %d, want 404 whatever the scopes", resp.status)
	}
	if got := string(h.get(h.portal.WebhookPath() + "scope").envelope(t).Result); got != `["crm","user"]` {
		t.Errorf("scope = %s", got)
	}

	resp := h.postJSON("batch", map[string]any{"cmd": map[string]any{"t": "server.time", "g": "configuration.import.get?processId=1"}})
	if resp.status != http.StatusOK {
		t.Fatalf("batch: HTTP %d: %s", resp.status, resp.body)
	}
	var res struct {
		Result      map[string]json.RawMessage
		ResultError map[string]json.RawMessage `json:"result_error"`
	}
	if err := json.Unmarshal(resp.envelope(t).Result, &res); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "the batch's command", string(res.ResultError["g"]), `{"error":"insufficient_scope","error_description":""}`)
	if len(res.Result["t"]) == 0 {
		t.Errorf("server.time inside the batch did not run: %s", resp.body)
	}

	t.Run("the default webhook and added ones have the scope", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.portal.AddWebhook("2", "other")
		for _, path := range []string{h.portal.WebhookPath(), "/rest/2/other/"} {
			if resp := h.get(path + "configuration.import.get?processId=1"); resp.status != http.StatusOK {
				t.Errorf("%s: HTTP %d", path, resp.status)
			}
		}
		if got := string(h.get(h.portal.WebhookPath() + "scope").envelope(t).Result); got != `["configuration.import"]` {
			t.Errorf("scope = %s", got)
		}
	})

	t.Run("no scope at all", func(t *testing.T) {
		h := newHarness(t, Config{Scopes: []string{}})
		assertJSON(t, "get", string(h.get(h.portal.WebhookPath()+"configuration.import.get?processId=1").body), insufficient)
		if got := string(h.get(h.portal.WebhookPath() + "scope").envelope(t).Result); got != `[]` {
			t.Errorf("scope = %s", got)
		}
	})
}

func TestNew_defaults(t *testing.T) {
	p := New(Config{})
	defer p.Close()
	if got := p.WebhookPath(); got != "/rest/1/"+DefaultWebhookCode+"/" {
		t.Errorf("WebhookPath = %q", got)
	}
}

func TestServeHTTP_timeBlock(t *testing.T) {
	for _, cloud := range []bool{false, true} {
		t.Run("cloud="+strconv.FormatBool(cloud), func(t *testing.T) {
			h := newHarness(t, Config{Cloud: cloud})
			env := h.get(h.portal.WebhookPath() + "server.time").envelope(t)
			assertJSON(t, "result", string(env.Result), `"2021-08-18T18:10:00+02:00"`)
			// The frozen clock makes every figure exact; floats keep a fraction like PHP's.
			want := `{"start":1629303000.0,"finish":1629303000.0,"duration":0.0,"processing":0.0,` +
				`"date_start":"2021-08-18T18:10:00+02:00","date_finish":"2021-08-18T18:10:00+02:00"`
			if cloud {
				want += `,"operating_reset_at":1629303600,"operating":0.0`
			}
			assertJSON(t, "time", string(env.Time), want+"}")
		})
	}

	t.Run("real clock", func(t *testing.T) {
		p := New(Config{Cloud: true, AgentPeriod: -1})
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.WebhookPath()+"server.time", nil))
		var env struct {
			Time struct {
				Start, Finish, Duration, Processing, Operating float64
				DateStart                                      string `json:"date_start"`
				OperatingResetAt                               int64  `json:"operating_reset_at"`
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		if env.Time.Start <= 1.6e9 || env.Time.Finish < env.Time.Start || env.Time.Duration < 0 ||
			env.Time.OperatingResetAt <= int64(env.Time.Start) {
			t.Errorf("implausible time block: %s", rec.Body.Bytes())
		}
		if _, err := time.Parse(isoLayout, env.Time.DateStart); err != nil {
			t.Errorf("date_start %q: %v", env.Time.DateStart, err)
		}
	})
}

func TestReadParams_sources(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	ids := strconv.FormatInt(id, 10)
	base := h.server.URL + h.portal.WebhookPath() + "configuration.import.get"

	var multipartBody bytes.Buffer
	mw := multipart.NewWriter(&multipartBody)
	_ = mw.WriteField("processId", ids)
	_ = mw.Close()

	tests := []struct {
		name        string
		method      string
		url         string
		contentType string
		body        string
		wantStatus  string
		wantParams  map[string]any
	}{
		{"query", "GET", base + "?processId=" + ids, "", "", "S", map[string]any{"processId": ids}},
		{"form", "POST", base, "application/x-www-form-urlencoded", "processId=" + ids, "S", map[string]any{"processId": ids}},
		{"multipart", "POST", base, mw.FormDataContentType(), multipartBody.String(), "S", map[string]any{"processId": ids}},
		{"json number", "POST", base, "application/json", `{"processId":` + ids + `}`, "S", map[string]any{"processId": float64(id)}},
		{"json string", "POST", base, "application/json; charset=utf-8", `{"processId":"` + ids + `"}`, "S", map[string]any{"processId": ids}},
		{"body overrides query", "POST", base + "?processId=1", "application/json", `{"processId":` + ids + `}`, "S", map[string]any{"processId": float64(id)}},
		{"query kept beside body", "POST", base + "?processId=" + ids, "application/json", `{"other":1}`, "S", map[string]any{"processId": ids, "other": float64(1)}},
		{"invalid json is no parameters", "POST", base, "application/json", `{"processId":` + ids, "U", map[string]any{}},
		{"trailing garbage is invalid", "POST", base, "application/json", `{"processId":` + ids + `} x`, "U", map[string]any{}},
		{"json list is no parameters", "POST", base, "application/json", `[1]`, "U", map[string]any{}},
		{"non-numeric id", "GET", base + "?processId=abc", "", "", "U", map[string]any{"processId": "abc"}},
		{"numeric prefix reads like PHP (int)", "GET", base + "?processId=" + ids + "abc", "", "", "S", map[string]any{"processId": ids + "abc"}},
		{"missing id", "GET", base, "", "", "U", map[string]any{}},
		{"wrong id", "GET", base + "?processId=999999", "", "", "U", map[string]any{"processId": "999999"}},
		{"zero", "GET", base + "?processId=0", "", "", "U", map[string]any{"processId": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp := h.do(req)
			assertJSON(t, "result", string(resp.envelope(t).Result), `{"status":"`+tt.wantStatus+`"}`)
			reqs := h.portal.Requests()
			last := reqs[len(reqs)-1]
			if last.Method != "configuration.import.get" || last.ResultStatus != tt.wantStatus ||
				last.HTTPStatus != 200 || !last.Authorized || last.Fault {
				t.Errorf("request log: %+v", last)
			}
			gotParams, _ := json.Marshal(last.Params)
			wantParams, _ := json.Marshal(tt.wantParams)
			if string(gotParams) != string(wantParams) {
				t.Errorf("params %s, want %s", gotParams, wantParams)
			}
		})
	}
}

func TestReadParams_phpStyleForm(t *testing.T) {
	h := newHarness(t, Config{})
	form := "data[MANIFEST][CODE]=vertical_crm&data[MANIFEST][SKIP_CLEARING]=Y" +
		"&data[STRUCTURE][CRM_STATUS][]=crm%2Fstatus.json&data[STRUCTURE][REST_APPLICATION][]=app.json" +
		"&data[STRUCTURE][files]=files.json&data[FILES][0][ID]=1&data[FILES][1][ID]=2&option[x]=1"
	resp := h.post(h.portal.WebhookPath()+"configuration.import.register", "application/x-www-form-urlencoded", form)
	var res struct{ ProcessID int64 }
	if err := json.Unmarshal(resp.envelope(t).Result, &res); err != nil || res.ProcessID == 0 {
		t.Fatalf("register: %s", resp.body)
	}
	info, _ := h.portal.Process(res.ProcessID)
	// 2 sections (files is not a section), 2 files, skip clearing: 1+1+1+1+(2+2)+1+1.
	if info.PlannedRuns != 10 || info.ManifestCode != "vertical_crm" || !info.SkipClearing || info.Files != 2 ||
		strings.Join(info.Sections, ",") != "CRM_STATUS,REST_APPLICATION" {
		t.Errorf("info %+v, want 10 planned runs", info)
	}
	h.portal.Advance(res.ProcessID, 1)
	assertJSON(t, "get", h.importGet(res.ProcessID),
		`{"status":"P","progress":{"action":"init_background","step":0,"section":"CRM_STATUS"}}`)

	reqs := h.portal.Requests()
	got, _ := json.Marshal(reqs[0].Params)
	want := `{"data":{"FILES":[{"ID":"1"},{"ID":"2"}],"MANIFEST":{"CODE":"vertical_crm","SKIP_CLEARING":"Y"},` +
		`"STRUCTURE":{"CRM_STATUS":["crm/status.json"],"REST_APPLICATION":["app.json"],"files":"files.json"}},"option":{"x":"1"}}`
	if string(got) != want {
		t.Errorf("params\n got %s\nwant %s", got, want)
	}
}

func TestParsePHPQuery_values(t *testing.T) {
	tests := []struct{ query, want string }{
		{"a=1&b=2", `{"a":"1","b":"2"}`},
		{"a[]=x&a[]=y", `{"a":["x","y"]}`},
		{"a[5]=x&a[]=y", `{"a":{"5":"x","6":"y"}}`},
		{"a[b][c]=1&a[b][d]=2", `{"a":{"b":{"c":"1","d":"2"}}}`},
		{"a.b=1&c d=2", `{"a_b":"1","c_d":"2"}`},
		{"a[b=1", `{"a_b":"1"}`},
		{"a[b]x=1", `{"a":{"b":"1"}}`},
		{"[x]=1&=2&b", `{"b":""}`},
		{"a=1&a=2", `{"a":"2"}`},
		{"a=1&a[x]=2", `{"a":{"x":"2"}}`},
		{"q=%E2%9C%93+x&bad=%zz", `{"bad":"%zz","q":"✓ x"}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(plainParams(parsePHPQuery(tt.query)))
		if string(got) != tt.want {
			t.Errorf("%q: got %s, want %s", tt.query, got, tt.want)
		}
	}
}

func TestPHPInt_values(t *testing.T) {
	tests := []struct {
		in   any
		want int64
	}{
		{nil, 0}, {"", 0}, {"abc", 0}, {"12", 12}, {" 12", 12}, {"12abc", 12}, {"-3", -3},
		{"12.9", 12}, {"1e3", 1000}, {"1e", 1}, {".5", 0}, {"12.", 12}, {"+7", 7}, {"-", 0},
		{"99999999999999999999", 9223372036854775807}, {true, 1}, {false, 0},
		{json.Number("42"), 42}, {json.Number("4.2e1"), 42}, {float64(7.9), 7},
		{newPHPArray(), 0}, {obj("0", "x"), 1},
	}
	for _, tt := range tests {
		if got := phpInt(tt.in); got != tt.want {
			t.Errorf("phpInt(%#v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestPHPEncoding_values(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{newPHPArray(), `[]`},
		{obj("0", "a", "1", "b"), `["a","b"]`},
		{obj("1", "a", "3", "b"), `{"1":"a","3":"b"}`},
		{obj("1", "a", "0", "b"), `{"1":"a","0":"b"}`},
		{obj("z", 1, "a", 2), `{"z":1,"a":2}`},
		{phpFloat(1), `1.0`},
		{phpFloat(0.25), `0.25`},
		{phpFloat(1629303000.9341), `1629303000.9341`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("%#v: got %s (%v), want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestPHPEscape_values(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Messages: []ScriptedMessage{{AtRun: 1, Type: "notice", Message: "Сделка/Deal 😀 <b>"}}})
	h.portal.RunAgent()
	resp := h.get(h.portal.WebhookPath() + "configuration.import.get?processId=" + strconv.FormatInt(id, 10))
	want := `"message":"\u0421\u0434\u0435\u043b\u043a\u0430\/Deal \ud83d\ude00 \u003cb\u003e"`
	if !strings.Contains(string(resp.body), want) {
		t.Errorf("body %s\nwant it to contain %s", resp.body, want)
	}
	var decoded struct {
		Result struct{ Notice []struct{ Message string } }
	}
	if err := json.Unmarshal(resp.body, &decoded); err != nil || decoded.Result.Notice[0].Message != "Сделка/Deal 😀 <b>" {
		t.Errorf("decoded %+v, %v", decoded, err)
	}
}

func TestServeHTTP_batch(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.portal.CreateProcess(Script{Sections: []string{"A"}})
	ids := strconv.FormatInt(id, 10)

	t.Run("object of commands", func(t *testing.T) {
		resp := h.postJSON("batch", map[string]any{"halt": 0, "cmd": map[string]any{
			"a": "configuration.import.get?processId=" + ids,
			"b": "no.such.method",
			"c": "batch?cmd[x]=server.time",
		}})
		var res struct {
			Result      map[string]json.RawMessage
			ResultError map[string]json.RawMessage `json:"result_error"`
			ResultTotal json.RawMessage            `json:"result_total"`
			ResultNext  json.RawMessage            `json:"result_next"`
			ResultTime  map[string]json.RawMessage `json:"result_time"`
		}
		env := resp.envelope(t)
		if resp.status != 200 {
			t.Fatalf("HTTP %d", resp.status)
		}
		if err := json.Unmarshal(env.Result, &res); err != nil {
			t.Fatalf("%v: %s", err, env.Result)
		}
		assertJSON(t, "a", string(res.Result["a"]), `{"status":"S"}`)
		assertJSON(t, "b", string(res.ResultError["b"]), `{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}`)
		assertJSON(t, "c", string(res.ResultError["c"]), `{"error":"ERROR_BATCH_METHOD_NOT_ALLOWED","error_description":"Method is not allowed for batch usage"}`)
		assertJSON(t, "total", string(res.ResultTotal), `[]`)
		assertJSON(t, "next", string(res.ResultNext), `[]`)
		if len(res.ResultTime) != 1 || len(res.ResultTime["a"]) == 0 {
			t.Errorf("result_time: %v", res.ResultTime)
		}
	})

	t.Run("list of commands and empty parts", func(t *testing.T) {
		resp := h.postJSON("batch", map[string]any{"cmd": []string{
			"server.time", "configuration.import.get?processId=" + ids,
		}})
		var res map[string]json.RawMessage
		_ = json.Unmarshal(resp.envelope(t).Result, &res)
		assertJSON(t, "result", string(res["result"]), `["2021-08-18T18:10:00+02:00",{"status":"S"}]`)
		assertJSON(t, "result_error", string(res["result_error"]), `[]`)
	})

	t.Run("halt stops at the first error", func(t *testing.T) {
		resp := h.postJSON("batch", map[string]any{"halt": 1, "cmd": []string{"server.time", "nope", "server.time"}})
		var res map[string]json.RawMessage
		_ = json.Unmarshal(resp.envelope(t).Result, &res)
		assertJSON(t, "result", string(res["result"]), `["2021-08-18T18:10:00+02:00"]`)
		assertJSON(t, "result_error", string(res["result_error"]), `{"1":{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}}`)
	})

	t.Run("more than 50 commands", func(t *testing.T) {
		cmd := make([]string, 52)
		for i := range cmd {
			cmd[i] = "server.time"
		}
		resp := h.postJSON("batch", map[string]any{"cmd": cmd})
		var res struct {
			Result      []json.RawMessage
			ResultError map[string]struct{ Error string } `json:"result_error"`
		}
		_ = json.Unmarshal(resp.envelope(t).Result, &res)
		if len(res.Result) != 50 || len(res.ResultError) != 2 || res.ResultError["51"].Error != "ERROR_BATCH_LENGTH_EXCEEDED" {
			t.Errorf("got %d results, errors %v", len(res.Result), res.ResultError)
		}
	})
}

func TestInjectFault_answers(t *testing.T) {
	h := newHarness(t, Config{})
	getPath := h.portal.WebhookPath() + "configuration.import.get?processId=1"

	t.Run("gateway HTML twice, then normal", func(t *testing.T) {
		h.portal.InjectFault("configuration.import.get", Fault{HTTPStatus: 502, ContentType: "text/html", Body: GatewayHTML(502).Body, Count: 2})
		for i := 0; i < 2; i++ {
			resp := h.get(getPath)
			if resp.status != 502 || resp.contentType != "text/html" || !strings.Contains(string(resp.body), "<title>502 Bad Gateway</title>") {
				t.Errorf("call %d: HTTP %d %q %s", i, resp.status, resp.contentType, resp.body)
			}
		}
		if resp := h.get(getPath); resp.status != 200 {
			t.Errorf("after the fault: HTTP %d", resp.status)
		}
		reqs := h.portal.Requests()
		if n := len(reqs); !reqs[n-3].Fault || !reqs[n-2].Fault || reqs[n-1].Fault || reqs[n-3].HTTPStatus != 502 || reqs[n-3].ResultStatus != "" {
			t.Errorf("request log: %+v", reqs[n-3:])
		}
	})

	t.Run("method names are normalised, other methods untouched", func(t *testing.T) {
		h.portal.InjectFault("Configuration.Import.Get.json", GatewayHTML(504))
		if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 200 {
			t.Errorf("server.time: HTTP %d", resp.status)
		}
		if resp := h.get(getPath); resp.status != 504 {
			t.Errorf("get: HTTP %d", resp.status)
		}
	})

	t.Run("any method", func(t *testing.T) {
		h.portal.InjectFault("", InternalServerError())
		resp := h.get(h.portal.WebhookPath() + "server.time")
		assertJSON(t, "body", string(resp.body), `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`)
		if resp.status != 500 || resp.contentType != jsonContentType {
			t.Errorf("HTTP %d %q", resp.status, resp.contentType)
		}
	})

	t.Run("named before any", func(t *testing.T) {
		h.portal.InjectFault("", QueryLimitExceeded())
		h.portal.InjectFault("server.time", OperationTimeLimit())
		if resp := h.get(h.portal.WebhookPath() + "server.time"); resp.status != 429 {
			t.Errorf("first: HTTP %d", resp.status)
		}
		resp := h.get(h.portal.WebhookPath() + "server.time")
		assertJSON(t, "second", string(resp.body), `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`)
		if resp.status != 503 {
			t.Errorf("second: HTTP %d", resp.status)
		}
	})

	t.Run("truncated JSON", func(t *testing.T) {
		h.portal.InjectFault("configuration.import.get", TruncatedJSON())
		resp := h.get(getPath)
		var v any
		if resp.status != 200 || json.Unmarshal(resp.body, &v) == nil {
			t.Errorf("HTTP %d, body decodes: %s", resp.status, resp.body)
		}
	})

	t.Run("error inside result", func(t *testing.T) {
		h.portal.InjectFault("configuration.import.register", ResultErrorFault("PROCESS_DID_NOT_CREATE", ""))
		raw := h.register(map[string]any{"MANIFEST": map[string]any{"CODE": "x"}})
		assertJSON(t, "result", raw, `{"error":"PROCESS_DID_NOT_CREATE"}`)
	})

	t.Run("answer lost after the call ran", func(t *testing.T) {
		f := GatewayHTML(504)
		f.AfterCall = true
		h.portal.InjectFault("configuration.import.register", f)
		before := len(h.portal.Requests())
		resp := h.postJSON("configuration.import.register", map[string]any{"data": map[string]any{"MANIFEST": map[string]any{"CODE": "x"}}})
		if resp.status != 504 {
			t.Fatalf("HTTP %d", resp.status)
		}
		// The process exists although the client never learnt its id.
		next := h.registerID(map[string]any{"MANIFEST": map[string]any{"CODE": "x"}})
		if _, ok := h.portal.Process(next - 1); !ok {
			t.Errorf("the faulted register created no process")
		}
		if reqs := h.portal.Requests(); !reqs[before].Fault || reqs[before].HTTPStatus != 504 {
			t.Errorf("request log: %+v", reqs[before])
		}
	})

	t.Run("faults come before authentication", func(t *testing.T) {
		h.portal.InjectFault("server.time", GatewayHTML(502))
		if resp := h.get("/rest/1/wrong/server.time"); resp.status != 502 {
			t.Errorf("HTTP %d", resp.status)
		}
		reqs := h.portal.Requests()
		if last := reqs[len(reqs)-1]; last.Authorized || !last.Fault {
			t.Errorf("request log: %+v", last)
		}
	})

	t.Run("hangup", func(t *testing.T) {
		h.portal.InjectFault("server.time", Hangup())
		// A fresh connection: Go's client silently retries a GET that failed
		// on a reused one.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if _, err := client.Get(h.server.URL + h.portal.WebhookPath() + "server.time"); err == nil {
			t.Errorf("expected a connection error")
		}
		reqs := h.portal.Requests()
		if last := reqs[len(reqs)-1]; !last.Fault || last.Method != "server.time" {
			t.Errorf("request log: %+v", last)
		}
	})

	t.Run("delay", func(t *testing.T) {
		f := ErrorFault(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
		f.Delay = 30 * time.Millisecond
		h.portal.InjectFault("server.time", f)
		started := time.Now()
		resp := h.get(h.portal.WebhookPath() + "server.time")
		if resp.status != 503 || time.Since(started) < 30*time.Millisecond {
			t.Errorf("HTTP %d after %v", resp.status, time.Since(started))
		}
	})

	t.Run("delay cut by the client", func(t *testing.T) {
		f := GatewayHTML(504)
		f.Delay = 5 * time.Second
		h.portal.InjectFault("server.time", f)
		client := *h.server.Client()
		client.Timeout = 50 * time.Millisecond
		started := time.Now()
		_, err := client.Get(h.server.URL + h.portal.WebhookPath() + "server.time")
		var urlErr *url.Error
		if !errors.As(err, &urlErr) || !urlErr.Timeout() {
			t.Errorf("expected a timeout, got %v", err)
		}
		if time.Since(started) > 2*time.Second {
			t.Errorf("took %v", time.Since(started))
		}
	})
}

func TestServeHTTP_requireHTTPS(t *testing.T) {
	p := New(Config{RequireHTTPS: true, AgentPeriod: -1})
	plainServer := httptest.NewServer(p)
	defer plainServer.Close()
	tlsServer := httptest.NewTLSServer(p)
	defer tlsServer.Close()

	resp, err := plainServer.Client().Get(plainServer.URL + p.WebhookPath() + "server.time")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("plain HTTP: %d", resp.StatusCode)
	}
	assertJSON(t, "plain HTTP", string(body), `{"error":"INVALID_REQUEST","error_description":"Https required"}`)

	resp, err = tlsServer.Client().Get(tlsServer.URL + p.WebhookPath() + "server.time")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTPS: %d", resp.StatusCode)
	}
}
