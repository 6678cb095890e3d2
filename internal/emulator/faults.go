// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// This file holds the faults a test injects: answers a gateway in front of
// the portal, or a broken portal, gives instead of (or on top of) the
// method's own.

// Fault is an answer given instead of the method's, or a change made to
// the method's own answer. It stands for a gateway in front of the portal,
// or for a portal misconfigured around the REST code: unless AfterCall or
// PassThrough lets the call through, the portal never sees the call (the
// method does not run and the rate limit does not count it).
type Fault struct {
	HTTPStatus  int    // 0 -> 200
	ContentType string // "" -> application/json; charset=utf-8
	Body        string
	Count       int // how many calls get it; 0 -> 1
	// For makes it answer every call, for this long from the first call
	// it answers (on the portal's clock), instead of Count calls: a
	// portal whose budget another integration holds for a minute.
	For time.Duration

	AfterCall bool // run the method first, then answer with the fault: the answer is lost
	// PassThrough runs the method and sends its own answer, changed only by
	// Prefix, Header, Delay and Hangup; HTTPStatus, ContentType and Body are
	// not used.
	PassThrough bool
	Prefix      string        // written before the body, e.g. a byte-order mark
	Header      http.Header   // added to the answer's headers, e.g. Location
	Delay       time.Duration // wait this long before answering (or hanging up); cut short when the client goes away
	Hangup      bool          // close the connection without an answer

	// render, when set, makes the body at answer time from the portal's
	// clock, for answers that carry a time block.
	render func(now time.Time) string
}

// faultQueue holds the faults a test injected, in the order they answer;
// its lock is taken inside the portal's.
type faultQueue struct {
	mu            sync.Mutex
	faults        []queuedFault
	commandFaults []queuedCommandFault
}

type queuedFault struct {
	method string
	fault  Fault
	left   int
	until  time.Time // with Fault.For: set by the first call it answers
}

// InjectFault makes the next f.Count calls of method (lower-case, without
// .json; "" for any method) get f. Faults queue up in order; one for a
// named method goes before one for any method.
func (q *faultQueue) InjectFault(method string, f Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	count := f.Count
	if count <= 0 {
		count = 1
	}
	q.faults = append(q.faults, queuedFault{method: normalizeMethod(method), fault: f, left: count})
}

// takeFault consumes one use of the first fault matching method, at now
// on the portal's clock.
func (q *faultQueue) takeFault(method string, now time.Time) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = slices.DeleteFunc(q.faults, func(f queuedFault) bool {
		return !f.until.IsZero() && !now.Before(f.until)
	})
	for _, wanted := range []string{method, ""} {
		for i := range q.faults {
			queued := &q.faults[i]
			if queued.method != wanted {
				continue
			}
			f := queued.fault
			if f.For > 0 {
				if queued.until.IsZero() {
					queued.until = now.Add(f.For)
				}
				return f, true
			}
			queued.left--
			if queued.left == 0 {
				q.faults = append(q.faults[:i], q.faults[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

// reachesPortal says whether the call gets past the gateway to the portal.
func (f Fault) reachesPortal() bool { return f.AfterCall || f.PassThrough }

// apply makes what the client gets from the portal's answer (the zero
// answer when the call never reached the portal).
func (f Fault) apply(portal answer, now time.Time) answer {
	a := portal
	if !f.PassThrough {
		a = answer{status: f.HTTPStatus, contentType: f.ContentType, body: []byte(f.Body)}
		if f.render != nil {
			a.body = []byte(f.render(now))
		}
		if a.status == 0 {
			a.status = http.StatusOK
		}
		if a.contentType == "" {
			a.contentType = jsonContentType
		}
	}
	if f.Prefix != "" {
		a.body = append([]byte(f.Prefix), a.body...)
	}
	a.header, a.delay, a.hangup = f.Header, f.Delay, f.Hangup
	return a
}

// GatewayHTML is the HTML page an nginx in front of the portal answers with,
// e.g. 502 or 504; it is nginx's built-in page for any status.
func GatewayHTML(status int) Fault {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return Fault{
		HTTPStatus:  status,
		ContentType: "text/html",
		Body: "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
			"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
	}
}

// TruncatedJSON is a 200 answer cut off mid-body.
func TruncatedJSON() Fault {
	return Fault{HTTPStatus: http.StatusOK, Body: `{"result":{"status":"P","progress":{"action":"lo`}
}

// ErrorFault is the portal's error envelope {"error", "error_description"}
// with an HTTP status.
func ErrorFault(httpStatus int, code, description string) Fault {
	return Fault{HTTPStatus: httpStatus, Body: mustJSON(obj("error", code, "error_description", description))}
}

// ResultErrorFault is an error a method returns inside `result` with HTTP
// 200, e.g. ResultErrorFault("PROCESS_DID_NOT_CREATE", "") for a register
// that failed to store its process (that error has no description).
func ResultErrorFault(code, description string) Fault {
	res := obj("error", code)
	if description != "" {
		res.set("error_description", description)
	}
	now := time.Now()
	t := timeBlock(now, now, now)
	return Fault{HTTPStatus: http.StatusOK, Body: mustJSON(obj("result", res, "time", t))}
}

// QueryLimitExceeded is the leaky bucket's refusal (the call never ran),
// for a test that wants it now rather than after Config.RateLimit's burst.
func QueryLimitExceeded() Fault {
	return ErrorFault(errQueryLimit.status, errQueryLimit.code, errQueryLimit.description)
}

// OperationTimeLimit is the per-method time limit refusal, without the
// time block a cloud portal adds (see OperationTimeLimitUntil).
func OperationTimeLimit() Fault {
	return ErrorFault(http.StatusTooManyRequests, "OPERATION_TIME_LIMIT", operationTimeLimitText)
}

const operationTimeLimitText = "Method is blocked due to operation time limit."

// OperationTimeLimitUntil is the cloud portal's per-method time limit
// refusal: HTTP 429 with the time block of a success, whose
// operating_reset_at (unix seconds) says when the method is open again.
// The block is stamped on the portal's clock when the fault answers: the
// fault's Body is only a sample of it, and setting Body changes nothing.
func OperationTimeLimitUntil(resetAt time.Time) Fault {
	return operationTimeLimitAt(func(time.Time) time.Time { return resetAt })
}

// OperationTimeLimitFor is OperationTimeLimitUntil with the method open
// again d after each answer, for faults injected long before they answer.
func OperationTimeLimitFor(d time.Duration) Fault {
	return operationTimeLimitAt(func(now time.Time) time.Time { return now.Add(d) })
}

func operationTimeLimitAt(resetAt func(now time.Time) time.Time) Fault {
	render := func(now time.Time) string {
		t := timeBlock(now, now, now)
		t.set("operating_reset_at", resetAt(now).Unix())
		// A blocked method has used up its limit.
		t.set("operating", phpFloat(operatingLimit.Seconds()))
		return mustJSON(obj("error", "OPERATION_TIME_LIMIT", "error_description", operationTimeLimitText, "time", t))
	}
	// Body is a sample for a reader; render makes the one sent.
	return Fault{HTTPStatus: http.StatusTooManyRequests, Body: render(time.Now()), render: render}
}

// InternalServerError is the portal's generic 500.
func InternalServerError() Fault {
	return ErrorFault(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error")
}

// Hangup drops the connection without an answer.
func Hangup() Fault { return Fault{Hangup: true} }

// Redirect is the 302 of a portal that moved, pointing at location. Go's
// http.Client follows it by itself, turning a POST into a body-less GET.
func Redirect(location string) Fault {
	f := GatewayHTML(http.StatusFound)
	f.Header = http.Header{"Location": {location}}
	return f
}

// WAFRateLimitHTML is the HTML 429 page of a web application firewall in
// front of the portal that throttles a client: not the portal's JSON.
func WAFRateLimitHTML() Fault {
	return Fault{HTTPStatus: http.StatusTooManyRequests, ContentType: "text/html; charset=utf-8", Body: wafRateLimitPage}
}

const wafRateLimitPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>429 Too Many Requests</title></head>
<body>
<h1>Too Many Requests</h1>
<p>The web application firewall has temporarily blocked your requests because too many arrived in a short time.</p>
<p>Wait a minute before you try again.</p>
<hr><p>Request ID: 5f0c2a9e1b7d4c36</p>
</body>
</html>
`

// utf8BOM is the byte-order mark a PHP file saved "with BOM" prints before
// any output.
const utf8BOM = "\uFEFF"

// BOM runs the method and sends its real answer behind a UTF-8 byte-order
// mark (EF BB BF), as a portal answers when one of its PHP files was saved
// with one.
func BOM() Fault { return Fault{PassThrough: true, Prefix: utf8BOM} }

// EmptyBody is HTTP 200 with nothing in it, as PHP sends when the script
// dies of a fatal error with errors hidden; the content type is PHP's
// default, since the REST code never got to set its own.
func EmptyBody() Fault {
	return Fault{HTTPStatus: http.StatusOK, ContentType: "text/html; charset=UTF-8"}
}

// Slow runs the method and sends its real answer d later, so a client with
// a shorter timeout gives up although the method's effects happened. The
// wait ends when the client goes away.
func Slow(d time.Duration) Fault { return Fault{PassThrough: true, Delay: d} }

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
