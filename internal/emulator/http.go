// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// isoLayout is PHP's date('c'): ISO-8601 with a numeric offset, never "Z".
const isoLayout = "2006-01-02T15:04:05-07:00"

const jsonContentType = "application/json; charset=utf-8"

// maxBatchCommands is how many commands one batch call runs.
const maxBatchCommands = 50

// apiError is an error the portal raises (not one a method returns inside
// `result`).
type apiError struct {
	status      int
	code        string
	description string
}

var (
	errInvalidCredentials = &apiError{http.StatusUnauthorized, "INVALID_CREDENTIALS", "Invalid request credentials"}
	errNoAuth             = &apiError{http.StatusUnauthorized, "NO_AUTH_FOUND", "Wrong authorization data"}
	errMethodNotFound     = &apiError{http.StatusNotFound, "ERROR_METHOD_NOT_FOUND", "Method not found!"}
	errBatchNotAllowed    = &apiError{http.StatusMethodNotAllowed, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"}
	errBatchTooLong       = &apiError{http.StatusBadRequest, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded"}
	errHTTPSRequired      = &apiError{http.StatusBadRequest, "INVALID_REQUEST", "Https required"}
	errQueryLimit         = &apiError{http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED", "Too many requests"}
	// errInsufficientScope is a call of a method whose scope the webhook
	// lacks. Older documentation gives it HTTP 403; inside a batch its
	// description is empty (see batchLocked).
	errInsufficientScope = &apiError{http.StatusUnauthorized, "insufficient_scope", "The request requires higher privileges than provided by the webhook token"}
)

// methodScopes are the scopes of the methods that need one; batch,
// server.time and scope need none.
var methodScopes = map[string]string{
	"configuration.import.register":   importScope,
	"configuration.import.unregister": importScope,
	"configuration.import.get":        importScope,
}

// route is what the URL says about a call.
type route struct {
	webhook bool // /rest/<user>/<code>/<method>; otherwise /rest/<method> (OAuth)
	userID  string
	code    string
	method  string // lower-case, without .json
}

func parseRoute(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/rest/")
	if !ok {
		return route{}, false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) == 3 {
		return route{webhook: true, userID: parts[0], code: parts[1], method: normalizeMethod(parts[2])}, true
	}
	return route{method: normalizeMethod(rest)}, true
}

// normalizeMethod makes a method name comparable: names are
// case-insensitive and the .json transport suffix is optional.
func normalizeMethod(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".json")
}

// answer is one HTTP response, prepared under the lock and written after.
type answer struct {
	status      int
	contentType string
	header      http.Header // extra headers
	body        []byte
	delay       time.Duration
	hangup      bool
}

// ServeHTTP answers one REST call.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := p.now()
	rt, isREST := parseRoute(r.URL.Path)
	params := readParams(r)
	var ans answer
	if isREST {
		ans = p.handle(rt, params, start, r.TLS != nil)
	} else {
		ans = answer{
			status:      http.StatusNotFound,
			contentType: "text/html; charset=utf-8",
			body:        []byte("<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"),
		}
		p.logRequest(Request{At: start, Params: plainParams(params), HTTPStatus: ans.status})
	}
	if ans.delay > 0 {
		timer := time.NewTimer(ans.delay)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return
		}
	}
	if ans.hangup {
		hangUp(w)
		return
	}
	for key, values := range ans.header {
		for _, v := range values {
			w.Header().Add(key, v) // copies: the fault's map serves every call it answers
		}
	}
	w.Header().Set("Content-Type", ans.contentType)
	w.WriteHeader(ans.status)
	_, _ = w.Write(ans.body)
}

// hangUp closes the connection without an answer, as a dying gateway does.
// Where the connection cannot be taken over (HTTP/2, a recorder), it aborts
// the handler, which net/http turns into a reset.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// handle applies an injected fault, or lets the portal answer, and logs
// the request. A fault comes first: it stands for what sits in front of the
// portal. The imports stay locked for the whole call, so that a batch sees
// them in one state.
func (p *Portal) handle(rt route, params *phpArray, start time.Time, overTLS bool) answer {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.imports.mu.Lock()
	defer p.imports.mu.Unlock()
	hook, authErr := p.authorizeLocked(rt)
	if p.httpsOnly && !overTLS {
		authErr = errHTTPSRequired
	}
	fault, faulted := p.takeFault(rt.method, p.now())
	if !faulted {
		fault, faulted = p.takeCommandFault(rt.method, processIDOf(params), false)
	}
	req := Request{At: start, Method: rt.method, Params: plainParams(params), Authorized: authErr == nil, Fault: faulted}

	var ans answer
	if !faulted || fault.reachesPortal() {
		ans = p.portalAnswerLocked(rt.method, params, start, hook, authErr, &req)
	}
	if faulted {
		ans = fault.apply(ans, p.now())
		if !fault.PassThrough {
			req.ResultStatus = "" // the client never saw the method's answer
		}
	}
	req.HTTPStatus = ans.status
	if ans.hangup {
		req.HTTPStatus = 0 // nothing was answered
	}
	p.logRequest(req)
	return ans
}

// portalAnswerLocked is the portal's own answer to a call: the rate
// limit's refusal, an authentication error, or whatever the method gives.
// It notes in req what happened. The rate limit comes first: the portal
// counts every request it gets, a batch as one.
func (p *Portal) portalAnswerLocked(method string, params *phpArray, start time.Time, hook *webhook, authErr *apiError, req *Request) answer {
	defer p.hitLocked() // due agent runs start after the answer
	if !p.bucket.admit(time.Now()) {
		req.RateLimited = true
		return errorAnswer(errQueryLimit)
	}
	if authErr != nil {
		return errorAnswer(authErr)
	}
	callStart := p.now()
	p.commandFaultsServed = 0
	result, resultStatus, err := p.callLocked(method, params, hook)
	req.CommandFaults = p.commandFaultsServed
	if err != nil {
		return errorAnswer(err)
	}
	req.Ran = true
	req.ResultStatus = resultStatus
	return p.successAnswerLocked(method, result, start, callStart)
}

// authorizeLocked finds the webhook a call came with.
func (p *Portal) authorizeLocked(rt route) (*webhook, *apiError) {
	if !rt.webhook {
		return nil, errNoAuth // OAuth applications are not emulated
	}
	hook, ok := p.webhooks[rt.code]
	if !ok || hook.userID != rt.userID || hook.expired {
		return nil, errInvalidCredentials
	}
	return hook, nil
}

func errorAnswer(e *apiError) answer {
	body, _ := json.Marshal(obj("error", e.code, "error_description", e.description))
	return answer{status: e.status, contentType: jsonContentType, body: phpEscape(body)}
}

func (p *Portal) successAnswerLocked(method string, result any, start, callStart time.Time) answer {
	finish := p.now()
	body, err := json.Marshal(obj("result", result, "time", p.timeLocked(method, start, callStart, finish)))
	if err != nil {
		return errorAnswer(&apiError{http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error"})
	}
	return answer{status: http.StatusOK, contentType: jsonContentType, body: phpEscape(body)}
}

// timeLocked builds the `time` block; a cloud portal adds the method's
// summed execution time over the current window and when that window ends.
func (p *Portal) timeLocked(method string, start, callStart, finish time.Time) *phpArray {
	t := timeBlock(start, callStart, finish)
	if p.cloud {
		op := p.operating[method]
		if op == nil || !finish.Before(op.resetAt) {
			op = &operatingTime{resetAt: start.Add(operatingWindow)}
			p.operating[method] = op
		}
		op.seconds += finish.Sub(callStart).Seconds()
		t.set("operating_reset_at", op.resetAt.Unix())
		t.set("operating", phpFloat(op.seconds))
	}
	return t
}

// timeBlock is the `time` block of every portal, without the cloud's
// operating fields.
func timeBlock(start, callStart, finish time.Time) *phpArray {
	return obj(
		"start", unixSeconds(start),
		"finish", unixSeconds(finish),
		"duration", phpFloat(finish.Sub(start).Seconds()),
		"processing", phpFloat(finish.Sub(callStart).Seconds()),
		"date_start", start.Format(isoLayout),
		"date_finish", finish.Format(isoLayout),
	)
}

func unixSeconds(t time.Time) phpFloat {
	return phpFloat(float64(t.UnixMicro()) / 1e6)
}

// callLocked runs a method for a webhook. resultStatus is the status letter
// of a configuration.import.get answer, else "".
func (p *Portal) callLocked(method string, params *phpArray, hook *webhook) (result any, resultStatus string, err *apiError) {
	if scope, ok := methodScopes[method]; ok && !hook.hasScope(scope) {
		return nil, "", errInsufficientScope
	}
	switch method {
	case "configuration.import.register":
		return p.importRegisterLocked(params), "", nil
	case "configuration.import.unregister":
		return p.importUnregisterLocked(params), "", nil
	case "configuration.import.get":
		res := p.importGetLocked(params)
		status, _ := res.get("status").(string)
		return res, status, nil
	case "batch":
		return p.batchLocked(params, hook), "", nil
	case "server.time":
		return p.now().Format(isoLayout), "", nil
	case "scope":
		scopes := newPHPArray()
		for _, s := range hook.scopes {
			scopes.push(s)
		}
		return scopes, "", nil
	default:
		return nil, "", errMethodNotFound
	}
}

// importRegisterLocked is configuration.import.register(data, option). data
// may be an object or a JSON string. Errors come back inside `result`.
func (p *Portal) importRegisterLocked(params *phpArray) *phpArray {
	dataValue := params.get("data")
	if s, ok := dataValue.(string); ok {
		dataValue = decodeJSONOrdered([]byte(s))
	}
	data, _ := dataValue.(*phpArray)
	manifest := data.child("MANIFEST")
	codeValue := manifest.get("CODE")
	code, _ := codeValue.(string)
	if !p.manifestAvailable(code) {
		return obj("error", "ERROR_MANIFEST_IS_NOT_AVAILABLE", "error_description", "Manifest is not available.")
	}
	skip := manifest.get("SKIP_CLEARING")
	var sections []string
	if structure := data.child("STRUCTURE"); structure != nil {
		for _, key := range structure.keys {
			// "files" and "small_files" point at file lists, not entity sections.
			if key != "files" && key != "small_files" {
				sections = append(sections, key)
			}
		}
	}
	pr := p.registerLocked(code, sections, data.child("FILES").len(), skip == "Y")
	return obj("processId", pr.id)
}

func (p *Portal) manifestAvailable(code string) bool {
	if phpEmpty(code) {
		return false
	}
	return p.manifests == nil || p.manifests[code]
}

// importUnregisterLocked is configuration.import.unregister(processId). It
// only takes the process off the agent: its status stays readable, frozen.
// The portal unregisters a process itself when it reaches F or E, so
// unregistering one then answers PROCESS_NOT_FOUND.
func (p *Portal) importUnregisterLocked(params *phpArray) *phpArray {
	idValue := params.get("processId")
	pr := p.lookupLocked(phpInt(idValue))
	if pr == nil || !pr.registered {
		return obj("error", "PROCESS_NOT_FOUND", "error_description", "Process doesn't found.")
	}
	pr.registered = false
	return obj("success", "Y")
}

// importGetLocked is configuration.import.get(processId); it never fails:
// an unknown, purged or non-numeric id reads as status U.
func (p *Portal) importGetLocked(params *phpArray) *phpArray {
	idValue := params.get("processId")
	pr := p.lookupLocked(phpInt(idValue))
	if pr == nil {
		return obj("status", statusUnknown)
	}
	return pr.getResult()
}

// batchLocked is batch(halt, cmd): every command "method?query" runs in
// order; errors go to result_error; with halt the first error stops it.
// Empty parts are [] as on the portal.
func (p *Portal) batchLocked(params *phpArray, hook *webhook) *phpArray {
	haltValue := params.get("halt")
	halt := phpInt(haltValue) != 0
	results, errs, times := newPHPArray(), newPHPArray(), newPHPArray()
	cmds := params.child("cmd")
	for i, key := range cmds.keys {
		var result any
		var callErr *apiError
		var faultErr *phpArray // an injected command fault's error
		line, _ := cmds.vals[key].(string)
		methodPart, query, _ := strings.Cut(line, "?")
		method := normalizeMethod(methodPart)
		start := p.now()
		switch {
		case i >= maxBatchCommands:
			callErr = errBatchTooLong
		case method == "batch":
			callErr = errBatchNotAllowed
		default:
			cmdParams := parsePHPQuery(query)
			if f, ok := p.takeCommandFault(method, processIDOf(cmdParams), true); ok {
				p.commandFaultsServed++
				faultErr = f.commandError()
				break
			}
			result, _, callErr = p.callLocked(method, cmdParams, hook)
		}
		if callErr == errInsufficientScope {
			// The rest module's batch passes this one on without its text.
			faultErr = obj("error", callErr.code, "error_description", "")
		}
		if callErr != nil || faultErr != nil {
			if faultErr == nil {
				faultErr = obj("error", callErr.code, "error_description", callErr.description)
			}
			errs.set(key, faultErr)
			if halt {
				break
			}
			continue
		}
		results.set(key, result)
		times.set(key, p.timeLocked(method, start, start, p.now()))
	}
	return obj(
		"result", results,
		"result_error", errs,
		"result_total", newPHPArray(),
		"result_next", newPHPArray(),
		"result_time", times,
	)
}

// plainParams is the request log's view of the parameters.
func plainParams(params *phpArray) map[string]any {
	out := make(map[string]any, params.len())
	for _, k := range params.keys {
		out[k] = plain(params.vals[k])
	}
	return out
}
