// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// interruptRuns is how often each interruption is tried: the error used to
// be lost in a race, in 2 of 3 runs, so one run proves little.
const interruptRuns = 3

// interruptedRun is what one interrupted CLI run showed.
type interruptedRun struct {
	output string // stdout and stderr
	err    error
}

// checkCancelledAction fails unless the run failed, with the action's
// cancelled error, and without "Apply complete!".
func checkCancelledAction(t *testing.T, id int64, name string, run interruptedRun) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(run.err, &exit) || exit.ExitCode() == 0 {
		t.Errorf("%s: the CLI ended with %v; want a non-zero exit:\n%s", name, run.err, run.output)
		return
	}
	for _, want := range []string{
		`Error: (Waiting for the configuration import was cancelled|Error when invoking action)`,
		fmt.Sprintf(`The wait for configuration import %d was cancelled after \d+s and \d+ polls?\. Its last known state: `+
			`running - loading CRM_STATUS, step 0; as the portal reported it: P \(processing\), action load, step 0, `+
			`section CRM_STATUS\. The import goes on in the portal`, id),
	} {
		if !expectError(want).MatchString(run.output) {
			t.Errorf("%s (exit %d): want the output to match %s:\n%s", name, exit.ExitCode(), want, run.output)
		}
	}
	if strings.Contains(run.output, "Apply complete!") {
		t.Errorf("%s: the CLI says the apply completed:\n%s", name, run.output)
	}
}

var interruptions = []struct {
	name   string
	signal os.Signal
}{{"SIGINT", os.Interrupt}, {"SIGTERM", syscall.SIGTERM}}

// Ctrl-C, or a CI runner's SIGTERM, during `terraform apply -invoke` on a
// wait fails the run with the action's error: the wait was cancelled, where
// the import was, and that it goes on. Terraform used to print "Apply
// complete!" and exit 0 in a race (protocolServer's comment says why), so
// each signal is sent several times, a while after the wait has started.
func TestAccProtocolServer_interruptedInvokeFails(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs
	advanceTo(t, portal, id, "load")
	w := cli.workDir(t, portal.providerConfig()+actionConfig("crm", id, ""))
	w.mustRun("init", "-input=false", "-no-color")

	for _, in := range interruptions {
		for i := range interruptRuns {
			stdout, stderr, err := w.runSignalled(in.signal, fmt.Sprintf("import %d: running", id),
				"apply", "-input=false", "-auto-approve", "-no-color", "-invoke=action."+actionType+".crm")
			checkCancelledAction(t, id, fmt.Sprintf("%s, run %d", in.name, i+1), interruptedRun{stdout + stderr, err})
		}
	}
}

// The same during an apply whose resource triggers the wait at create
// (action_trigger): each run starts from an empty state, so that the
// resource is created and triggers the action again.
func TestAccProtocolServer_interruptedTriggerFails(t *testing.T) {
	t.Parallel()
	cli := cliForActions(t, actionsSince, "an action")
	portal, id := portalWithImport(t, emulator.Script{Sections: []string{"CRM_STATUS"}}) // the agent never runs
	advanceTo(t, portal, id, "load")
	w := cli.workDir(t, portal.providerConfig()+actionConfig("crm", id, "")+fmt.Sprintf(`
resource "terraform_data" "crm_import" {
  input = %d

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.%s.crm]
    }
  }
}
`, id, actionType))
	w.mustRun("init", "-input=false", "-no-color")

	for _, in := range interruptions {
		for i := range interruptRuns {
			if err := os.Remove(filepath.Join(w.dir, "terraform.tfstate")); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			stdout, stderr, err := w.runSignalled(in.signal, fmt.Sprintf("import %d: running", id),
				"apply", "-input=false", "-auto-approve", "-no-color")
			checkCancelledAction(t, id, fmt.Sprintf("%s, run %d", in.name, i+1), interruptedRun{stdout + stderr, err})
		}
	}
}

// fakeActionServer is an action's server whose stream, once StopProvider
// has cancelled it, pushes what a cancelled wait would: a progress line that
// crossed the stop, then the completed event with the error.
type fakeActionServer struct {
	tfprotov6.ProviderServerWithActions
	stop chan struct{}
}

func (f *fakeActionServer) InvokeAction(context.Context, *tfprotov6.InvokeActionRequest) (*tfprotov6.InvokeActionServerStream, error) {
	return &tfprotov6.InvokeActionServerStream{Events: func(push func(tfprotov6.InvokeActionEvent) bool) {
		if !push(tfprotov6.InvokeActionEvent{Type: tfprotov6.ProgressInvokeActionEventType{Message: "before the stop"}}) {
			return
		}
		<-f.stop
		if !push(tfprotov6.InvokeActionEvent{Type: tfprotov6.ProgressInvokeActionEventType{Message: "after the stop"}}) {
			return
		}
		time.Sleep(50 * time.Millisecond) // the wait returning
		push(tfprotov6.InvokeActionEvent{Type: tfprotov6.CompletedInvokeActionEventType{Diagnostics: []*tfprotov6.Diagnostic{{
			Severity: tfprotov6.DiagnosticSeverityError, Summary: "Waiting for the configuration import was cancelled"}}}})
	}}, nil
}

func (f *fakeActionServer) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	close(f.stop)
	return &tfprotov6.StopProviderResponse{}, nil
}

// StopProvider returns only after the action in flight has sent its
// completed event (terraform-plugin-go drops events after it returns), and
// the action's progress events after the stop are dropped (Terraform halts
// at them without reading the completed event).
func TestProtocolServer_stopKeepsTheCompletedEventOnly(t *testing.T) {
	t.Parallel()
	s := &protocolServer{ProviderServerWithActions: &fakeActionServer{stop: make(chan struct{})}, streams: map[chan struct{}]struct{}{}}
	stream, err := s.InvokeAction(context.Background(), &tfprotov6.InvokeActionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		events []string
	)
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	started, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for e := range stream.Events {
			switch e := e.Type.(type) {
			case tfprotov6.ProgressInvokeActionEventType:
				record("progress: " + e.Message)
				close(started)
			case tfprotov6.CompletedInvokeActionEventType:
				record("completed: " + e.Diagnostics[0].Summary)
			}
		}
	}()
	<-started
	if _, err := s.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{}); err != nil {
		t.Fatal(err)
	}
	record("StopProvider returned")
	<-done

	want := []string{"progress: before the stop", "completed: Waiting for the configuration import was cancelled", "StopProvider returned"}
	if got := strings.Join(events, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
