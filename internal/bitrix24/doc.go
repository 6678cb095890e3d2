// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package bitrix24 is a small client for the Bitrix24 REST API.
//
// It knows how to call a method through an incoming webhook (Auth is the seam
// for OAuth later), how to tell the portal's answers apart (a result, an error
// envelope, an error returned inside the result, or something that is not an
// envelope at all), what a failure means (classify, failure.go: the retry
// policy of retry.go acts on it) and how to read and wait for a
// configuration import.
//
// # Combining reads into batch requests
//
// A portal allows about 2 requests a second, shared with every other
// integration, so a client combines overlapping configuration.import.get
// reads (ConfigurationImportService.Get and the polls of Wait):
//
//   - A read that comes when the client is idle (nothing queued or in
//     flight, no answer in the last 5 ms) is sent at once, as a plain
//     configuration.import.get: a lone read costs one request and no delay.
//   - Other reads are gathered, and sent together once the requests in
//     flight are answered (at most 1 s) and no read has arrived for 5 ms (at
//     most 250 ms after the first): one batch request of at most 50
//     configuration.import.get commands (the portal's limit), or several.
//     Terraform starts its reads about a millisecond apart while a portal
//     on loopback answers in less, so without the quiet period most reads
//     would still go alone. 50 process ids waiting go out at once. Callers
//     of the same process id share one command, keyed "p<id>".
//   - Each caller gets its own status or error: result[key] is decoded as
//     Get decodes a plain answer (an error inside it is an *Error),
//     result_error[key] becomes an *Error with the portal's code and
//     description, and a key in neither was not run and goes into the next
//     request (a read left out three times fails). Empty parts arrive as []
//     and parts with keys 0..n-1 as lists; both are read.
//   - A command's error meets the retry policy of a plain request: a
//     transient one queues that read again after the backoff, counted as
//     a plain retry would be; OPERATION_TIME_LIMIT and codes the policy does
//     not know send the read alone, as a plain request, whose answer
//     decides.
//   - The batch is sent as a plain request is, so the rate limit and the
//     retry policy apply to it as to any read; when it fails for good, every
//     caller in it gets that error.
//   - A caller's context governs only its own wait: when it ends, that
//     caller gets its error at once and the request goes on for the others.
//     The request runs on a context detached from the callers that ends at
//     the latest of their deadlines, and is cancelled when no caller is
//     left.
//   - Waits that poll at the same interval share poll rounds, one interval
//     apart from the first poll of the first of them: after its first poll,
//     a wait polls at the last round no later than its own interval would
//     have it poll (so a wait that joins later polls once more, sooner, to
//     fall into step). Every wait books the round it sleeps until, and the
//     round's reads are sent once all who booked it have sent theirs (a
//     stalled one is not waited for beyond 100 ms), so N waits cost
//     ceil(N/50) requests a round. Polls that a wait's rhythm moved come at
//     whole seconds and book that second the same way, so waits in step
//     with one agent (imports on a cron-driven portal) still share a
//     request.
//
// Config.PlainReads turns all this off, for a proxy that refuses batch.
//
// # Waiting for an import
//
// Wait polls until the import is F, E or U. The first poll comes at once,
// then one per PollInterval, counted from the start of the previous poll,
// until the wait sees the import change (ImportStatus.ChangedFrom). From
// then on it polls in step with the portal's agent, whose next run falls
// due a minute after the previous one ended (wait_rhythm.go). On a quiet
// portal, where requests start due runs, a poll by which a run fell due
// starts it, and the poll a run and a minute later sees that run and starts
// the next: one request a run (wait_rhythm_trigger.go; runs are taken to
// show within 3 s until one is seen to take longer). Short follow-ups (2 to
// 20 s) look for a run that ends the import (P with action false, or a
// recorded exception) and for an awaited run that did not show, and so
// learn how long runs take. On a busy portal the polls come a minute after
// each change; on a cron-driven one just after the minute, skipping ticks
// when changes come minutes apart. The poll before the first change can
// have started its run (wait_rhythm_ahead.go): when it came a minute or
// more after one that saw the same status, a run was due by it, so it did
// on a quiet portal, and one follow-up a run and a minute after it starts
// the next; otherwise two, 5 and 10 s past a minute after it, start the
// next run and see it. Either way the wait keeps step from the first
// change; where something else starts the runs, they find nothing or a
// change nobody awaited, which says so. Changes faster than the agent
// makes them (a test's emulator), or more follow-ups than a rhythm needs,
// keep the plain interval. When ctx has a deadline, the poll that would
// come after it comes just before it instead.
//
// Each poll is a read with its retries (retry.go). Every attempt has a
// timeout for the step it is in: 30 s to connect, 10 s for the TLS
// handshake, Config.RequestTimeout (70 s, above the portal's own cut at
// 60 s) for the answer. Until the portal has answered this client, such a
// timeout is retried once only: a portal that never answered fails a read,
// and a wait, after two timeouts and a backoff (61 s at most when the
// connection gets no reply, 141 s when it is accepted and nothing comes),
// naming what got no reply. Once it has answered, a timeout is a fault like
// a gateway's page, retried MaxRetries times. After a fault or the rate
// limit, and after a connection problem or a timeout once the portal has
// answered, the wait reports the failure through OnPollError and polls on
// schedule; any other failure ends it. A read whose deadline passes
// mid-request ends with a *ReadTimeoutError that says what the request was
// waiting for and what the try before it met.
//
// One clock, Config.Clock, times the wait, the backoffs, the rate limit,
// the batcher and each attempt's timeouts; tests and the bench give it a
// fake one (package fakeclock).
//
// The package has no Terraform dependency: the provider adapts Logger to tflog
// and turns errors into diagnostics.
//
// Secrets: a webhook URL carries its whole credential. Every URL, every
// error text this package produces and every text of an import status goes
// through Auth.Redact first, which hides the code and any start of it six
// characters or longer (SecretPattern).
package bitrix24
