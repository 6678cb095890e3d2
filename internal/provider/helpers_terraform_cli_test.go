// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// terraform-plugin-testing runs init, plan, apply and show, but not
// `terraform apply -invoke=...`, the way a pipeline runs an action. The
// tests of that drive the CLI themselves: the provider is served from the
// test process, as terraform-plugin-testing serves it, and Terraform
// reattaches to it instead of installing it.

// terraformCLI is the CLI the acceptance tests run: TF_ACC_TERRAFORM_PATH,
// else terraform on PATH, as terraform-plugin-testing picks it.
type terraformCLI struct {
	path    string
	name    string // Terraform or OpenTofu
	version *version.Version
}

// terraformPath is the CLI the acceptance tests run: TF_ACC_TERRAFORM_PATH,
// else terraform on PATH.
func terraformPath(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("TF_ACC_TERRAFORM_PATH"); path != "" {
		return path
	}
	path, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH")
	}
	return path
}

// cliForActions returns the CLI, or skips the test, saying why, when the
// CLI has no actions or is older than minimum (a feature of actions that
// came later); why names that feature.
func cliForActions(t *testing.T, minimum *version.Version, why string) *terraformCLI {
	t.Helper()
	path := terraformPath(t)
	cli := &terraformCLI{path: path, name: "Terraform"}
	out, err := exec.Command(path, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %v", path, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v", path, err)
	}
	if cli.version, err = version.NewVersion(v.Version); err != nil {
		t.Fatalf("%s version -json: %v", path, err)
	}
	if text, _ := exec.Command(path, "version").Output(); bytes.HasPrefix(text, []byte("OpenTofu")) {
		cli.name = "OpenTofu"
		t.Skipf("%s (OpenTofu %s): OpenTofu has no actions as of 1.12; %s", path, cli.version, runActionTestsHint)
	}
	if cli.version.Core().LessThan(minimum) {
		t.Skipf("%s is Terraform %s; %s needs Terraform %s or later. %s", path, cli.version, why, minimum, runActionTestsHint)
	}
	return cli
}

const runActionTestsHint = "`make compat` runs these tests on Terraform 1.14 and 1.16 " +
	"(or set TF_ACC_TERRAFORM_PATH to such a CLI)."

// skipBelowFor is tfversion.SkipBelow that also says why the test needs the
// version, for the skip reasons that make compat lists.
type skipBelowFor struct {
	minimum *version.Version
	why     string
}

func (s skipBelowFor) CheckTerraformVersion(ctx context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	tfversion.SkipBelow(s.minimum).CheckTerraformVersion(ctx, req, resp)
	if resp.Skip != "" {
		resp.Skip += ": " + s.why + ". " + runActionTestsHint
	}
}

// workDir is a Terraform working directory holding one configuration.
type workDir struct {
	t   *testing.T
	cli *terraformCLI
	dir string
}

func (cli *terraformCLI) workDir(t *testing.T, config string) *workDir {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return &workDir{t: t, cli: cli, dir: dir}
}

// run runs the CLI with args against a fresh in-process provider, as
// terraform-plugin-testing serves one per command; it returns what the CLI
// printed and its error (an *exec.ExitError for a failed command).
func (w *workDir) run(args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	return w.runSignalled(nil, "", args...)
}

// runSignalled is run that sends the CLI sig, as Ctrl-C or a CI runner's
// SIGTERM would, once its output shows the text shown, if it is still
// running then. Waiting for the CLI to have printed a line, not for the
// provider to have sent it, keeps the signal from crossing an event on its
// way: a stopped Terraform halts at any event it reads after the stop.
func (w *workDir) runSignalled(sig os.Signal, shown string, args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	reattach := serveTestProvider(w.t)
	defer reattach.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.cli.path, append([]string{"-chdir=" + w.dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"TF_REATTACH_PROVIDERS="+reattach.env,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=", "TF_LOG_PROVIDER=")
	out := &watchedBuffer{text: shown, seen: make(chan struct{})}
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errOut
	if err = cmd.Start(); err != nil {
		return "", "", err
	}
	exited := make(chan struct{})
	defer close(exited)
	if sig != nil {
		go func() {
			select {
			case <-out.seen:
				_ = cmd.Process.Signal(sig)
			case <-exited:
			}
		}()
	}
	err = cmd.Wait()
	return out.String(), errOut.String(), err
}

// watchedBuffer is the CLI's stdout: seen is closed once text appears in it.
type watchedBuffer struct {
	text string
	seen chan struct{}

	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
}

func (b *watchedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if !b.closed && b.text != "" && strings.Contains(b.buf.String(), b.text) {
		close(b.seen)
		b.closed = true
	}
	return n, err
}

func (b *watchedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustRun is run that fails the test when the command fails.
func (w *workDir) mustRun(args ...string) string {
	w.t.Helper()
	stdout, stderr, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// servedProvider is a provider served for one CLI command.
type servedProvider struct {
	env    string // the value of TF_REATTACH_PROVIDERS
	cancel func()
	closed chan struct{}
}

func (s *servedProvider) stop() {
	s.cancel()
	<-s.closed
}

// serveTestProvider serves the provider as testProviderFactories makes it
// (fast polls and retries, no rate limit), under the address Terraform
// gives a configuration without required_providers.
func serveTestProvider(t *testing.T) *servedProvider {
	t.Helper()
	factory, err := testProviderFactories()["bitrix24"]()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	config := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	const address = "registry.terraform.io/hashicorp/bitrix24"
	go func() {
		_ = tf6server.Serve(address, func() tfprotov6.ProviderServer { return factory },
			tf6server.WithDebug(ctx, config, closed),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithLoggingSink(t))
	}()
	var c *plugin.ReattachConfig
	select {
	case c = <-config:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider did not start serving within 30s")
	}
	reattach, err := json.Marshal(map[string]any{address: map[string]any{
		"Protocol": c.Protocol, "ProtocolVersion": c.ProtocolVersion, "Pid": c.Pid, "Test": c.Test,
		"Addr": map[string]string{"Network": c.Addr.Network(), "String": c.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &servedProvider{env: string(reattach), cancel: cancel, closed: closed}
}

// jsonMessage is one line of the CLI's -json output (the fields used here).
type jsonMessage struct {
	Level      string `json:"@level"`
	Message    string `json:"@message"`
	Type       string `json:"type"`
	Diagnostic *struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
	} `json:"diagnostic"`
	Progress string `json:"-"`
}

// jsonMessages parses -json output; action_progress messages keep their
// message text in Progress.
func jsonMessages(t *testing.T, stdout string) []jsonMessage {
	t.Helper()
	var messages []jsonMessage
	scanner := bufio.NewScanner(strings.NewReader(stdout))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var m jsonMessage
		var hook struct {
			Hook struct {
				Message string `json:"message"`
			} `json:"hook"`
		}
		line := scanner.Bytes()
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("a line of -json output is not JSON: %v: %s", err, line)
		}
		if m.Type == "action_progress" {
			_ = json.Unmarshal(line, &hook)
			m.Progress = hook.Hook.Message
		}
		messages = append(messages, m)
	}
	return messages
}

// progressOf returns the action_progress messages, in order.
func progressOf(messages []jsonMessage) []string {
	var progress []string
	for _, m := range messages {
		if m.Type == "action_progress" {
			progress = append(progress, m.Progress)
		}
	}
	return progress
}

func (m jsonMessage) String() string {
	if m.Diagnostic != nil {
		return fmt.Sprintf("%s: %s: %s", m.Diagnostic.Severity, m.Diagnostic.Summary, m.Diagnostic.Detail)
	}
	return m.Message
}
