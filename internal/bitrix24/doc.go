// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package bitrix24 is a client for the Bitrix24 REST API without Terraform
// imports (the provider adapts Logger to tflog and errors to diagnostics).
// It calls methods through an incoming webhook (Auth is the seam for OAuth),
// tells the portal's answers apart (envelope.go), says what a failure means
// (failure.go), retries by that (retry.go), and reads and waits for
// configuration imports. Config.Clock times everything, and every text the
// package shows goes through Auth.Redact (SecretPattern).
//
// # Combining reads into batch requests
//
// A portal allows about 2 requests a second, shared with every other
// integration, so a client combines overlapping configuration.import.get
// reads (ConfigurationImportService.Get and the polls of Wait), unless
// Config.PlainReads turns it off for a proxy that refuses batch:
//
//   - A read that comes when the client is idle (nothing queued or in
//     flight, no answer in the last 5 ms) goes at once, as a plain
//     configuration.import.get: a lone read costs one request and no delay.
//   - Other reads are gathered, and sent once the requests in flight are
//     answered (at most 1 s) and no read has come for 5 ms (at most 250 ms
//     after the first; Terraform starts its reads about 1 ms apart), or at
//     once when 50 wait: batch requests of at most 50 commands (the
//     portal's limit). Callers of one process id share a command, "p<id>".
//   - Each caller gets its own status or error: result[key] is decoded as a
//     plain answer, result_error[key] becomes an *Error, and a key in
//     neither was not run and goes into the next request (a read left out
//     three times fails).
//   - The batch is sent as a plain request is, with the rate limit and the
//     retry policy; when it fails for good, every caller in it gets that
//     error. A command's transient error queues its read again after the
//     backoff, counted as a plain retry would be; OPERATION_TIME_LIMIT and
//     codes the policy does not know send the read alone, as a plain request.
//   - A caller's context governs only its own wait: when it ends, that
//     caller gets its error at once and the request goes on for the others,
//     on a context that ends at the latest of their deadlines and is
//     cancelled when no caller is left.
//   - Waits that poll at the same interval share poll rounds, one interval
//     apart from the first poll of the first of them: after its first poll,
//     a wait polls at the last round no later than its own interval would
//     (so one that joins later polls once more, sooner, to fall into step).
//     A round's reads go once all who booked it have sent theirs (a stalled
//     one is waited for 100 ms at most): N waits cost ceil(N/50) requests a
//     round. Polls that the agent's rhythm moved come at whole seconds and
//     book that second alike, so waits in step with one agent share too.
//
// # Waiting for an import
//
// Wait polls until the import is F, E or U: at once, then one poll per
// PollInterval from the start of the previous one, until it sees the import
// change (ImportStatus.ChangedFrom). From then on it polls in step with the
// portal's agent, whose next run falls due a minute after the previous one
// ended:
//
//   - On a quiet portal, where requests start due runs, a poll by which a
//     run fell due starts it, and the poll a run and a minute later sees
//     that run and starts the next: one request a run (runs are taken to
//     show within 3 s until one is seen to take longer). Short follow-ups
//     (2 to 20 s) look for a run that ends the import (P with action false,
//     or a recorded exception) and for an awaited run that did not show,
//     and so learn how long runs take.
//   - On a busy portal the polls come a minute after each change; on a
//     cron-driven one just after the minute, skipping ticks when changes
//     come minutes apart.
//   - The poll before the first change may have started its run: if it
//     came a minute or more after one that saw the same status, one
//     follow-up a run and a minute after it starts the next; otherwise two,
//     5 and 10 s past a minute after it, start the next run and see it.
//     Where something else starts the runs, these find nothing or a change
//     nobody awaited, which says so.
//   - Changes faster than the agent makes them (a test's emulator), or more
//     follow-ups than a rhythm needs, keep the plain interval.
//   - With a deadline in ctx, a poll due after it comes just before it.
//
// Each poll is a read with its retries and its timeouts
// (request_timeouts.go): a portal that never answered fails a wait after
// two timeouts and a backoff (61 s at most when the connection gets no
// reply, 141 s when it is accepted and nothing comes). After a fault or the
// rate limit, and after a connection problem or a timeout once the portal
// has answered, the wait reports the failure through OnPollError and polls
// on schedule; any other failure ends it.
package bitrix24
