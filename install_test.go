// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	goversion "github.com/hashicorp/go-version"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// readmeBlocks returns the fenced blocks of one language in the README
// section under heading (up to the next "## " heading).
func readmeBlocks(t *testing.T, readme, heading, lang string) []string {
	t.Helper()
	_, section, found := strings.Cut(readme, "\n## "+heading+"\n")
	if !found {
		t.Fatalf("README.md has no section %q", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, part := range strings.Split(section, "```"+lang+"\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, block)
	}
	if len(blocks) == 0 {
		t.Fatalf("README.md's section %q has no %s block", heading, lang)
	}
	return blocks
}

// installCommands are README's install commands: the clone, the install
// and the removal, comments dropped.
func installCommands(t *testing.T, readme string) (clone, install, uninstall string) {
	t.Helper()
	var commands []string
	for _, line := range strings.Split(readmeBlocks(t, readme, "Install from source", "shell")[0], "\n") {
		if command, _, _ := strings.Cut(line, "#"); strings.TrimSpace(command) != "" {
			commands = append(commands, strings.TrimSpace(command))
		}
	}
	if len(commands) != 3 {
		t.Fatalf("README's install block has %d commands, want 3 (clone, install, removal): %q", len(commands), commands)
	}
	return commands[0], commands[1], commands[2]
}

// A new user's install, as README.md says it, in a HOME of its own and with
// no CLI configuration: README's commands install the provider where
// terraform init finds it, at a version the quick start's constraint
// accepts; init and plan of the quick start's configuration then run
// against the emulator with no dev_overrides and no warning but the one
// Terraform prints on the first init of any provider not from a registry,
// which README explains; the removal command removes it. (Beside a
// registry provider, init would also fetch that one from its registry,
// which tests cannot reach; Terraform treats the two sources apart.)
func TestInstall_readmeCommandsInACleanHome(t *testing.T) {
	terraform := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if terraform == "" {
		var err error
		if terraform, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH")
		}
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	clone, install, uninstall := installCommands(t, readme)
	// The test runs in a checkout already; the clone must lead into one.
	if !regexp.MustCompile(`^git clone https://github\.com/b24-terraform/terraform-provider-bitrix24(\.git)? && cd terraform-provider-bitrix24$`).MatchString(clone) {
		t.Errorf("README's first install command is %q, want the clone of the repository and a cd into it", clone)
	}
	required := readmeBlocks(t, readme, "Install from source", "terraform")[0]
	quickStart := readmeBlocks(t, readme, "Quick start", "terraform")[0]
	if !strings.Contains(quickStart, required) {
		t.Errorf("the quick start's configuration does not require the provider as *Install from source* says:\n%s", required)
	}

	home := t.TempDir()
	env := cleanEnvironment(t, home)
	shell := func(command string) string {
		t.Helper()
		cmd := exec.Command("bash", "-c", command)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", command, err, out)
		}
		return string(out)
	}
	shell(install)
	installed, err := filepath.Glob(filepath.Join(home, ".terraform.d", "plugins", "registry.terraform.io", "b24-terraform", "bitrix24",
		"*", runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-bitrix24_v*"))
	if err != nil || len(installed) != 1 {
		t.Fatalf("%q installed %q into ~/.terraform.d/plugins, want one provider for this platform", install, installed)
	}
	v := filepath.Base(filepath.Dir(filepath.Dir(installed[0])))
	constraint := regexp.MustCompile(`version\s*=\s*"([^"]+)"`).FindStringSubmatch(required)
	if constraint == nil {
		t.Fatalf("README's provider block has no version constraint:\n%s", required)
	}
	if c, err := goversion.NewConstraint(constraint[1]); err != nil || !c.Check(goversion.Must(goversion.NewVersion(v))) {
		t.Errorf("make install installed version %s, which the quick start's %q does not accept (%v)", v, constraint[1], err)
	}
	if reported, err := exec.Command(installed[0], "-version").Output(); err != nil || strings.TrimSpace(string(reported)) != v {
		t.Errorf("the installed provider reports version %q (%v), want %s", reported, err, v)
	}

	webhookURL, processID := registeredImport(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(quickStart), 0o600); err != nil {
		t.Fatal(err)
	}
	tf := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, terraform, append([]string{"-chdir=" + dir}, args...)...)
		cmd.Env = append(env, "BITRIX24_WEBHOOK_URL="+webhookURL)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		out := stdout.String() + stderr.String()
		t.Logf("terraform %s:\n%s", strings.Join(args, " "), out)
		return out
	}

	// The first init records the provider in the lock file: Terraform warns
	// that a provider with no signed checksums is locked for this platform
	// only, whatever installed it (README says so). No other warning.
	const lockWarning = "Warning: Incomplete lock file information for providers"
	if !strings.Contains(readme, "Incomplete lock file\ninformation for providers") && !strings.Contains(readme, "Incomplete lock file information for providers") {
		t.Error("README.md does not explain the warning of the first terraform init")
	}
	out := tf("init", "-input=false", "-no-color")
	if !strings.Contains(out, "Installed b24-terraform/bitrix24 v"+v) {
		t.Errorf("terraform init did not install the provider from ~/.terraform.d/plugins")
	}
	if rest := strings.Replace(out, lockWarning, "", 1); strings.Contains(rest, "Warning") {
		t.Errorf("terraform init printed a warning besides the lock file's")
	}
	for _, args := range [][]string{
		{"init", "-input=false", "-no-color"},
		{"plan", "-input=false", "-no-color", fmt.Sprintf("-var=import_process_id=%d", processID)},
	} {
		out := tf(args...)
		if strings.Contains(out, "Warning") {
			t.Errorf("terraform %s printed a warning", args[0])
		}
		if args[0] == "plan" && !strings.Contains(out, "bitrix24_configuration_import_wait.crm will be created") {
			t.Errorf("terraform plan does not create the quick start's resource")
		}
	}

	shell(uninstall)
	if _, err := os.Stat(installed[0]); !os.IsNotExist(err) {
		t.Errorf("%q left %s behind (%v)", uninstall, installed[0], err)
	}
}

// cleanEnvironment is this process's environment with home as HOME, no
// Terraform settings (the machine's TF_CLI_CONFIG_FILE may name a missing
// file, which makes Terraform warn) and no webhook; the Go caches stay
// where they are, as a clean HOME would only rebuild everything.
func cleanEnvironment(t *testing.T, home string) []string {
	t.Helper()
	goEnv := map[string]string{}
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH", "GOENV").Output()
	if err != nil || json.Unmarshal(out, &goEnv) != nil {
		t.Fatalf("go env: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, isGo := goEnv[name]; !strings.HasPrefix(name, "TF_") && !strings.HasPrefix(name, "BITRIX24_") && name != "HOME" && !isGo {
			env = append(env, kv)
		}
	}
	for name, value := range goEnv {
		env = append(env, name+"="+value)
	}
	return append(env, "HOME="+home, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

// registeredImport serves the emulator on loopback, registers an import as
// the registry pages' call does, and returns the webhook URL and its id.
func registeredImport(t *testing.T) (string, int64) {
	t.Helper()
	portal := emulator.New(emulator.Config{Manifests: emulator.RESTImportManifests, AgentPeriod: -1})
	server := httptest.NewUnstartedServer(portal)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server.Listener = listener
	server.Start()
	t.Cleanup(func() {
		server.Close()
		portal.Close()
	})
	webhookURL := server.URL + portal.WebhookPath()
	resp, err := http.Post(webhookURL+"configuration.import.register.json", "application/json", strings.NewReader(
		`{"data": {"MANIFEST": {"CODE": "landing_page"}, "STRUCTURE": {"LANDING": ["https://files.example.com/site/page1.json"]}, "FILES": []}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct{ Result struct{ ProcessID int64 } }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Result.ProcessID == 0 {
		t.Fatalf("register: HTTP %d, %v", resp.StatusCode, err)
	}
	return webhookURL, answer.Result.ProcessID
}
