// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package emulator is a Bitrix24 portal reduced to what the provider uses:
// incoming-webhook authentication, the REST envelopes, batch, and the
// configuration.import methods with the background agent that advances
// imports. It follows the portal's public REST documentation, and the
// source of its rest module where the documentation is silent. A Portal is
// an http.Handler: serve it with httptest in tests, or run the
// bitrix24-emulator command for a demo. Nothing runs in the background
// until Start; tests can instead drive the agent with RunAgent, Advance and
// RunToEnd.
//
// # Calls
//
// A call is /rest/<user>/<code>/<method>[.json]; method names are
// case-insensitive. Parameters come from the query, a POST form
// (urlencoded or multipart, with PHP's bracket keys such as
// data[MANIFEST][CODE]) and a JSON body, later sources replacing top-level
// keys of earlier ones; a body that is not a valid JSON object adds nothing.
// Every answer the portal itself makes (faults aside) is application/json;
// charset=utf-8:
//
//	{"result": ..., "time": {"start", "finish", "duration", "processing",
//	    "date_start", "date_finish"[, "operating_reset_at", "operating"]}}
//	{"error": "CODE", "error_description": "text"}
//
// with the operating fields only when Config.Cloud is set. Errors raised
// by the portal: a wrong user or code, or an expired webhook, is 401
// INVALID_CREDENTIALS; /rest/<method> (OAuth, not emulated) is 401
// NO_AUTH_FOUND; an unknown method is 404 ERROR_METHOD_NOT_FOUND (checked
// after authentication); with Config.RequireHTTPS a call without TLS is 400
// INVALID_REQUEST. Methods: configuration.import.register, .unregister and
// .get, batch, server.time and scope (the webhook's scopes).
//
// The configuration.import methods need the webhook's configuration.import
// scope (Config.Scopes; the configured webhook has it unless Scopes says
// otherwise). Without it they answer HTTP 401 {"error":
// "insufficient_scope", "error_description": "The request requires higher
// privileges than provided by the webhook token"}, and inside a batch the
// same code with an empty description; batch, server.time and scope need no
// scope.
//
// # Rate limit
//
// Config.RateLimit is the portal's leaky bucket, one per portal: a counter
// that grows by one for each request it admits and drains continuously at
// Rate per second. A request that would take it above Burst gets HTTP 503
// {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many
// requests"}: the method does not run and the counter does not grow.
// StandardRateLimit (2 per second, 50) and EnterpriseRateLimit (5, 250)
// are the plans' figures; the zero value is no limit. The bucket counts
// every request to /rest/, before authentication, and a batch once however
// many commands it holds. It runs on the real clock, not Config.Now, so a
// frozen test clock does not stop it from draining. Refusals are logged
// with Request.RateLimited; RateLimitedCount counts them.
//
// # Faults
//
// InjectFault queues a Fault for the next calls of a method. A fault stands
// for what sits in front of the portal or around its REST code, so it is
// taken before anything else: a fault that answers by itself (the default)
// means the portal never saw the call, so neither the rate limit nor the
// method counts it. AfterCall lets the call through, runs the portal (rate
// limit included) and then replaces its answer: the method's effects
// happen but the client never learns of them. PassThrough sends the
// portal's own answer, changed only by Prefix, Header, Delay and Hangup.
// The constructors:
//
//	GatewayHTML(502|504)         nginx's HTML error page
//	WAFRateLimitHTML()           a web application firewall's HTML 429 page
//	InternalServerError()        500 INTERNAL_SERVER_ERROR
//	QueryLimitExceeded()         503 QUERY_LIMIT_EXCEEDED now, whatever the bucket holds
//	OperationTimeLimit()         429 OPERATION_TIME_LIMIT, no time block
//	OperationTimeLimitUntil(t)   the same with a success's time block, operating_reset_at t
//	OperationTimeLimitFor(d)     the same, operating_reset_at d after each answer
//	ErrorFault, ResultErrorFault any error envelope, at the top or inside result
//	Redirect(url)                302 with Location, as a moved portal answers
//	TruncatedJSON()              200 with JSON cut short
//	EmptyBody()                  200 with no body, as PHP after a fatal error
//	Hangup()                     the connection closed without an answer
//	BOM()                        the real answer behind a UTF-8 byte-order mark
//	Slow(d)                      the real answer d late; the method has run
//
// A delay ends early, with nothing sent, when the client goes away.
// Fault{Hangup: true, AfterCall: true} is an answer lost after the method
// ran. Requests logs every request with Fault, Ran (the method ran),
// RateLimited and the HTTP status answered (0 after a hangup; an answer
// the client stopped waiting for is logged as if sent); Request.Outcome
// sorts them into answered, fault, rate-limited and dropped for counting.
//
// # HTTPS
//
// NewTLSCerts makes a CA and a server certificate it signed for 127.0.0.1,
// ::1 and localhost, as an on-premise portal with an internal CA has: a
// client trusts the server only when given TLSCerts.CAPEM. With
// Config.RequireHTTPS, calls without TLS get 400 INVALID_REQUEST.
//
// # Imports
//
// configuration.import.register returns {"processId": N}, or inside result
// ERROR_MANIFEST_IS_NOT_AVAILABLE when data.MANIFEST.CODE is missing, empty
// or not in Config.Manifests (RESTImportManifests lists the codes a portal
// accepts). Sections are the keys of data.STRUCTURE (in
// order, without "files" and "small_files"), files the entries of
// data.FILES. unregister takes a process off the agent: its status stays
// readable, frozen; the portal unregisters a process itself at F and E, so
// unregistering it then answers PROCESS_NOT_FOUND. get never fails: an id
// that is unknown, purged, missing or non-numeric (read as PHP's (int)
// cast does, so "12abc" is 12) gives {"status": "U"}. Data is purged
// Config.Retention after the process last changed (registration or its
// last run), as the portal's storage expires each value 3 days after it
// was written.
//
// The agent advances each registered process one step per run. The portal
// keeps a cursor (action, section, step) naming the step the NEXT run
// executes, and get reports that cursor as progress. A run executes the
// cursor's step and records that run's scripted messages, then: if it
// recorded an exception the status becomes E, the cursor stays (progress
// names the failed step) and the process leaves the agent; if the step was
// the last one the status becomes F; otherwise the status is P and the
// cursor moves on. Messages of type error do not stop anything. The steps,
// for S sections and F files:
//
//	start                             1 run
//	init_background  steps 0..k-1     k = ceil(F/200), at least 1
//	manifest                          1 run
//	clean            one per section  max(S,1) runs; 1 run with SKIP_CLEARING
//	load             per section i, steps 0..f(i): f(i)+1 runs, the F files
//	                 spread evenly, the first F mod S sections taking one more
//	                 (with no section, one slot takes them all)
//	finish                            1 run
//	(false)                           1 run, the one that marks F
//
// so ProcessInfo.PlannedRuns is 5 + 2S + F when S >= 1 and F <= 200. get
// reports section for every action but finish and false (the portal's own
// example is {"action": "manifest", "step": 0, "section":
// "REST_APPLICATION"}): the section the cursor points at, the first one
// outside clean and load. "start" is therefore never seen with P, only with
// E when the first run fails. Sections A and B with one file:
//
//	before run 1   S
//	after run 1    P  init_background  0  A
//	after run 2    P  manifest         0  A
//	after run 3    P  clean            0  A
//	after run 4    P  clean            0  B
//	after run 5    P  load             0  A
//	after run 6    P  load             1  A
//	after run 7    P  load             0  B
//	after run 8    P  finish           0
//	after run 9    P  false            0
//	after run 10   F  (additional and createItemList, [] when empty)
//
// A Failure (Config.FailRegistered for imports registered over HTTP,
// Script.FailAt for CreateProcess) scripts an exception for the run that
// executes a step named by a StepRef, such as load:CRM_STATUS:1: that run
// ends the import with E, progress naming the step, as an exception does.
//
// notice, errors and exception are the one combined message list filtered
// by type with the original indexes kept, as PHP does: a JSON list when the
// kept indexes are 0..n-1, otherwise an object such as {"1": {...}, "3":
// {...}}; a key is absent when it has no entries.
//
// Simplification: the real portal walks every entity section it knows, not
// only those in STRUCTURE, and loads the STRUCTURE paths of each; FILES only
// feed init_background. The counts above keep the documented approximation
// "5 + 2 x sections + files" instead.
//
// The background agent (Start) runs each registered process first one
// Config.AgentPeriod after registration, then one period after its previous
// run, like the portal's agent. It schedules on the real clock whatever
// Config.Now says; Config.Now is what answers report and what retention uses.
//
// Config.Agent replaces it with the portal's own agent models (see
// AgentModel): runs that take time, the next one due a minute after the
// previous one ended, started by requests (a quiet portal), by other
// visitors' traffic, or by cron ticks; all on Config.Now, so tests scale
// time down with their clock.
package emulator
