// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// A command fault is an error one command inside a batch gets, in
// result_error, while the batch itself is answered (HTTP 200) and the other
// commands run: what a portal does when one command meets its own error.
// Once a command met it, the fault sticks to that command's process id: the
// next reads of that id get it too, until its Count is used up, whether
// they come as commands or as plain requests (then as the whole answer, with
// the fault's status), as a portal whose trouble lasts a while answers them.

type queuedCommandFault struct {
	method    string
	fault     Fault
	left      int
	processID string // "" until a command met it
}

// InjectCommandFault makes the next command of method (lower-case, without
// .json) inside a batch get f's error in result_error, and the f.Count-1
// reads of the same process id after it get f too, as commands or plain
// requests. f must be an error envelope, such as ErrorFault or
// QueryLimitExceeded makes.
func (q *faultQueue) InjectCommandFault(method string, f Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.commandFaults = append(q.commandFaults, queuedCommandFault{method: normalizeMethod(method), fault: f, left: max(f.Count, 1)})
}

// takeCommandFault consumes one use of a command fault for a read of
// method and processID: one bound to that id, else, inside a batch, the
// first unbound one, which then binds to it.
func (q *faultQueue) takeCommandFault(method, processID string, inBatch bool) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, bound := range []bool{true, false} {
		if !bound && !inBatch {
			break
		}
		for i := range q.commandFaults {
			queued := &q.commandFaults[i]
			if queued.method != method || (bound && queued.processID != processID) || (!bound && queued.processID != "") {
				continue
			}
			queued.processID = processID
			f := queued.fault
			queued.left--
			if queued.left == 0 {
				q.commandFaults = append(q.commandFaults[:i], q.commandFaults[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

// commandError is a fault's error envelope as a result_error entry.
func (f Fault) commandError() *phpArray {
	var envelope struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	body := f.Body
	if f.render != nil {
		body = f.render(time.Now())
	}
	if err := json.Unmarshal([]byte(body), &envelope); err != nil || envelope.Error == "" {
		panic(fmt.Sprintf("emulator: a command fault must be an error envelope, not %q", body))
	}
	return obj("error", envelope.Error, "error_description", envelope.Description)
}

// processIDOf is the processId parameter as the portal reads it, for
// matching reads of one import; "" when there is none.
func processIDOf(params *phpArray) string {
	v := params.get("processId")
	if v == nil {
		return ""
	}
	return fmt.Sprint(phpInt(v))
}
