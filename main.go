// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	runtimedebug "runtime/debug"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/provider"
)

// Run "go generate" in tools/ to format examples and regenerate docs/.

// softMemoryLimit is the Go heap size above which the GC works harder.
const softMemoryLimit = 20 << 20

// version is set by goreleaser (-ldflags "-X main.version=...") for releases.
var version = "dev"

func main() {
	var debug, showVersion bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.BoolVar(&showVersion, "version", false, "print the provider version and exit")
	flag.Parse()

	if showVersion {
		fmt.Println(version)
		return
	}

	// Every read Terraform runs at once holds plugin-protocol buffers while
	// it waits; with Go's default GC pacing 200 concurrent waits peaked at
	// about 51 MiB RSS. A soft limit makes the GC collect before the heap
	// doubles (about 39 MiB then); GOMEMLIMIT, when set, still wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		runtimedebug.SetMemoryLimit(softMemoryLimit)
	}

	// No @caller on log lines: the client logs through one bridge, so every
	// location would be the same line of it, and the progress lines
	// documented for TF_LOG_PROVIDER=INFO carry only the message.
	opts := []tf6server.ServeOpt{tf6server.WithoutLogLocation()}
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	err := tf6server.Serve("registry.terraform.io/b24-terraform/bitrix24", provider.NewProtocol6Server(version), opts...)
	if err != nil {
		log.Fatal(err.Error())
	}
}
